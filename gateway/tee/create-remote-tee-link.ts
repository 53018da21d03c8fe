import * as grpc from '@grpc/grpc-js';
import { callServerStream, callUnary, loadVeilProto, traceGrpcCalls, type TeeStreamEvent } from '../../proto';
import { isTeeErrorCode, TeeError } from '../../tee';
import { VeilError } from '../errors';
import type { TeeLink, TeeLinkCallOptions } from './tee-link';

export type CreateRemoteTeeLinkOptions = {
  id: string;
  address: string;
  /** Largest message sent to or accepted from the node (`tee.maxMessageBytes`; `veil worker --max-message-bytes` must agree). */
  maxMessageBytes: number;
  /** TLS / mutual TLS to the node (`createNodeLinkCredentials`); plaintext when absent. */
  credentials?: grpc.ChannelCredentials;
};

/**
 * A gRPC link to a remote TEE node (`veil worker`, veil.v1.TeeNode). The caller's deadline and cancellation
 * are passed to the node call (the node skips work nobody waits for). Only transport failures make the link report
 * the node as gone (`TeeError('unavailable')`, which the router quarantines); anything about the request itself
 * is relayed as a typed Veil error and says nothing about the node (see {@link classifyNodeCallError}).
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
    // Each node call is a client span whose traceparent the node continues (issue #12).
    interceptors: [traceGrpcCalls('veil-gateway')],
  });
  const connected = () => stub.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  const errors = {
    cancelled: () => new VeilError('cancelled'),
    deadlineExceeded: () => classifyNodeCallError({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline', metadata: new grpc.Metadata() }, connected()),
    fromStatus: (err: grpc.ServiceError) => classifyNodeCallError(err, connected()),
  };
  const call = <Res>(method: 'GetEvidence' | 'Infer', request: unknown, limits: TeeLinkCallOptions): Promise<Res> =>
    callUnary<Res>(stub, method, request, limits, errors);
  return {
    id: options.id,
    address: options.address,
    maxMessageBytes: options.maxMessageBytes,
    getEvidence: (request, limits) => call('GetEvidence', request, limits),
    infer: (request, limits) => call('Infer', request, limits),
    inferStream: (request, limits) => callServerStream<TeeStreamEvent>(stub, 'InferStream', request, limits, errors),
    close: () => stub.close(),
  };
}

/**
 * What a failed node call means. A node's own refusal carries its `veil-error-code` and keeps it (overloaded,
 * tee_replay, …). Without one, only failures of the *transport* count against the node, because only those are
 * the node's fault and none can be caused by a client's request:
 * - UNAVAILABLE: no connection (refused, reset, dropped mid-call, TLS failure, GOAWAY);
 * - DEADLINE_EXCEEDED while the channel never became READY: the node could not be reached in time.
 * Everything else is about the request or a hiccup and is relayed, never quarantined:
 * - RESOURCE_EXHAUSTED (a message above either side's limit; a client's oversized request used to quarantine
 *   node after node as the SDK failed over) → `message_too_large`;
 * - INVALID_ARGUMENT → `invalid_argument`; CANCELLED → `cancelled`;
 * - DEADLINE_EXCEEDED on a connected channel: the node is reachable but the work took longer than the caller
 *   allowed → `deadline_exceeded`. A node that hangs is still caught: the router's own probes (its own deadline)
 *   quarantine it;
 * - anything else (INTERNAL, UNKNOWN, UNIMPLEMENTED, …) → `internal` (detail in the log only); the probe, not a
 *   client's call, decides whether such a node is still alive.
 * @internal exported for tests
 */
export function classifyNodeCallError(err: Pick<grpc.ServiceError, 'code' | 'details' | 'metadata'>, channelReady: boolean): Error {
  const code = err.metadata?.get('veil-error-code')[0];
  // A node's own size refusal (typed by proto/typeSizeRefusals) is classified like grpc-js's below: the client's fault.
  const param = err.metadata?.get('veil-error-param')[0];
  if (isTeeErrorCode(code) && code !== 'message_too_large') return new TeeError(code, err.details || code, undefined, { param: typeof param === 'string' ? param : undefined });
  const grpcName = grpc.status[err.code] ?? String(err.code);
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      return new TeeError('unavailable', 'the TEE node is unreachable', { grpc: grpcName });
    case grpc.status.DEADLINE_EXCEEDED:
      return channelReady
        ? new VeilError('deadline_exceeded')
        : new TeeError('unavailable', 'the TEE node could not be reached before the deadline', { grpc: grpcName });
    case grpc.status.CANCELLED:
      return new VeilError('cancelled');
    case grpc.status.RESOURCE_EXHAUSTED:
      return new VeilError('message_too_large', 'the request or its response exceeds the TEE message size limit', { details: { grpc: grpcName } });
    case grpc.status.INVALID_ARGUMENT:
      return new VeilError('invalid_argument', 'the TEE node refused the request as malformed', { details: { grpc: grpcName } });
    default:
      return new VeilError('internal', undefined, { details: { grpc: grpcName, detail: err.details } });
  }
}
