/**
 * The one error class of TEE mode (shared by client and node). Codes are stable snake_case API; the
 * message is safe to show anyone (it never contains payload bytes, tensors or keys); `details` is for
 * logs only and never crosses the wire.
 */
export type TeeErrorCode =
  /** The sealed request or response did not decrypt/authenticate (tampered, wrong key, wrong model). */
  | 'tee_decrypt_failed'
  /** A request id was already seen within the freshness window. */
  | 'tee_replay'
  /** The request timestamp is outside the node's freshness window (clock skew or a delayed replay). */
  | 'tee_stale_request'
  /** The node no longer holds the session the request refers to; the client re-handshakes. */
  | 'tee_session_unknown'
  /** A response signature is not the attested key's signature over these exact request/response bytes. */
  | 'tee_bad_signature'
  /** The node does not serve the model. */
  | 'tee_model_not_found'
  /** The evidence did not verify or did not satisfy the caller's policy. */
  | 'tee_attestation_failed'
  /** The node offered simulated evidence and the caller did not opt in. */
  | 'tee_simulated_refused'
  /** The evidence does not bind the keys the node presented, or the nonce the client sent. */
  | 'tee_binding_mismatch'
  /** Bad tensors, names, shapes or framing. */
  | 'invalid_input'
  /** The node's queue is full. */
  | 'overloaded'
  /** The node is not started, stopping, or unreachable. */
  | 'unavailable'
  /** The caller cancelled. */
  | 'cancelled'
  /** A message over the node's size limit (refused by grpc-js itself; typed by proto/typeSizeRefusals). */
  | 'message_too_large'
  /** issue #10: the prompt (plus max_tokens) does not fit the model's context window. */
  | 'context_length_exceeded'
  /** issue #10: a request parameter the model does not support (`n > 1`, tools, …); `param` names it. */
  | 'unsupported_parameter'
  /** issue #10: a stream event arrived out of order, twice, altered, after the end, or without its receipt. */
  | 'tee_stream_invalid'
  /** issue #10: a stream ended without its signed end event (dropped connection, killed node, truncating relay). */
  | 'tee_stream_truncated'
  | 'internal';

export class TeeError extends Error {
  override name = 'TeeError' as const;
  readonly code: TeeErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** The request field at fault (OpenAI `param`), safe to show: a parameter name, never a value. */
  readonly param: string | undefined;

  constructor(code: TeeErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown; param?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
    this.param = options?.param;
  }
}

/** True when `err` is a {@link TeeError} (optionally with the given code). */
export function isTeeError(err: unknown, code?: TeeErrorCode): err is TeeError {
  return err instanceof TeeError && (code === undefined || err.code === code);
}

export const TEE_ERROR_CODES: readonly TeeErrorCode[] = [
  'tee_decrypt_failed', 'tee_replay', 'tee_stale_request', 'tee_session_unknown', 'tee_bad_signature', 'tee_model_not_found',
  'tee_attestation_failed', 'tee_simulated_refused', 'tee_binding_mismatch', 'invalid_input', 'overloaded', 'unavailable', 'cancelled', 'message_too_large',
  'context_length_exceeded', 'unsupported_parameter', 'tee_stream_invalid', 'tee_stream_truncated', 'internal',
];

export function isTeeErrorCode(value: unknown): value is TeeErrorCode {
  return typeof value === 'string' && (TEE_ERROR_CODES as readonly string[]).includes(value);
}
