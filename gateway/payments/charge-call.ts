import { costOf, decodePaymentPayload, encodeX402, priceOf, type BudgetGate, type PaidAdmission, type PaymentGate, type PriceTable, type ReplayedAdmission, type SignedUsage, type Usage } from '../../payments';
import { callerKey, type CallContext } from '../grpc/call-context';
import { withSpan } from '../with-span';

/** What a paid surface needs: the gate (admission, ledger) and the price table. Undefined when payments are off. */
export type GatewayPayments = {
  gate: PaymentGate;
  prices: PriceTable;
  /** API keys with budgets (auth.mode = api-keys): a call with no voucher is charged to its key's budget, if it has one. */
  budgets?: { gate: BudgetGate; budgetOf(keyId: string): bigint | undefined };
  /** Paid streams' credit window (payments.streamWindowTokens, payments.streamPauseSeconds); defaults when absent. */
  stream?: { windowTokens: number; pauseMs: number };
};

export const DEFAULT_STREAM_WINDOW_TOKENS = 64;
export const DEFAULT_STREAM_PAUSE_MS = 30_000;

export type PaidCall = {
  /** `fhe:<model>` or `tee:<model>`: the receipt's resource, never anything of the payload. */
  resource: string;
  modelId: string;
  /** The most the call can use, known before it runs (e.g. its ciphertext groups): the reservation's ceiling. */
  ceilingUsage: Usage;
};

/**
 * Runs one call as a paid call, the one rule for every surface and mode: admit (verify the PAYMENT-SIGNATURE, reserve
 * the ceiling) before the work, run it, charge what it actually used (never more than the ceiling) and commit that to
 * the ledger before the answer leaves; a failure releases the reservation, so a call that was not served is not paid.
 * A retry under the same Idempotency-Key after a committed call runs again and answers the stored receipt: it is never
 * charged twice. When the ledger cannot commit, the answer is withheld (the client retries under its key).
 */
export async function chargeCall<T>(
  payments: GatewayPayments | undefined,
  context: CallContext,
  call: PaidCall,
  work: () => Promise<{ value: T; usage: Usage; signed?: SignedUsage }>,
): Promise<T> {
  if (!payments) return (await work()).value;
  const price = priceOf(payments.prices, call.modelId);
  const ceiling = costOf(price, call.ceilingUsage);
  if (ceiling === 0n) return (await work()).value;
  const key = context.payment.idempotencyKey;
  // Without a key every call is its own request; with one, a retry is recognised by the caller who sent it.
  const requestId = key !== undefined && /^[\x21-\x7e]{1,255}$/.test(key) ? `idem:${idempotencyScope(context)}:${key}` : `req:${context.requestId}`;
  // issue #12: verification (signature, binding, on-chain authorizer or key budget, reservation) and the commit are spans of the call.
  const admission = await withSpan('veil.payment.verify', async (span) => {
    const admitted = await admitCall(payments, context, { requestId, resource: call.resource, ceiling });
    span.setAttributes({ 'veil.payment.resource': call.resource, 'veil.payment.admission': admitted.kind });
    return admitted;
  });
  if (admission.kind === 'replay') {
    const { value } = await work();
    context.payment.response = encodeX402(admission.response);
    return value;
  }
  let out: { value: T; usage: Usage; signed?: SignedUsage };
  try {
    out = await work();
  } catch (err) {
    // A ledger that cannot release now leaves the reservation to expire (reapExpired): still never charged.
    await admission.release().catch(() => undefined);
    throw err;
  }
  const actual = costOf(price, out.usage);
  const { response } = await withSpan('veil.payment.commit', () => admission.commit(actual < ceiling ? actual : ceiling, out.signed));
  context.payment.response = encodeX402(response);
  return out.value;
}

/**
 * Whose retry key this is. A voucher's channel when the call carries one: only the channel's authorizer can sign a
 * voucher the gate admits, and it is the same whichever replica or proxy hop the retry comes through (behind a
 * balancer, or after failing over to another gateway, the peer address differs). Otherwise the API key or peer.
 */
function idempotencyScope(context: CallContext): string {
  const header = context.payment.signature;
  if (header !== undefined && header !== '') {
    try {
      const channel = decodePaymentPayload(header).payload.voucher.channelId;
      if (typeof channel === 'string' && /^0x[0-9a-fA-F]{64}$/.test(channel)) return `channel:${channel.toLowerCase()}`;
    } catch {
      // A malformed header is refused by the gate; its scope does not matter.
    }
  }
  return callerKey(context);
}

/**
 * The one admission rule of a paid call: a voucher (PAYMENT-SIGNATURE) pays through the payment gate; no voucher from
 * an API key with a budget is charged to that budget (the same ledger rules); anything else is "payment required".
 */
export function admitCall(
  payments: GatewayPayments,
  context: CallContext,
  call: { requestId: string; resource: string; ceiling: bigint },
): Promise<PaidAdmission | ReplayedAdmission> {
  const header = context.payment.signature;
  const keyId = context.principal;
  const budget = (header === undefined || header === '') && keyId !== undefined ? payments.budgets?.budgetOf(keyId) : undefined;
  if (budget !== undefined) return payments.budgets!.gate.admit({ ...call, keyId: keyId!, budget });
  return payments.gate.admit({ ...call, header });
}

/** Whether a call of this context pays from its API key's budget rather than with vouchers. */
export function paysFromBudget(payments: GatewayPayments, context: CallContext): boolean {
  const header = context.payment.signature;
  return (header === undefined || header === '') && context.principal !== undefined && payments.budgets?.budgetOf(context.principal) !== undefined;
}
