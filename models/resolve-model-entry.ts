import path from 'node:path';
import { BUNDLED_MODELS } from './bundled-models';

/**
 * A model named in configuration or on the command line: a bundled id, or a path to an .onnx file. `calibration` is
 * where its activation calibration lives (the bundled one, or `<model>.calibration.json` beside a file; it may not exist).
 */
export type ResolvedModelEntry = { id: string; file: string; description: string | undefined; calibration: string | undefined };

/**
 * Resolves one model entry: a bundled id to its committed file, or an `.onnx` path to an id (its base name) and an
 * absolute file. Returns a message naming the problem instead of throwing, so callers can report all bad entries
 * together in their own error type.
 */
export function resolveModelEntry(entry: string): ResolvedModelEntry | { error: string } {
  const bundled = (BUNDLED_MODELS as Record<string, { file: string; description: string; calibration?: string } | undefined>)[entry];
  if (bundled) return { id: entry, file: bundled.file, description: bundled.description, calibration: bundled.calibration };
  if (entry.toLowerCase().endsWith('.onnx')) {
    const file = path.resolve(entry);
    return { id: path.basename(entry).replace(/\.onnx$/i, ''), file, description: undefined, calibration: calibrationBeside(file) };
  }
  return { error: `"${entry}" is neither a bundled model (${Object.keys(BUNDLED_MODELS).join(', ')}) nor an .onnx file` };
}

/** `<dir>/<name>.calibration.json` for `<dir>/<name>.onnx`: where `veil fhe check --calibrate --write-calibration` puts it. */
export function calibrationBeside(onnxFile: string): string {
  return onnxFile.replace(/\.onnx$/i, '') + '.calibration.json';
}
