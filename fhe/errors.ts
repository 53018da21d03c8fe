/**
 * Why a model cannot become an FHE plan. Stable across releases; the gateway maps every one to `model_unsupported`.
 * - `model_unsupported`: an op, shape or graph the compiler cannot evaluate;
 * - `calibration_missing`: a non-polynomial activation and no calibration for it (or none at all);
 * - `calibration_malformed`: a calibration file that is not valid JSON of the expected shape, or belongs to another model;
 * - `activation_range_degenerate`: an activation whose calibrated input range is (almost) a single point;
 * - `depth_exceeded`: the approximations need more multiplicative depth than the budget or any parameter set allows.
 */
export type FheCompileErrorCode = 'model_unsupported' | 'calibration_missing' | 'calibration_malformed' | 'activation_range_degenerate' | 'depth_exceeded';

/**
 * An ONNX model that cannot be compiled to a CKKS plan. The message names the node, its op and the reason;
 * it never quotes weights.
 */
export class FheCompileError extends Error {
  override name = 'FheCompileError' as const;
  readonly code: FheCompileErrorCode;
  constructor(message: string, readonly node?: string, readonly op?: string, code: FheCompileErrorCode = 'model_unsupported') {
    super(node !== undefined ? `node "${node}" (${op ?? '?'}): ${message}` : message);
    this.code = code;
  }
}

/** Client-supplied bytes or values the server or SDK refuses. Messages never contain the offending bytes. */
export type FheInputErrorCode = 'invalid_ciphertext' | 'invalid_keys' | 'invalid_input';

export class FheInputError extends Error {
  override name = 'FheInputError' as const;
  constructor(readonly code: FheInputErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Whether SEAL's WebAssembly runtime aborted (Emscripten `abort()`, e.g. on truncated serialised keys): the module's
 * state is undefined afterwards (memory it was allocating is lost), so whoever owns that runtime must retire it.
 */
export function isSealAbort(err: unknown): boolean {
  // WebAssembly is a runtime global here (Node and browsers); the project's lib settings do not declare it.
  const RuntimeError = (globalThis as unknown as { WebAssembly?: { RuntimeError: abstract new () => Error } }).WebAssembly?.RuntimeError;
  if (!RuntimeError) return false;
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RuntimeError) return true;
  }
  return false;
}
