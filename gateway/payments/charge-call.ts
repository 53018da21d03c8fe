import { costOf, encodeX402, priceOf, type PaymentGate, type PriceTable, type Usage } from '../../payments';
import { callerKey, type CallContext } from '../grpc/call-context';
import { withSpan } from '../with-span';

/** What a paid surface needs: the gate (admission, ledger) and the price table. Undefined when payments are off. */
export type GatewayPayments = { gate: PaymentGate; prices: PriceTable };

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
  work: () => Promise<{ value: T; usage: Usage }>,
): Promise<T> {
  if (!payments) return (await work()).value;
  const price = priceOf(payments.prices, call.modelId);
  const ceiling = costOf(price, call.ceilingUsage);
  if (ceiling === 0n) return (await work()).value;
  const key = context.payment.idempotencyKey;
  // Without a key every call is its own request; with one, a retry is recognised by the caller who sent it.
  const requestId = key !== undefined && /^[\x21-\x7e]{1,255}$/.test(key) ? `idem:${callerKey(context)}:${key}` : `req:${context.requestId}`;
  // issue #12: verification (signature, binding, on-chain authorizer, reservation) and the commit are spans of the call.
  const admission = await withSpan('veil.payment.verify', async (span) => {
    const admitted = await payments.gate.admit({ requestId, resource: call.resource, ceiling, header: context.payment.signature });
    span.setAttributes({ 'veil.payment.resource': call.resource, 'veil.payment.admission': admitted.kind });
    return admitted;
  });
  if (admission.kind === 'replay') {
    const { value } = await work();
    context.payment.response = encodeX402(admission.response);
    return value;
  }
  let out: { value: T; usage: Usage };
  try {
    out = await work();
  } catch (err) {
    // A ledger that cannot release now leaves the reservation to expire (reapExpired): still never charged.
    await admission.release().catch(() => undefined);
    throw err;
  }
  const actual = costOf(price, out.usage);
  const { response } = await withSpan('veil.payment.commit', () => admission.commit(actual < ceiling ? actual : ceiling));
  context.payment.response = encodeX402(response);
  return out.value;
}
