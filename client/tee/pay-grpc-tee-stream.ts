import * as grpc from '@grpc/grpc-js';
import { streamWithLimits, type CallLimitErrors, type RoutedTeeInferRequest, type TeePaidStreamMessage, type TeeStreamEvent } from '../../proto';
import { TeeError } from '../../tee';
import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired } from '../../payments';
import { PayerError, type PaymentRound } from '../payments';
import type { ChargeChecker } from './create-charge-checker';

export type PayGrpcTeeStreamOptions = {
  /** The gateway's veil.v1.Tee client. */
  stub: grpc.Client;
  /** A payment round per window: the first for the request, then one per top-up. */
  round(resource: string): PaymentRound;
  charges: ChargeChecker;
  limits: { deadline?: number; signal?: AbortSignal };
  errors: CallLimitErrors & { fromStatus(err: grpc.ServiceError): Error };
};

type Duplex = grpc.ClientDuplexStream<{ request?: unknown; paymentSignature?: string }, TeePaidStreamMessage>;

/**
 * A paid stream over gRPC (Tee.InferStreamPaid, issue #11 §2): the first window is paid like a single call (unpaid or
 * prepaid first; "payment required" before anything was relayed → pay and open the stream again with the same sealed
 * bytes, which the node never saw); every in-band payment_required is paid by the payer (within its maxPerCall and
 * maxSpend) and the voucher sent in the stream; every window's receipt is settled against the prices the client holds
 * × the usage the enclave signed (createChargeChecker), so a charge above what the node signed is a PaymentMismatch.
 * A payer refusal ends the stream (the gateway charges only what was delivered). Yields the node's sealed events.
 */
export function payGrpcTeeStream(request: RoutedTeeInferRequest, options: PayGrpcTeeStreamOptions): AsyncGenerator<TeeStreamEvent> {
  const { stub, charges, errors } = options;
  const routed = { nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest };
  return streamWithLimits((signal) => (async function* () {
    const first = options.round(`tee:${request.modelId}:chat.completions:stream`);
    let signature = await first.first();
    for (;;) {
      const metadata = new grpc.Metadata();
      if (signature !== undefined) metadata.set(PAYMENT_SIGNATURE_HEADER, signature);
      const call = (stub as unknown as { InferStreamPaid(m: grpc.Metadata, o: grpc.CallOptions): Duplex }).InferStreamPaid(metadata, options.limits.deadline ? { deadline: options.limits.deadline } : {});
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      /** The round of the window being spent: settled by its receipt, released when the stream ends without one. */
      let open: PaymentRound | undefined = first;
      let received = 0;
      let ended = false;
      const so = { charged: 0n };
      try {
        call.write({ request: routed });
        try {
          for await (const message of call as AsyncIterable<TeePaidStreamMessage>) {
            if (message.event) {
              received++;
              yield message.event;
            } else if (message.paymentResponse !== undefined) {
              if (!open) throw new TeeError('tee_stream_invalid', 'the gateway sent a payment receipt this stream did not pay for');
              const round = open;
              open = undefined;
              await round.answer({ paymentRequired: false, receipt: message.paymentResponse, check: await charges.check(request, message.paymentResponse, so) });
            } else if (message.paymentRequired !== undefined) {
              // The window before was settled by its receipt; a round still open was released (nothing delivered in it).
              if (open) await open.answer({ paymentRequired: false });
              const round = options.round(`tee-stream-topup:${request.modelId}`);
              open = round;
              const voucher = await round.answer({ paymentRequired: true, required: requiredOf(message.paymentRequired) });
              if (voucher === undefined) {
                open = undefined;
                throw new PayerError('requirements_refused', 'the gateway asked this stream for a top-up the payer cannot pay');
              }
              call.write({ paymentSignature: voucher });
            }
          }
        } catch (err) {
          const status = err as grpc.ServiceError;
          if (typeof status?.code !== 'number' || !(status.metadata instanceof grpc.Metadata)) throw err;
          const spent = open;
          open = undefined;
          const noGateway = status.code !== grpc.status.OK && status.metadata.get('veil-error-code').length === 0;
          const required = status.metadata.get(PAYMENT_REQUIRED_HEADER)[0];
          if (received === 0 && spent === first && !noGateway && status.code === grpc.status.FAILED_PRECONDITION && required !== undefined) {
            // Refused before anything was relayed: pay this window and send the (still fresh) request again.
            signature = await first.answer({ paymentRequired: true, required: requiredOf(String(required)) });
            if (signature !== undefined) continue;
          } else {
            await spent?.answer(noGateway ? { transportError: true } : { paymentRequired: false });
          }
          // No Veil code after events began is the connection breaking: the stream was cut, not refused.
          if (noGateway && received > 0 && status.code !== grpc.status.DEADLINE_EXCEEDED) {
            throw new TeeError('tee_stream_truncated', 'the gateway connection broke before the stream\'s signed end event', { grpc: status.code }, { cause: status });
          }
          throw errors.fromStatus(status);
        }
        ended = true;
        return;
      } finally {
        signal.removeEventListener('abort', cancel);
        call.cancel();
        // Ended without the window's receipt: nothing more was charged. Left by the app, the gateway charges what it
        // delivered and its receipt is lost with the stream, so the window stays counted as possibly charged.
        await open?.answer(ended ? { paymentRequired: false } : { transportError: true }).catch(() => undefined);
      }
    }
  })(), options.limits, errors);
}

function requiredOf(value: string): PaymentRequired | undefined {
  try {
    const required = decodeX402<PaymentRequired>(value, 'payment-required');
    return required && typeof required === 'object' && Array.isArray(required.accepts) ? required : undefined;
  } catch {
    return undefined;
  }
}
