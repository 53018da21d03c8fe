import fs from 'node:fs';
import path from 'node:path';
import { API_KEY_MODES, type ApiKeyMode } from './call-guard';

/** One key as stored: everything but the key itself. */
export type ApiKeyRecord = {
  id: string;
  /** SHA-256 of the whole key, hex (see `hashApiKey`). */
  sha256: string;
  name: string;
  createdAt: string;
  /** Model ids the key may use, or '*' for every served model. */
  models: '*' | string[];
  modes: ApiKeyMode[];
  /** Per-key token bucket, or null for no limit. */
  rate: { perSecond: number; burst: number } | null;
  /** When the key was revoked (it is kept so `veil keys list` shows the history), or null. */
  revokedAt: string | null;
  /**
   * With payments on: the most this key's calls may be charged in total (token atomic units, a decimal string), billed
   * through the payment ledger like a channel (issue #11, the enterprise alternative without a wallet); absent or null:
   * the key's calls must pay with vouchers.
   */
  budget?: string | null;
};

export type KeysFile = { version: 1; keys: ApiKeyRecord[] };

/** A keys file that cannot be used; the message names the file and what is wrong. */
export class KeysFileError extends Error {
  override name = 'KeysFileError' as const;
  readonly code = 'auth_keys_file_invalid' as const;
}

export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `auth.keysFile` as a path: "default" is `<dataDir>/api-keys.json`. */
export function resolveKeysFile(keysFile: string, dataDir: string): string {
  return keysFile === 'default' ? path.join(dataDir, 'api-keys.json') : path.resolve(keysFile);
}

/**
 * Reads and validates a keys file; a missing file is an empty one (no key is valid yet). Refuses a file that group or
 * others may write, or that another user owns: whoever can write it can grant themselves a key.
 */
export function readKeysFile(file: string): KeysFile {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (process.platform !== 'win32' && (stat.mode & 0o022) !== 0) {
      throw new KeysFileError(`${file} is writable by group or others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${file}`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
      throw new KeysFileError(`${file} is owned by uid ${stat.uid}, not by this user (${uid}) or root; only the operator's own file is trusted`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    if (err instanceof KeysFileError) throw err;
    throw new KeysFileError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeysFileError(`${file}: not valid JSON`);
  }
  return parseKeysFile(json, file);
}

/** Validates the file's JSON shape field by field, naming the first problem. */
export function parseKeysFile(json: unknown, file: string): KeysFile {
  const fail = (where: string, what: string): never => {
    throw new KeysFileError(`${file}: ${where} ${what}`);
  };
  if (!isObject(json) || json.version !== 1 || !Array.isArray(json.keys)) fail('', 'must be {"version": 1, "keys": [...]}');
  const seen = new Set<string>();
  const keys = (json as { keys: unknown[] }).keys.map((raw, i): ApiKeyRecord => {
    const at = `keys[${i}]`;
    if (!isObject(raw)) return fail(at, 'must be an object');
    const { id, sha256, name, createdAt, models, modes, rate, revokedAt, budget } = raw;
    if (typeof id !== 'string' || !/^[0-9a-f]{16}$/.test(id)) fail(`${at}.id`, 'must be 16 lowercase hex digits');
    if (seen.has(id as string)) fail(`${at}.id`, `"${id}" appears twice`);
    seen.add(id as string);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fail(`${at}.sha256`, 'must be 64 lowercase hex digits');
    if (typeof name !== 'string') fail(`${at}.name`, 'must be a string');
    if (typeof createdAt !== 'string') fail(`${at}.createdAt`, 'must be a string');
    if (models !== '*' && !(Array.isArray(models) && models.length > 0 && models.every((m) => typeof m === 'string' && MODEL_ID_PATTERN.test(m)))) {
      fail(`${at}.models`, 'must be "*" or a non-empty list of model ids');
    }
    if (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => (API_KEY_MODES as readonly unknown[]).includes(m))) {
      fail(`${at}.modes`, `must be a non-empty list of ${API_KEY_MODES.join(', ')}`);
    }
    if (rate !== null && !(isObject(rate) && isPositive(rate.perSecond) && Number.isInteger(rate.burst) && (rate.burst as number) >= 1)) {
      fail(`${at}.rate`, 'must be null or {"perSecond": > 0, "burst": integer >= 1}');
    }
    if (revokedAt !== null && typeof revokedAt !== 'string') fail(`${at}.revokedAt`, 'must be null or a string');
    if (budget !== undefined && budget !== null && !(typeof budget === 'string' && /^(0|[1-9][0-9]{0,37})$/.test(budget))) {
      fail(`${at}.budget`, 'must be null or a decimal string of token atomic units (e.g. "5000000")');
    }
    return {
      id: id as string, sha256: sha256 as string, name: name as string, createdAt: createdAt as string,
      models: models === '*' ? '*' : [...(models as string[])], modes: [...(modes as ApiKeyMode[])],
      rate: rate === null ? null : { perSecond: (rate as { perSecond: number }).perSecond, burst: (rate as { burst: number }).burst },
      revokedAt: revokedAt as string | null,
      ...(typeof budget === 'string' ? { budget } : {}),
    };
  });
  return { version: 1, keys };
}

/**
 * Writes the file atomically with mode 0600: a temporary file in the same directory, fsynced, then renamed over the
 * old one, so the gateway's watcher only ever reads a whole file (the old or the new).
 */
export function writeKeysFile(file: string, contents: KeysFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, `${JSON.stringify(contents, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * Read-modify-write under an exclusive lock file, so two `veil keys` commands at once cannot drop each other's change.
 * @returns what `change` returned
 */
export function updateKeysFile<T>(file: string, change: (contents: KeysFile) => T): T {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeysFileError(`${lock} exists: another veil keys command is running (if none is, remove the lock file)`);
    }
    throw err;
  }
  try {
    const contents = readKeysFile(file);
    const result = change(contents);
    writeKeysFile(file, contents);
    return result;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
