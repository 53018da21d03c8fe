import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import { isTeeErrorCode, type TeeErrorCode } from '../../tee';
import { wellFormedStatusText } from '../../proto';

/** Same statuses as the gateway's registry (gateway/errors/error-codes.ts), so a direct node and a relay agree. */
const STATUS: Record<TeeErrorCode, GrpcStatus> = {
  tee_decrypt_failed: GrpcStatus.INVALID_ARGUMENT,
  invalid_input: GrpcStatus.INVALID_ARGUMENT,
  tee_replay: GrpcStatus.INVALID_ARGUMENT,
  tee_stale_request: GrpcStatus.FAILED_PRECONDITION,
  tee_session_unknown: GrpcStatus.FAILED_PRECONDITION,
  tee_bad_signature: GrpcStatus.FAILED_PRECONDITION,
  tee_attestation_failed: GrpcStatus.FAILED_PRECONDITION,
  tee_simulated_refused: GrpcStatus.FAILED_PRECONDITION,
  tee_binding_mismatch: GrpcStatus.FAILED_PRECONDITION,
  tee_model_not_found: GrpcStatus.NOT_FOUND,
  overloaded: GrpcStatus.UNAVAILABLE,
  unavailable: GrpcStatus.UNAVAILABLE,
  cancelled: GrpcStatus.CANCELLED,
  message_too_large: GrpcStatus.RESOURCE_EXHAUSTED,
  context_length_exceeded: GrpcStatus.INVALID_ARGUMENT,
  unsupported_parameter: GrpcStatus.INVALID_ARGUMENT,
  tee_stream_invalid: GrpcStatus.DATA_LOSS,
  tee_stream_truncated: GrpcStatus.DATA_LOSS,
  internal: GrpcStatus.INTERNAL,
};

/** A TEE node failure as a safe, classified value: stable code, safe message, log-only reason. @internal */
export type TeeNodeFailure = { code: TeeErrorCode; message: string; reason?: string; param?: string };

/** Codes of the language host (llm/ LlmError) and what a node calls them; anything else is `internal`. */
const HOST_CODES: Record<string, TeeErrorCode> = {
  invalid_input: 'invalid_input',
  unsupported_parameter: 'unsupported_parameter',
  context_length_exceeded: 'context_length_exceeded',
  model_not_found: 'tee_model_not_found',
  cancelled: 'cancelled',
};

/** Classifies anything a node operation threw. Unknown errors become `internal` with a generic message. */
export function toTeeNodeFailure(err: unknown): TeeNodeFailure {
  const coded = err as { code?: unknown; message?: unknown; details?: unknown; name?: unknown; param?: unknown } | null;
  const reason = coded?.details ? JSON.stringify(coded.details) : undefined;
  if (coded && typeof coded.code === 'string' && typeof coded.message === 'string') {
    const param = typeof coded.param === 'string' ? coded.param : undefined;
    if (isTeeErrorCode(coded.code) && coded.code !== 'internal') return { code: coded.code, message: coded.message, reason, param };
    if (coded.name === 'LlmError' && HOST_CODES[coded.code]) return { code: HOST_CODES[coded.code]!, message: coded.message, reason, param };
    if (coded.name === 'AttestationError') return { code: 'unavailable', message: 'the node could not produce evidence right now', reason: coded.message };
  }
  return { code: 'internal', message: 'internal error', reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** The gRPC status for a failure, with the code in the `veil-error-code` trailer as the gateway does. */
export function toTeeGrpcStatus(failure: TeeNodeFailure): Partial<StatusObject> & { code: GrpcStatus; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('veil-error-code', failure.code);
  if (failure.param) metadata.set('veil-error-param', wellFormedStatusText(failure.param));
  return { code: STATUS[failure.code], details: wellFormedStatusText(failure.message), metadata };
}
