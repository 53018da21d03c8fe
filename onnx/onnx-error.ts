/** Codes for a model file Veil cannot read; the compiler adds its own for graphs it cannot run. */
export type OnnxErrorCode = 'onnx_malformed' | 'onnx_unsupported_tensor';

/** A model file is not a readable ONNX model. The message names what is wrong; it never quotes weights. */
export class OnnxError extends Error {
  override name = 'OnnxError' as const;
  constructor(readonly code: OnnxErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}
