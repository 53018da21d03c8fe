import { randomUUID } from 'node:crypto';
import { Metadata, ServerInterceptingCall, status as GrpcStatus, type ServerInterceptor, type StatusObject } from '@grpc/grpc-js';

/**
 * grpc-js refuses a message over `grpc.max_receive_message_length` itself, from the length prefix and before any
 * handler runs, with RESOURCE_EXHAUSTED and no trailers. Clients branch on `veil-error-code`, so this interceptor
 * gives that one refusal the code `message_too_large` and an `x-request-id`, like every other answer.
 *
 * grpc-js 1.14 sends it through the innermost call object's own `sendStatus` (not through the interceptor chain), so
 * the interceptor wraps that method on the instance it is handed. If a future grpc-js stops routing the refusal there,
 * nothing breaks: the answer is merely untyped again (`test/fuzz` would show it).
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
      return;
    }
    send(status);
  };
  return new ServerInterceptingCall(call);
};
