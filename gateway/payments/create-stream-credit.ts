import { costOf, encodeX402, PaymentError, priceOf, type PaidAdmission, type PaymentRequired, type SignedUsage, type Usage } from '../../payments';
import { VeilError } from '../errors';
import { admitCall, paysFromBudget, type GatewayPayments } from './charge-call';
import type { CallContext } from '../grpc/call-context';

export type StreamCreditOptions = {
  payments: GatewayPayments;
  /** The stream's caller: an API key with a budget pays every window from it, without pausing for a voucher. */
  context: CallContext;
  /** `tee:<model>`: the receipts' resource. */
  resource: string;
  modelId: string;
  /** The stream's own request id; segment k is admitted as `<requestId>#k`. */
  requestId: string;
  /** The first window's ceiling: the call, its whole prompt and a window of completion. */
  firstWindow: Usage;
  /** Completion tokens each later window buys (its ceiling; more when one event alone needs more). */
  windowTokens: number;
  /** How long a paused stream waits for the client's top-up voucher before it ends. */
  pauseMs: number;
  /** The stream's cancellation (the client went away): a pause ends at once. */
  signal: AbortSignal;
  /** Sends the in-band "payment required" event (the PAYMENT-REQUIRED payload, base64 JSON as in the header). */
  onPaymentRequired(required: string): Promise<void>;
  /** Sends the in-band receipt of a window just committed (the PAYMENT-RESPONSE payload). */
  onSettled(response: string): Promise<void>;
};

/** One paid stream's running account (issue #11 §2, "credit window"). */
export type StreamCredit = {
  /** Admits the first window: a refusal (PaymentError) is a plain 402 before the stream starts. */
  open(header: string | undefined): Promise<void>;
  /**
   * Before an event is relayed: resolves once the credit covers `usage` (the node's signed cumulative counts through
   * that event). When it does not, commits what was delivered so far, asks for more in-band, and waits for the top-up.
   * @throws {PaymentError} `payment_required` when no top-up came within `pauseMs`; the stream then ends
   */
  cover(usage: Usage): Promise<void>;
  /**
   * After an event reached the client: its counts are what an abandoned stream is charged; `signed`, the node's
   * statement of them, goes into the window's receipt for the payer to check.
   */
  delivered(usage: Usage, signed?: SignedUsage): void;
  /** The client's top-up voucher for a paused stream (the voucher endpoint or an in-stream message). @throws {PaymentError} */
  topUp(header: string | undefined): Promise<void>;
  /** Ends the account: the open window is charged what was delivered in it (released when nothing was). Idempotent. */
  finish(): Promise<void>;
};

/**
 * Streams run on credit: the client's voucher pays one window ahead, the gateway relays while the node's signed counts
 * stay within it, and at the edge it commits what was delivered, emits an in-band payment-required event, pauses, and
 * resumes when the client's top-up voucher arrives. Each window is one reservation of the ordinary payment gate, so
 * the same rules hold as for single calls: at most the window is ever served unpaid-for, every charge is committed
 * to the ledger before more is delivered, a stream the client abandons is charged only what reached it.
 */
export function createStreamCredit(options: StreamCreditOptions): StreamCredit {
  const { payments, resource, requestId } = options;
  const price = priceOf(payments.prices, options.modelId);
  const windowCost = costOf(price, { outputTokens: options.windowTokens });
  let current: PaidAdmission | undefined;
  let segment = 0;
  /** What earlier windows committed, and what has been delivered (both cumulative over the stream). */
  let committed = 0n;
  let deliveredCost = 0n;
  let lastSigned: SignedUsage | undefined;
  let nextCeiling = 0n;
  let waiting: { resolve(): void; reject(err: unknown): void } | undefined;
  let finished = false;
  let firstLimit: bigint | undefined;

  const fromBudget = paysFromBudget(payments, options.context);
  const admit = async (ceiling: bigint, header: string | undefined): Promise<PaidAdmission> => {
    const request = { requestId: `${requestId}#${segment}`, resource, ceiling };
    const admission = fromBudget ? await admitCall(payments, options.context, request) : await payments.gate.admit({ ...request, header });
    // Stream windows have ids of their own stream; a "replay" can only be a client reusing another stream's id.
    if (admission.kind !== 'paid') throw new VeilError('invalid_argument', 'this stream\'s payment was already used by another request');
    segment++;
    return admission;
  };

  /** Charges the open window what was delivered in it (and tells the client), or releases it when nothing was. */
  const closeWindow = async () => {
    const window = current;
    current = undefined;
    if (!window) return;
    const amount = deliveredCost - committed;
    if (amount <= 0n) {
      await window.release();
      return;
    }
    const { response } = await window.commit(amount, lastSigned);
    committed += amount;
    await options.onSettled(encodeX402(response));
  };

  const pause = async (need: bigint) => {
    await closeWindow();
    nextCeiling = need - committed > windowCost ? need - committed : windowCost;
    if (fromBudget) {
      // A budget needs no top-up round trip: the next window is reserved from it at once (budget_exhausted ends the stream).
      current = await admit(nextCeiling, undefined);
      return;
    }
    const required: PaymentRequired = payments.gate.requirements(resource, nextCeiling, 'stream_credit_exhausted');
    const arrived = new Promise<void>((resolve, reject) => (waiting = { resolve, reject }));
    const timer = setTimeout(() => waiting?.reject(new PaymentError('payment_required', `the stream waited ${Math.round(options.pauseMs / 1000)} s for a top-up voucher`, required)), options.pauseMs);
    const onAbort = () => waiting?.reject(new VeilError('cancelled'));
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await options.onPaymentRequired(encodeX402(required));
      await arrived;
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      waiting = undefined;
    }
  };

  return {
    async open(header) {
      current = await admit(costOf(price, options.firstWindow), header);
    },
    async cover(usage) {
      const need = costOf(price, usage);
      // The first window reserves the whole context for the prompt, unknown until the node counts it; once counted,
      // what the prompt did not use is not credit for more completion: the window buys `windowTokens` like the others.
      if (segment === 1 && current && firstLimit === undefined) {
        const counted = costOf(price, { ...options.firstWindow, inputTokens: usage.inputTokens ?? 0 });
        firstLimit = counted < current.ceiling ? counted : current.ceiling;
      }
      const limit = () => (current === undefined ? 0n : segment === 1 && firstLimit !== undefined ? firstLimit : current.ceiling);
      while (need > committed + limit()) {
        if (finished) throw new VeilError('cancelled');
        await pause(need);
      }
    },
    delivered(usage, signed) {
      const cost = costOf(price, usage);
      if (cost > deliveredCost) deliveredCost = cost;
      if (signed && (!lastSigned || signed.events > lastSigned.events)) lastSigned = signed;
    },
    async topUp(header) {
      if (!waiting) throw new VeilError('invalid_argument', 'this stream is not waiting for a payment', { param: 'stream' });
      const admission = await admit(nextCeiling, header);
      if (!waiting) {
        // The pause ended (timeout, client gone) while the voucher was checked: nothing more will be delivered.
        await admission.release();
        throw new VeilError('stream_not_found');
      }
      current = admission;
      waiting.resolve();
    },
    async finish() {
      if (finished) return;
      finished = true;
      waiting?.reject(new VeilError('cancelled'));
      await closeWindow();
    },
  };
}
