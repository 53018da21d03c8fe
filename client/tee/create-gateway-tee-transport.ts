import * as grpc from '@grpc/grpc-js';
import { callUnary, loadVeilProto, type CallLimitErrors, type GetTeeEvidenceResponse, type TeeInferResponse } from '../../proto';
import { isTeeErrorCode, TeeError } from '../../tee';
import { apiKeyInterceptors } from '../api-key-interceptor';
import { fromServiceError, VeilClientError } from '../veil-client-error';

/** Per-call limits for TEE calls. */
export type TeeCallOptions = { deadlineMs?: number; signal?: AbortSignal };

/** How the TEE SDK reports a call the caller cancelled or let run out of time. @internal */
export const TEE_CALL_ERRORS: CallLimitErrors = {
  cancelled: () => new TeeError('cancelled', 'the call was cancelled'),
  deadlineExceeded: () => new VeilClientError('deadline_exceeded', 'the deadline expired before the call finished', grpc.status.DEADLINE_EXCEEDED),
};

/** A node's evidence for the client's nonce, and the id of the node it belongs to. */
export type TeeRoute = { nodeId: string; evidence: GetTeeEvidenceResponse };

/**
 * How the client reaches TEE nodes through a router (the gateway's veil.v1.Tee): evidence comes with a node id,
 * and sealed requests are addressed to that node. Failures: `TeeError` for TEE codes (e.g. `tee_replay`),
 * `VeilClientError` for gateway codes (`tee_node_unavailable`, `no_attested_worker`, `model_not_found`, …).
 */
export type RoutedTeeTransport = {
  getEvidence(request: { modelId: string; nonce: Uint8Array; excludeNodeIds: string[] }, options?: TeeCallOptions): Promise<TeeRoute>;
  infer(request: { nodeId: string; modelId: string; sealedRequest: Uint8Array }, options?: TeeCallOptions): Promise<TeeInferResponse>;
  close?(): void;
};

export type CreateGatewayTeeTransportOptions = {
  /** host:port of the gateway. */
  target: string;
  credentials?: grpc.ChannelCredentials;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Default deadline of each call. */
  deadlineMs?: number;
  maxMessageBytes?: number;
};

/**
 * A gRPC transport to the gateway's veil.v1.Tee service.
 * @example const router = createGatewayTeeTransport({ target: '127.0.0.1:50051' });
 */
export function createGatewayTeeTransport(options: CreateGatewayTeeTransportOptions): RoutedTeeTransport {
  const proto = loadVeilProto();
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const stub = new proto.services.Tee(options.target, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
    ...apiKeyInterceptors(options.apiKey),
  });
  const errors = {
    ...TEE_CALL_ERRORS,
    fromStatus: (err: grpc.ServiceError) => {
      const e = fromServiceError(err);
      return isTeeErrorCode(e.code) ? new TeeError(e.code, e.message, { grpc: err.code }) : e;
    },
  };
  const unary = <Res>(method: 'GetEvidence' | 'Infer', request: unknown, opts: TeeCallOptions = {}): Promise<Res> => {
    const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
    return callUnary<Res>(stub, method, request, { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal }, errors);
  };
  return {
    getEvidence: (request, opts) => unary('GetEvidence', request, opts),
    infer: (request, opts) => unary('Infer', request, opts),
    close: () => stub.close(),
  };
}
