import { ERROR_SPECS, isErrorCode } from './error-codes';
import { VeilError } from './veil-error';

/** A leaf module's typed error (fhe, onnx, attestation, chain, worker envelopes): a code plus a safe message. */
type CodedError = Error & { code: string; details?: Record<string, unknown>; param?: string };

/**
 * Leaf error codes that map to a public code. Leaf messages are written to be safe (they name the field
 * and the reason, never the data), so they pass through; anything unmapped becomes `internal`.
 */
const LEAF_CODES: Record<string, Parameters<typeof publicError>[0]> = {
  invalid_ciphertext: 'invalid_ciphertext',
  invalid_keys: 'invalid_keys',
  invalid_input: 'invalid_argument',
  model_unsupported: 'model_unsupported',
  onnx_malformed: 'model_unsupported',
  onnx_unsupported_tensor: 'model_unsupported',
  // FHE compile refusals of calibrated activations (issue #13, fhe/errors.ts).
  calibration_missing: 'model_unsupported',
  calibration_malformed: 'model_unsupported',
  activation_range_degenerate: 'model_unsupported',
  depth_exceeded: 'model_unsupported',
  // TEE node refusals (tee/ TeeError, relayed by gateway/tee): the rest are public codes of their own.
  tee_model_not_found: 'model_not_found',
};

function publicError(code: VeilError['code'], message: string | undefined, err: Error, details?: Record<string, unknown>, param?: string): VeilError {
  return new VeilError(code, message, { cause: err, details, param });
}

/**
 * The single classifier: turns anything thrown anywhere in the gateway into a `VeilError`. Unknown errors
 * become `internal` with a generic message; their text stays in `cause` for the log.
 */
export function toVeilError(err: unknown): VeilError {
  if (err instanceof VeilError) {
    // `internal` means nobody wrote this message for a client: whatever text it carries (a path, a query, a
    // secret) is replaced by the generic one, and the original stays the cause for the log.
    return err.code === 'internal' && err.message !== ERROR_SPECS.internal.message ? internalError(err) : err;
  }
  if (!(err instanceof Error)) return new VeilError('internal', undefined, { cause: err });

  const coded = err as Partial<CodedError>;
  if (typeof coded.code === 'string') {
    if (coded.code === 'internal') return internalError(err);
    const param = typeof coded.param === 'string' ? coded.param : undefined;
    if (isErrorCode(coded.code)) return publicError(coded.code, err.message, err, coded.details, param);
    const mapped = LEAF_CODES[coded.code];
    if (mapped) return publicError(mapped, err.message, err, coded.details, param);
  }
  if (err.name === 'AbortError') return publicError('cancelled', undefined, err);
  // piscina's queue bound: the pool is full, the client should back off.
  if (err.message === 'Task queue is at limit') return publicError('overloaded', undefined, err);
  if (err.message === 'Terminating worker thread' || err.message === 'Terminating worker thread: pool closing') {
    return publicError('unavailable', undefined, err);
  }
  return internalError(err);
}

function internalError(err: unknown): VeilError {
  return new VeilError('internal', undefined, { cause: err, details: err instanceof VeilError ? err.details : undefined });
}
