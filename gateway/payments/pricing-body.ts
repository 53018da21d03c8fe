import { priceTableJson, VEIL_CHANNEL_SCHEME, type PriceTable } from '../../payments';

export type PricingInfo = {
  /** Whether calls are charged at all (payments.enabled). */
  enabled: boolean;
  prices: PriceTable;
  /** Where payments go (absent when payments are off). */
  payTo?: {
    network: string; contract: string; token: string; receiver: string; minWithdrawDelay: number;
    /** The embedded dev chain's JSON-RPC URL, where a dev client opens its channel (never an operator's chain.rpcUrl). */
    rpcUrl?: string;
  };
};

/**
 * What each model's calls cost per unit (atomic units of `asset`, decimal strings) and where to pay: the scheme,
 * network (CAIP-2), channel contract, token and receiver a client needs to open a channel before its first call.
 * The one body `GET /v1/pricing` and `Models.GetPricing` (as `pricing_json`) both answer.
 */
export function pricingBody(info: PricingInfo): object {
  return {
    object: 'pricing',
    enabled: info.enabled,
    ...(info.payTo ? { scheme: VEIL_CHANNEL_SCHEME, ...info.payTo } : {}),
    ...priceTableJson(info.prices),
  };
}
