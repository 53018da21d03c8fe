import { randomUUID } from 'node:crypto';
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call';
import { scheduleAt } from '../../proto';

export type CallContext = {
  requestId: string;
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** The client's deadline in epoch milliseconds, or 0 when it set none. */
  deadline: number;
  /**
   * The API key id that authenticated this call, or undefined when `auth.mode` is off. Set once by the RPC wrapper
   * before the handler runs; what owns FHE sessions and what per-caller limits count against.
   */
  principal: string | undefined;
  /** The client's network address without the port (what per-caller limits count when there is no principal). */
  peer: string;
  /** Payments (issue #11); see CallPayment. */
  payment: CallPayment;
  dispose(): void;
};

/**
 * A call's x402 exchange, the same on both surfaces: `signature` is the client's PAYMENT-SIGNATURE (HTTP header, gRPC
 * metadata `payment-signature`), `idempotencyKey` the client's retry key (HTTP `Idempotency-Key`, gRPC metadata
 * `idempotency-key`: a retried paid call is not charged twice), and a paid handler sets `response` (base64 JSON
 * SettlementResponse), which the surface sends as the PAYMENT-RESPONSE header or the `payment-response` trailer.
 */
export type CallPayment = { signature: string | undefined; idempotencyKey: string | undefined; response?: string };

/** One metadata value that is a string, or undefined (absent or repeated: a repeated payment header is no payment). */
function single(metadata: ServerSurfaceCall['metadata'], key: string): string | undefined {
  const values = metadata.get(key);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/** Derives one request's id, cancellation signal and deadline from a gRPC call. */
export function createCallContext(call: ServerSurfaceCall): CallContext {
  const controller = new AbortController();
  const raw = call.getDeadline();
  const deadlineDate = raw instanceof Date ? raw.getTime() : raw;
  const deadline = Number.isFinite(deadlineDate) ? Number(deadlineDate) : 0;
  const onCancel = () => controller.abort();
  call.on('cancelled', onCancel);
  // scheduleAt, not setTimeout: a deadline more than 24.8 days away would overflow and abort the call at once.
  const timer = deadline > 0 ? scheduleAt(deadline, onCancel) : undefined;
  return {
    requestId: randomUUID(),
    signal: controller.signal,
    deadline,
    principal: undefined,
    peer: peerHost(call.getPeer()),
    payment: { signature: single(call.metadata, 'payment-signature'), idempotencyKey: single(call.metadata, 'idempotency-key') },
    dispose() {
      call.removeListener('cancelled', onCancel);
      timer?.cancel();
    },
  };
}

/** `ipv4:1.2.3.4:5678`, `ipv6:[::1]:5678`, `1.2.3.4:5678` or `[::1]:5678` → the host alone. */
export function peerHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const colon = bare.lastIndexOf(':');
  return colon > 0 && bare.indexOf(':') === colon ? bare.slice(0, colon) : bare;
}

/** The key per-caller limits count against: the API key when there is one, else the client's address. */
export function callerKey(context: Pick<CallContext, 'principal' | 'peer'>): string {
  return context.principal !== undefined ? `key:${context.principal}` : `peer:${context.peer}`;
}
