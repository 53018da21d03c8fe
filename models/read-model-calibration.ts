import fs from 'node:fs';
import { FheCompileError, parseCalibration, type FheCalibration } from '../fhe';

/**
 * Reads a model's stored activation calibration. A file that does not exist gives `undefined` (a model without
 * non-polynomial activations needs none; one with them then fails to compile with `calibration_missing`).
 *
 * @throws {FheCompileError} `calibration_malformed` for an unreadable, invalid or stale (other model bytes) file.
 */
export function readModelCalibration(file: string | undefined, modelBytes: Uint8Array): FheCalibration | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FheCompileError(`calibration ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, undefined, undefined, 'calibration_malformed');
  }
  return parseCalibration(text, modelBytes, file);
}
