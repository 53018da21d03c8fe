import { randomUUID } from 'node:crypto';
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call';

export type CallContext = {
  requestId: string;
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** The client's deadline in epoch milliseconds, or 0 when it set none. */
  deadline: number;
  dispose(): void;
};

/** Derives one request's id, cancellation signal and deadline from a gRPC call. */
export function createCallContext(call: ServerSurfaceCall): CallContext {
  const controller = new AbortController();
  const raw = call.getDeadline();
  const deadlineDate = raw instanceof Date ? raw.getTime() : raw;
  const deadline = Number.isFinite(deadlineDate) ? Number(deadlineDate) : 0;
  const onCancel = () => controller.abort();
  call.on('cancelled', onCancel);
  let timer: NodeJS.Timeout | undefined;
  if (deadline > 0) {
    timer = setTimeout(onCancel, Math.max(0, deadline - Date.now()));
    timer.unref();
  }
  return {
    requestId: randomUUID(),
    signal: controller.signal,
    deadline,
    dispose() {
      call.removeListener('cancelled', onCancel);
      if (timer) clearTimeout(timer);
    },
  };
}
