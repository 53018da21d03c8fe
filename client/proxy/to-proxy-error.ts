import { isTeeError, type TeeError } from '../../tee';
import { isPayerError, isPaymentMismatch } from '../payments';
import { VeilClientError } from '../veil-client-error';

export type ProxyErrorBody = { error: { message: string; type: string; param: string | null; code: string } };

type Spec = { status: number; type: string; code?: string };

/**
 * How the proxy answers codes that arise on the client side of the wire (the gateway's own errors keep the status and
 * type the gateway gave them, from its one registry). Refusals of the enclave or the relay are 502: the app's request
 * was fine, the upstream could not be trusted with it or did not answer it as the protocol requires.
 */
const CLIENT_SIDE: Record<string, Spec> = {
  tee_simulated_refused: { status: 502, type: 'server_error' },
  tee_attestation_failed: { status: 502, type: 'server_error' },
  tee_binding_mismatch: { status: 502, type: 'server_error' },
  tee_bad_signature: { status: 502, type: 'server_error' },
  tee_decrypt_failed: { status: 502, type: 'server_error' },
  tee_stream_invalid: { status: 502, type: 'server_error' },
  tee_stream_truncated: { status: 502, type: 'server_error' },
  // The node's refusals, as the gateway relays them publicly.
  tee_model_not_found: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  invalid_input: { status: 400, type: 'invalid_request_error', code: 'invalid_argument' },
  invalid_argument: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  idempotency_key_reused: { status: 409, type: 'invalid_request_error' },
  tee_replay: { status: 400, type: 'invalid_request_error' },
  tee_stale_request: { status: 400, type: 'invalid_request_error' },
  tee_session_unknown: { status: 503, type: 'server_error' },
  unauthenticated: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'permission_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  message_too_large: { status: 413, type: 'invalid_request_error' },
  cancelled: { status: 499, type: 'invalid_request_error' },
  deadline_exceeded: { status: 504, type: 'server_error' },
  overloaded: { status: 503, type: 'server_error' },
  unavailable: { status: 503, type: 'server_error' },
  tee_node_unavailable: { status: 503, type: 'server_error' },
  no_attested_worker: { status: 503, type: 'server_error' },
  // Payments (issue #11): the proxy's own payer refused (its budget, its limits), or the gateway overcharged.
  payment_required: { status: 402, type: 'invalid_request_error' },
  budget_exceeded: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  ceiling_above_max_per_call: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  deposit_insufficient: { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' },
  requirements_refused: { status: 402, type: 'invalid_request_error' },
  channel_closing: { status: 402, type: 'invalid_request_error' },
  payer_stopped: { status: 502, type: 'server_error' },
  payment_mismatch: { status: 502, type: 'server_error' },
};

const GENERIC = 'the proxy failed to handle the request';

/** An error the proxy raises itself (bad request to the proxy, unknown route, idempotency conflict). */
export class ProxyError extends Error {
  override name = 'ProxyError' as const;
  constructor(readonly code: string, message: string, readonly status: number, readonly param?: string) {
    super(message);
  }
}

/**
 * The proxy's one classifier: any error → the OpenAI error object and its HTTP status. Messages of Veil errors are
 * safe by construction (never payloads); anything else is answered with a generic message and code `internal`.
 */
export function toProxyError(err: unknown): { status: number; body: ProxyErrorBody; known: boolean } {
  const body = (code: string, message: string, type: string, param: string | undefined) => ({ error: { message, type, param: param ?? null, code } });
  if (err instanceof ProxyError) return { status: err.status, body: body(err.code, err.message, typeFor(err.status), err.param), known: true };
  if (isPayerError(err) || isPaymentMismatch(err)) {
    const spec = CLIENT_SIDE[err.code] ?? { status: 502, type: 'server_error' };
    // Budget and limits are the proxy operator's settings: the app learns that it cannot pay, never a voucher.
    return { status: spec.status, body: body(spec.code ?? err.code, err.message, spec.type, undefined), known: true };
  }
  const relayed = err instanceof VeilClientError || isTeeError(err);
  if (relayed) {
    const e = err as VeilClientError | TeeError;
    const spec = CLIENT_SIDE[e.code];
    const httpStatus = e instanceof VeilClientError ? e.httpStatus : (e.details?.httpStatus as number | undefined);
    const relayedType = e instanceof VeilClientError ? e.type : (e.details?.type as string | undefined);
    const status = httpStatus ?? spec?.status ?? 500;
    return { status, body: body(spec?.code ?? e.code, e.message, relayedType ?? spec?.type ?? typeFor(status), e.param), known: true };
  }
  return { status: 500, body: body('internal', GENERIC, 'server_error', undefined), known: false };
}

function typeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}
