import { OnnxError, readOnnxModel } from '../onnx';
import { FheCompileError } from './errors';
import { traceOnnxModel, type TraceOnnxModelResult } from './trace-onnx-model';

/**
 * Reads ONNX bytes and traces them into stages: the one entry the compiler, the calibration and the approximation
 * check share. @throws {FheCompileError} when the bytes are not a readable model, or it cannot be traced.
 */
export function traceOnnxBytes(bytes: Uint8Array): TraceOnnxModelResult {
  let model;
  try {
    model = readOnnxModel(bytes);
  } catch (err) {
    if (err instanceof OnnxError) throw new FheCompileError(`cannot read the model: ${err.message}`);
    throw err;
  }
  return traceOnnxModel(model);
}
