import type { RoutedTeeInferRequest, TeePaidStreamMessage, TeeStreamClientMessage } from '../../proto';
import { VeilError } from '../errors';
import type { CallContext } from '../grpc/call-context';
import type { Logger } from '../logger';
import {
  createStreamCredit, DEFAULT_STREAM_PAUSE_MS, DEFAULT_STREAM_WINDOW_TOKENS, teeStreamWindowUsage, type GatewayPayments,
  type StreamCredit,
} from '../payments';
import type { TeeRouter } from './create-tee-router';
import { meterTeeEvents, type RelayTally } from './meter-tee-events';

/**
 * Tee.InferStreamPaid: a sealed event stream on a credit window, with its top-ups in the stream (issue #11 §2). The
 * first client message is the request; its first window is paid by the call's `payment-signature` metadata, refused
 * before the node sees anything. Later client messages are top-up vouchers, each checked by the stream's account
 * exactly as the HTTP voucher endpoint checks one (`StreamCredit.topUp`: the one rule). A refused top-up ends the
 * stream with the voucher's code; no top-up within the pause ends it `payment_required`; either way, and when the
 * client goes away, it is charged only what was delivered. Without payments it is an ordinary relay.
 */
export async function relayPaidTeeStream(
  router: TeeRouter, logger: Logger, payments: GatewayPayments | undefined,
  messages: AsyncIterable<TeeStreamClientMessage>, context: CallContext, send: (message: TeePaidStreamMessage) => Promise<void>,
): Promise<void> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  const request = first.done ? undefined : first.value.request;
  if (!request) throw new VeilError('invalid_argument', 'the first message of InferStreamPaid must carry the request', { param: 'request' });
  if (!request.modelId) throw new VeilError('invalid_argument', 'request.model_id is required', { param: 'model_id' });
  const started = performance.now();
  /** Ends the node stream when the client's side of the stream fails (a refused top-up, a malformed message). */
  const local = new AbortController();
  const signal = AbortSignal.any([context.signal, local.signal]);
  let refusal: unknown;
  const credit = payments ? paidStreamCredit(payments, router, request, context, send) : undefined;
  await credit?.open(context.payment.signature);

  // The client's later messages, read while events flow: each is a top-up for the pause that asked for it.
  const reader = (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const message = next.value;
        if (message.request) throw new VeilError('invalid_argument', 'only the first message of InferStreamPaid may carry a request', { param: 'request' });
        if (!message.paymentSignature) throw new VeilError('invalid_argument', 'a later message of InferStreamPaid must carry a payment_signature', { param: 'payment_signature' });
        if (!credit) throw new VeilError('invalid_argument', 'this gateway does not charge: the stream takes no payment', { param: 'payment_signature' });
        await credit.topUp(message.paymentSignature);
      }
    } catch (err) {
      // The stream ends with this error (not the "cancelled" the account's end gives the pause).
      if (!signal.aborted) {
        refusal = err;
        local.abort();
        await credit?.finish();
      }
    }
  })();

  const tally: RelayTally = { events: 0, bytes: 0 };
  try {
    const source = router.inferStream({ nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest }, { signal, deadline: context.deadline });
    for await (const event of meterTeeEvents(source, credit, tally)) await send({ event });
    if (refusal !== undefined) throw refusal;
  } catch (err) {
    throw refusal ?? err;
  } finally {
    local.abort();
    // Done, failed or abandoned: charged what was delivered.
    await credit?.finish();
    // The reader is not awaited: it waits on the client's side, which ends with the call. It is not `return`ed
    // either: that would destroy the duplex call before its status is written.
    void reader;
    logger.debug('tee paid stream relayed', {
      requestId: context.requestId, model: request.modelId, node: request.nodeId, requestBytes: request.sealedRequest?.byteLength ?? 0, events: tally.events, responseBytes: tally.bytes,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }
}

/** The stream's account: the same credit window as the HTTP stream, its in-band messages written into this stream. */
function paidStreamCredit(
  payments: GatewayPayments, router: TeeRouter, request: RoutedTeeInferRequest, context: CallContext, send: (message: TeePaidStreamMessage) => Promise<void>,
): StreamCredit {
  const facts = router.models().find((m) => m.id === request.modelId);
  const windowTokens = payments.stream?.windowTokens ?? DEFAULT_STREAM_WINDOW_TOKENS;
  return createStreamCredit({
    payments, context, resource: `tee:${request.modelId}`, modelId: request.modelId, requestId: `req:${context.requestId}`,
    firstWindow: teeStreamWindowUsage(facts, windowTokens), windowTokens, pauseMs: payments.stream?.pauseMs ?? DEFAULT_STREAM_PAUSE_MS,
    signal: context.signal,
    onPaymentRequired: (required) => send({ paymentRequired: required }),
    onSettled: (response) => send({ paymentResponse: response }),
  });
}
