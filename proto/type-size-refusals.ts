import { randomUUID } from 'node:crypto';
import { constants as http2, type ServerHttp2Stream } from 'node:http2';
import { Metadata, ServerInterceptingCall, status as GrpcStatus, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';

/**
 * grpc-js refuses a message over `grpc.max_receive_message_length` itself, from the length prefix and before any
 * handler runs, with RESOURCE_EXHAUSTED and no trailers. Clients branch on `veil-error-code`, so this interceptor
 * gives that one refusal the code `message_too_large` and an `x-request-id`, like every other answer.
 *
 * grpc-js 1.14 sends it through the innermost call object's own `sendStatus` (not through the interceptor chain), so
 * the interceptor wraps that method on the instance it is handed. If a future grpc-js stops routing the refusal there,
 * nothing breaks: the answer is merely untyped again (`test/fuzz` would show it).
 *
 * After that answer the stream is reset with NO_ERROR, as HTTP/2 (RFC 9113 §8.1) has a server do when it answered before
 * the request ended. grpc-js does not: its client, seeing the server end the call, only half-closes and goes on
 * sending the rest of the message, and its server reads and discards it. A refused 64 MiB message thus kept crossing
 * the connection for seconds after its answer, and the calls sharing that connection queued behind it (fuzz:
 * a 13 MB TeeNode.Infer answered after 10 s behind three refused 64 MiB ones).
 */
export const typeSizeRefusals: ServerInterceptor = (_method, call) => {
  const inner = call as unknown as { sendStatus(status: Partial<StatusObject>): void };
  const send = inner.sendStatus.bind(call);
  inner.sendStatus = (status) => {
    if (status.code === GrpcStatus.RESOURCE_EXHAUSTED && !status.metadata?.get('veil-error-code').length) {
      const metadata = status.metadata?.clone() ?? new Metadata();
      metadata.set('veil-error-code', 'message_too_large');
      metadata.set('x-request-id', randomUUID());
      send({ ...status, metadata });
      stopRequestBody(call);
      return;
    }
    send(status);
  };
  return new ServerInterceptingCall(call);
};

/** Asks the client to stop sending the request (RST_STREAM NO_ERROR) once the answer is on its way. */
function stopRequestBody(call: unknown): void {
  const stream = (call as { stream?: ServerHttp2Stream }).stream;
  if (!stream || typeof stream.close !== 'function') return;
  // On the next turn: the trailers-only answer was queued first, so the client has the status before the reset.
  setImmediate(() => {
    if (!stream.closed && !stream.destroyed) stream.close(http2.NGHTTP2_NO_ERROR);
  });
}
