import { createHash } from 'node:crypto';
import { FheCompileError } from './errors';
import { runTracedStages } from './run-traced-stages';
import { traceOnnxBytes } from './trace-onnx-bytes';

/** Observed inputs of one activation (all its features pooled): range and a histogram over [min, max]. */
export type ActivationCalibration = { name: string; op: string; size: number; count: number; min: number; max: number; histogram: number[] };

/**
 * What `calibrateActivations` measured, as stored beside a model (`<model>.calibration.json`). `margin` widens each
 * observed range by that fraction of its width on both sides before fitting.
 */
export type FheCalibration = {
  version: 1;
  /** SHA-256 of the ONNX bytes the ranges were measured on: a calibration never applies to another model. */
  modelSha256: string;
  margin: number;
  rows: number;
  source?: string;
  activations: ActivationCalibration[];
};

/** Default widening of observed ranges: 10 % of the width on each side. */
export const DEFAULT_CALIBRATION_MARGIN = 0.1;
const BINS = 256;

export type CalibrateActivationsOptions = { margin?: number; source?: string };

export function modelSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Measures the input range and distribution of every non-polynomial activation on calibration rows by a plaintext
 * forward pass (runTracedStages). Rows are only read here, never stored: the result holds ranges and counts.
 *
 * @throws {FheCompileError} when the model cannot be traced, or `rows` is empty or of the wrong width.
 */
export function calibrateActivations(bytes: Uint8Array, rows: readonly ArrayLike<number>[], options: CalibrateActivationsOptions = {}): FheCalibration {
  const traced = traceOnnxBytes(bytes);
  if (rows.length === 0) throw new FheCompileError('the calibration set is empty', undefined, undefined, 'calibration_malformed');
  const values = new Map<number, number[]>();
  rows.forEach((row, r) => {
    if (row.length !== traced.inputSize) {
      throw new FheCompileError(`calibration row ${r + 1} has ${row.length} features; the model takes ${traced.inputSize}`, undefined, undefined, 'calibration_malformed');
    }
    runTracedStages(traced.stages, row, (stage, input) => {
      let list = values.get(stage);
      if (!list) values.set(stage, (list = []));
      for (const v of input) list.push(v);
    });
  });
  const activations: ActivationCalibration[] = [];
  traced.stages.forEach((st, s) => {
    if (st.kind !== 'activation') return;
    const v = values.get(s) ?? [];
    let min = Infinity;
    let max = -Infinity;
    for (const x of v) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const histogram = new Array<number>(BINS).fill(0);
    const width = max - min;
    for (const x of v) histogram[width > 0 ? Math.min(BINS - 1, Math.floor(((x - min) / width) * BINS)) : 0]! += 1;
    activations.push({ name: st.name, op: st.op, size: st.size, count: v.length, min, max, histogram });
  });
  return {
    version: 1,
    modelSha256: modelSha256(bytes),
    margin: options.margin ?? DEFAULT_CALIBRATION_MARGIN,
    rows: rows.length,
    ...(options.source !== undefined ? { source: options.source } : {}),
    activations,
  };
}
