import type { Address, Hex } from 'viem';
import type { ChannelConfig } from '../chain';

/** The x402 v2 message shapes of the `veil-channel` scheme (x402-messages.ts encodes and decodes them). */
/** The channel as the gateway's ledger sees it: what a client that lost track resyncs from. */
export type ChannelStateView = { channelId: Hex; charged: string; reserved: string; signedMax: string; deposited: string };

export type PaymentRequirements = {
  scheme: 'veil-channel';
  /** CAIP-2, e.g. `eip155:31337`. */
  network: string;
  /** This call's ceiling, in atomic units (decimal string). */
  amount: string;
  asset: Address;
  payTo: Address;
  maxTimeoutSeconds: number;
  extra: {
    contract: Address;
    domain: { name: string; version: string };
    /** The shortest withdraw delay (seconds) the gateway accepts for a channel config. */
    minWithdrawDelay: number;
    /** Present in a corrective 402: the channel's state, so the client can sign the voucher it needs. */
    channelState?: ChannelStateView;
  };
};

export type PaymentRequired = {
  x402Version: 2;
  error?: string;
  resource: { url: string; description?: string };
  accepts: PaymentRequirements[];
};

export type ChannelPayment = { config: ChannelConfig; voucher: { channelId: Hex; maxClaimableAmount: bigint; signature: Hex } };

export type PaymentPayload = { x402Version: 2; accepted: { scheme: string; network: string }; payload: ChannelPayment };

export type SettlementResponse = {
  success: boolean;
  /** Vouchers settle later in batched claims: empty, as in `batch-settlement`. */
  transaction: '';
  network: string;
  payer: Address;
  extra: { requestId: string; chargedAmount: string; channelState: ChannelStateView; usage?: SignedUsage };
};

/**
 * What a TEE call used, as its enclave signed it (tee/PROTOCOL.md §12), carried in the receipt so the payer can check
 * the charge against counts the gateway cannot forge: for a stream window, the counts through the last event delivered.
 */
export type SignedUsage = { inputTokens: number; outputTokens: number; events: number; signature: string };

