import * as grpc from '@grpc/grpc-js';
import { loadVeilProto, type GetTeeEvidenceRequest, type GetTeeEvidenceResponse, type TeeInferRequest, type TeeInferResponse } from '../../proto';
import { isTeeErrorCode, TeeError } from '../../tee';
import { fromServiceError } from '../veil-client-error';

/** How the client reaches a TEE node: gRPC (`createTeeTransport`) or anything with the same two calls (a gateway relay, in-process). */
export type TeeTransport = {
  getEvidence(request: GetTeeEvidenceRequest): Promise<GetTeeEvidenceResponse>;
  infer(request: TeeInferRequest): Promise<TeeInferResponse>;
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
  });
  const unary = <Res>(method: 'GetEvidence' | 'Infer', request: unknown): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const callOptions: grpc.CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
      (stub as unknown as Record<string, Function>)[method]!.call(stub, request, callOptions, (err: grpc.ServiceError | null, response: Res) => {
        if (!err) return resolve(response);
        const e = fromServiceError(err);
        if (isTeeErrorCode(e.code)) reject(new TeeError(e.code, e.message));
        else if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) reject(new TeeError('unavailable', 'the TEE node is unreachable', { grpc: err.code }, { cause: e }));
        else reject(e);
      });
    });
  return {
    getEvidence: (request) => unary('GetEvidence', request),
    infer: (request) => unary('Infer', request),
    close: () => stub.close(),
  };
}
