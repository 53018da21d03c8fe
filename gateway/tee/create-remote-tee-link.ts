import * as grpc from '@grpc/grpc-js';
import { loadVeilProto } from '../../proto';
import { isTeeErrorCode, TeeError } from '../../tee';
import { VeilError } from '../errors';
import type { TeeLink, TeeLinkCallOptions } from './tee-link';

export type CreateRemoteTeeLinkOptions = {
  id: string;
  address: string;
  maxMessageBytes: number;
  /** TLS / mutual TLS to the node (`createNodeLinkCredentials`); plaintext when absent. */
  credentials?: grpc.ChannelCredentials;
};

/**
 * A gRPC link to a remote TEE node (`veil worker`, veil.v1.TeeNode). The caller's deadline and cancellation
 * are passed to the node call, so a node stops working on a request nobody waits for.
 */
export function createRemoteTeeLink(options: CreateRemoteTeeLinkOptions): TeeLink {
  const proto = loadVeilProto();
  const stub = new proto.services.TeeNode(options.address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_receive_message_length': options.maxMessageBytes,
    // Fail fast while a node is down instead of queueing calls until it comes back; the router fails over.
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2_000,
  });
  const call = <Res>(method: 'GetEvidence' | 'Infer', request: unknown, limits: TeeLinkCallOptions): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      if (limits.signal?.aborted) return reject(new VeilError('cancelled'));
      const onAbort = () => pending.cancel();
      const pending = (stub as unknown as Record<string, Function>)[method]!.call(
        stub, request, { deadline: limits.deadline },
        (err: grpc.ServiceError | null, response: Res) => {
          limits.signal?.removeEventListener('abort', onAbort);
          if (err) reject(fromNodeError(err));
          else resolve(response);
        },
      ) as grpc.ClientUnaryCall;
      limits.signal?.addEventListener('abort', onAbort, { once: true });
    });
  return {
    id: options.id,
    address: options.address,
    getEvidence: (request, limits) => call('GetEvidence', request, limits),
    infer: (request, limits) => call('Infer', request, limits),
    close: () => stub.close(),
  };
}

/** A node's coded refusal keeps its code; transport failures mean the node is gone (the router quarantines it). */
function fromNodeError(err: grpc.ServiceError): Error {
  const code = err.metadata?.get('veil-error-code')[0];
  if (isTeeErrorCode(code)) return new TeeError(code, err.details || code);
  if (err.code === grpc.status.CANCELLED) return new VeilError('cancelled');
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return new VeilError('deadline_exceeded');
  return new TeeError('unavailable', 'the TEE node is unreachable', { grpc: grpc.status[err.code] ?? err.code });
}
