import { status as GrpcStatus } from '@grpc/grpc-js';

/** How one public error code appears on each surface. */
export type ErrorSpec = {
  grpc: GrpcStatus;
  http: number;
  /** OpenAI `error.type`; clients branch on the HTTP status, the type is advisory. */
  type: 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'insufficient_quota' | 'server_error';
  retryable: boolean;
  /** Safe text used when an error of this code carries no message of its own. */
  message: string;
};

/**
 * Every error code a client can ever see. Codes are stable API: lower snake_case on HTTP (`error.code`),
 * the same string in gRPC status details. HTTP statuses follow the gRPC→HTTP mapping so the two surfaces agree.
 */
export const ERROR_SPECS = {
  invalid_argument: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the request is invalid' },
  invalid_ciphertext: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'a ciphertext is not valid for this model' },
  invalid_keys: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the evaluation keys are not valid for this model' },
  model_unsupported: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the model cannot be served in this mode' },
  model_not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, type: 'not_found_error', retryable: false, message: 'no such model' },
  session_not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, type: 'not_found_error', retryable: false, message: 'no such session (it may have expired); create a new one' },
  message_too_large: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, type: 'invalid_request_error', retryable: false, message: 'the message exceeds the configured size limit' },
  overloaded: { grpc: GrpcStatus.UNAVAILABLE, http: 503, type: 'server_error', retryable: true, message: 'the gateway is at capacity; retry with backoff' },
  unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, type: 'server_error', retryable: true, message: 'the service is not available right now; retry with backoff' },
  cancelled: { grpc: GrpcStatus.CANCELLED, http: 499, type: 'invalid_request_error', retryable: false, message: 'the request was cancelled' },
  // issue #9: the gateway gave up on a key upload that stalled or ran past fhe.uploadTimeoutSeconds.
  upload_timeout: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504, type: 'server_error', retryable: true, message: 'the key upload was too slow or stalled; retry on a faster link' },
  deadline_exceeded: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504, type: 'server_error', retryable: true, message: 'the deadline expired before the work finished' },
  // TEE mode: routing (gateway) and the node's refusals, relayed under one public code each.
  no_attested_worker: { grpc: GrpcStatus.UNAVAILABLE, http: 503, type: 'server_error', retryable: true, message: 'no attested TEE node serves this model right now; retry with backoff' },
  tee_node_unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, type: 'server_error', retryable: true, message: 'the TEE node is no longer available; fetch evidence for another node, verify it and re-seal' },
  tee_decrypt_failed: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the sealed request did not open in the enclave' },
  tee_replay: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the sealed request was already accepted once' },
  tee_stale_request: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 400, type: 'invalid_request_error', retryable: false, message: 'the request timestamp is outside the node\'s freshness window (check the clock)' },
  tee_session_unknown: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 400, type: 'invalid_request_error', retryable: true, message: 'the node holds no such channel session; start a new one' },
  // Language models in TEE nodes (issue #10): refusals found inside the enclave, relayed with the parameter's name.
  context_length_exceeded: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the prompt and max_tokens do not fit the model\'s context window' },
  unsupported_parameter: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'a request parameter is not supported by this model' },
  tee_stream_invalid: { grpc: GrpcStatus.DATA_LOSS, http: 502, type: 'server_error', retryable: false, message: 'a sealed stream event was dropped, reordered or altered in transit' },
  tee_stream_truncated: { grpc: GrpcStatus.DATA_LOSS, http: 502, type: 'server_error', retryable: true, message: 'the sealed stream ended before its signed end event' },
  // API keys (issue #9, gateway/auth/): who may call, what a key may reach, and how fast.
  unauthenticated: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, type: 'authentication_error', retryable: false, message: 'a valid API key is required (metadata "authorization: Bearer <key>")' },
  permission_denied: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, type: 'permission_error', retryable: false, message: 'this API key may not use this model or mode' },
  rate_limited: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, type: 'rate_limit_error', retryable: true, message: 'too many requests for this caller; retry with backoff' },
  // issue #10, the HTTP surface (gateway/http/): a plain body on a sealed route, Idempotency-Key misuse, HTTP framing.
  sealed_request_required: {
    grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false,
    message: 'this endpoint takes only requests sealed to an attested TEE node (content-type application/vnd.veil.sealed); point your OpenAI client at `veil proxy`, which attests, seals and verifies for you',
  },
  idempotency_key_reused: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, type: 'invalid_request_error', retryable: false, message: 'this Idempotency-Key was already used with a different request; use a new key for a new request' },
  unsupported_media_type: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 415, type: 'invalid_request_error', retryable: false, message: 'the request body\'s content-type is not accepted by this endpoint' },
  route_not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, type: 'invalid_request_error', retryable: false, message: 'no such endpoint' },
  // issue #11, payments (payments/): "payment required" answers are HTTP 402 with PAYMENT-REQUIRED, gRPC
  // FAILED_PRECONDITION (never produced by gRPC libraries themselves) with the same payload in the trailer.
  payment_required: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'this call must be paid: send a PAYMENT-SIGNATURE for the PAYMENT-REQUIRED it answered' },
  payment_invalid: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, type: 'invalid_request_error', retryable: false, message: 'the PAYMENT-SIGNATURE is malformed' },
  voucher_wrong_network: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the voucher is for another chain, contract, receiver or token' },
  voucher_signature_invalid: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the voucher is not signed by the channel\'s authorizer' },
  voucher_insufficient: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the voucher does not cover what is charged and in flight plus this call; resync from PAYMENT-REQUIRED extra.channelState' },
  deposit_insufficient: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the channel\'s deposit cannot cover this call: top it up' },
  channel_not_found: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the payment channel has no confirmed deposit on chain' },
  channel_closing: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 402, type: 'invalid_request_error', retryable: false, message: 'the payment channel is closing or closed: open a new one' },
  payment_in_progress: { grpc: GrpcStatus.ABORTED, http: 409, type: 'invalid_request_error', retryable: true, message: 'this request id is already running; wait for its answer' },
  payment_unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, type: 'server_error', retryable: true, message: 'payments cannot be checked right now; retry shortly' },
  budget_exhausted: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, type: 'insufficient_quota', retryable: false, message: 'the API key\'s budget cannot cover this call' },
  stream_not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, type: 'not_found_error', retryable: false, message: 'no such stream is waiting for a payment here (it ended, or runs on another replica)' },
  internal: { grpc: GrpcStatus.INTERNAL, http: 500, type: 'server_error', retryable: false, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_SPECS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_SPECS, value);
}
