import * as grpc from '@grpc/grpc-js';
import { callServerStream, callUnary, loadVeilProto, traceGrpcCalls, type GetTeeEvidenceRequest, type GetTeeEvidenceResponse, type TeeInferRequest, type TeeInferResponse, type TeeStreamEvent } from '../../proto';
import { isTeeErrorCode, TeeError } from '../../tee';
import { fromServiceError } from '../veil-client-error';
import { TEE_CALL_ERRORS, type TeeCallOptions } from './create-gateway-tee-transport';

/** How the client reaches a TEE node: gRPC (`createTeeTransport`) or anything with the same two calls (a gateway relay, in-process). */
export type TeeTransport = {
  getEvidence(request: GetTeeEvidenceRequest, options?: TeeCallOptions): Promise<GetTeeEvidenceResponse>;
  infer(request: TeeInferRequest, options?: TeeCallOptions): Promise<TeeInferResponse>;
  /** A streamed answer's sealed events (TeeNode.InferStream), unverified; the client checks them. */
  inferStream?(request: TeeInferRequest, options?: TeeCallOptions): AsyncIterable<TeeStreamEvent>;
  close?(): void;
};

export type CreateTeeTransportOptions = {
  /** host:port of a veil.v1.TeeNode server. */
  target: string;
  credentials?: grpc.ChannelCredentials;
  deadlineMs?: number;
  maxMessageBytes?: number;
};

/**
 * A gRPC transport to a veil.v1.TeeNode. Node refusals arrive as `TeeError` with the node's code.
 * @example const transport = createTeeTransport({ target: '127.0.0.1:50061' });
 */
export function createTeeTransport(options: CreateTeeTransportOptions): TeeTransport {
  const proto = loadVeilProto();
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const stub = new proto.services.TeeNode(options.target, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
    interceptors: [traceGrpcCalls('veil-client')],
  });
  const errors = {
    ...TEE_CALL_ERRORS,
    fromStatus: (err: grpc.ServiceError): Error => {
      const e = fromServiceError(err);
      if (isTeeErrorCode(e.code)) return new TeeError(e.code, e.message, { grpc: err.code }, e.param === undefined ? undefined : { param: e.param });
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) return new TeeError('unavailable', 'the TEE node is unreachable', { grpc: err.code }, { cause: e });
      return e;
    },
  };
  const unary = <Res>(method: 'GetEvidence' | 'Infer', request: unknown, opts: TeeCallOptions = {}): Promise<Res> => {
    const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
    return callUnary<Res>(stub, method, request, { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal }, errors);
  };
  return {
    getEvidence: (request, opts) => unary('GetEvidence', request, opts),
    infer: (request, opts) => unary('Infer', request, opts),
    inferStream: (request, opts = {}) => {
      const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
      return callServerStream<TeeStreamEvent>(stub, 'InferStream', request, { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal }, errors);
    },
    close: () => stub.close(),
  };
}
