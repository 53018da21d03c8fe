import type { ActivationCalibration, FheCalibration } from './calibrate-activations';
import { modelSha256 } from './calibrate-activations';
import { FheCompileError } from './errors';

const malformed = (file: string, reason: string) => new FheCompileError(`calibration ${file}: ${reason}`, undefined, undefined, 'calibration_malformed');

/**
 * Parses and checks a stored calibration (`<model>.calibration.json`) against the model it is meant for.
 *
 * @throws {FheCompileError} `calibration_malformed` naming the field: not JSON, wrong version or shape, non-finite
 * numbers, or a calibration measured on different model bytes.
 */
export function parseCalibration(text: string, bytes: Uint8Array, file = 'file'): FheCalibration {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw malformed(file, 'is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed(file, 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) throw malformed(file, 'version must be 1');
  if (typeof o.modelSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.modelSha256)) throw malformed(file, 'modelSha256 must be a hex SHA-256');
  if (o.modelSha256 !== modelSha256(bytes)) throw malformed(file, 'was measured on a different model (modelSha256 does not match the ONNX bytes); recalibrate');
  if (typeof o.margin !== 'number' || !(o.margin >= 0 && o.margin <= 10)) throw malformed(file, 'margin must be a number in [0, 10]');
  if (!Number.isInteger(o.rows) || (o.rows as number) < 1) throw malformed(file, 'rows must be a positive integer');
  if (!Array.isArray(o.activations)) throw malformed(file, 'activations must be a list');
  const activations = o.activations.map((a, i): ActivationCalibration => {
    const at = `activations[${i}]`;
    if (typeof a !== 'object' || a === null) throw malformed(file, `${at} must be an object`);
    const e = a as Record<string, unknown>;
    if (typeof e.name !== 'string' || typeof e.op !== 'string') throw malformed(file, `${at}.name and .op must be strings`);
    for (const k of ['min', 'max'] as const) if (typeof e[k] !== 'number' || !Number.isFinite(e[k])) throw malformed(file, `${at}.${k} must be a finite number`);
    if ((e.min as number) > (e.max as number)) throw malformed(file, `${at}.min exceeds .max`);
    for (const k of ['size', 'count'] as const) if (!Number.isInteger(e[k]) || (e[k] as number) < 1) throw malformed(file, `${at}.${k} must be a positive integer`);
    if (!Array.isArray(e.histogram) || e.histogram.length < 2 || e.histogram.some((c) => !Number.isInteger(c) || c < 0)) {
      throw malformed(file, `${at}.histogram must be a list of at least 2 non-negative integer counts`);
    }
    return { name: e.name, op: e.op, size: e.size as number, count: e.count as number, min: e.min as number, max: e.max as number, histogram: e.histogram as number[] };
  });
  return { version: 1, modelSha256: o.modelSha256, margin: o.margin, rows: o.rows as number, ...(typeof o.source === 'string' ? { source: o.source } : {}), activations };
}
