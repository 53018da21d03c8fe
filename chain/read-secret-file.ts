import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { ChainError } from './errors';

export type ReadSecretFileParameters = {
  file: string;
  /** What the file holds, for messages ("key file", "simulated key file"). */
  what?: string;
  /** Skip the mode check (Windows has no POSIX modes); default: only on POSIX platforms. */
  checkMode?: boolean;
};

/**
 * Reads a file that holds a secret, refusing it when anyone but its owner may read or write it (any of the mode bits
 * 0o077). A key others can read is already leaked, and one others can write can be swapped; starting anyway would
 * hide that. The mode is taken from the open descriptor, so the file checked is the file read.
 *
 * @throws {ChainError} `private_key_missing` (cannot be read), `key_file_insecure` (group or others have access)
 * @example const text = readSecretFile({ file: '/etc/veil/operator.key' });
 */
export function readSecretFile({ file, what = 'key file', checkMode = process.platform !== 'win32' }: ReadSecretFileParameters): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ChainError('private_key_missing', `${what} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { details: { file } });
  }
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if (checkMode && (mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(3, '0');
      throw new ChainError(
        'key_file_insecure',
        `${what} ${file} has mode ${octal}: group or others can access it; it must be readable by its owner only (run: chmod 600 ${file})`,
        { details: { file, mode: octal } },
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
