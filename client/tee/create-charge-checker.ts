import { createHash } from 'node:crypto';
import { costOf, decodeX402, parsePriceTable, priceOf, type PriceTable, type SettlementResponse } from '../../payments';
import { verifyTeeUsage } from '../../tee';
import type { ChargeCheck } from '../payments';

export type ChargeCheckerOptions = {
  /** The prices the client agreed to; when absent, the gateway's GET /v1/pricing on first use, pinned from then on. */
  prices?: PriceTable;
  fetchPricing(): Promise<unknown>;
};

/** One call's running account: a single answer is one receipt; a stream's windows add up. */
export type CallCharges = { charged: bigint };

export type ChargeChecker = {
  /** A node's attested signing address, as the evidence the client verified names it. */
  remember(nodeId: string, signingAddress: string): void;
  /**
   * The most this receipt may charge: the pinned prices × the usage the enclave signed for this request (verified
   * against the node's attested key), minus what earlier windows of the same call charged. A receipt without a signed
   * statement may charge only the per-call price; one whose statement does not verify may charge nothing.
   */
  check(call: { modelId: string; nodeId: string; sealedRequest: Uint8Array }, receipt: string | undefined, so: CallCharges): Promise<ChargeCheck | undefined>;
};

/**
 * The client's own check of a TEE charge (issue #11 §4, "a gateway that overcharges is caught by the client"). The
 * gateway cannot see tokens, so it bills what the enclave signed it used (tee/PROTOCOL.md §12) and puts that
 * statement in the receipt; the client recomputes the charge from the statement and the prices it holds, so neither
 * inflated counts (they would not verify) nor other prices (they are pinned) get past it.
 */
export function createChargeChecker(options: ChargeCheckerOptions): ChargeChecker {
  const nodes = new Map<string, string>();
  let prices: Promise<PriceTable> | undefined = options.prices ? Promise.resolve(options.prices) : undefined;
  const pinned = () => (prices ??= options.fetchPricing().then((json) => {
    // GET /v1/pricing also says where to pay; the table is its asset, default and models.
    const { asset, default: fallback, models } = (json ?? {}) as Record<string, unknown>;
    return parsePriceTable({ asset, default: fallback, models }, 'the gateway\'s GET /v1/pricing');
  }));
  return {
    remember(nodeId, signingAddress) {
      if (nodes.size > 1_000 && !nodes.has(nodeId)) nodes.delete(nodes.keys().next().value!);
      nodes.set(nodeId, signingAddress);
    },
    async check(call, receipt, so) {
      if (receipt === undefined) return undefined;
      let response: SettlementResponse;
      try {
        response = decodeX402<SettlementResponse>(receipt, 'PAYMENT-RESPONSE');
      } catch {
        return undefined; // the payer refuses a malformed receipt itself
      }
      const price = priceOf(await pinned(), call.modelId);
      const charged = typeof response?.extra?.chargedAmount === 'string' && /^[0-9]{1,39}$/.test(response.extra.chargedAmount) ? BigInt(response.extra.chargedAmount) : 0n;
      const usage = response?.extra?.usage;
      let allowed: bigint;
      let because: string;
      if (!usage) {
        allowed = costOf(price, { calls: 1 });
        because = 'the per-call price (the receipt carries no usage signed by the enclave)';
      } else {
        const signer = nodes.get(call.nodeId);
        try {
          if (!signer) throw new Error('no attested node');
          verifyTeeUsage({
            modelId: call.modelId, requestHash: createHash('sha256').update(call.sealedRequest).digest(), events: usage.events,
            inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, signature: usage.signature, signingAddress: signer,
          });
          allowed = costOf(price, { calls: 1, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
          because = `the quoted prices for the ${usage.inputTokens} + ${usage.outputTokens} tokens the enclave signed`;
        } catch {
          allowed = 0n;
          because = 'anything: its usage statement is not signed by the attested enclave';
        }
      }
      const left = allowed > so.charged ? allowed - so.charged : 0n;
      so.charged += charged;
      return { maxCharge: left, because };
    },
  };
}
