import type { Address, Hex } from 'viem';

/**
 * A channel's immutable configuration; its EIP-712 hash is the channel id (x402 `batch-settlement`'s ChannelConfig
 * without `receiverAuthorizer`). `payerAuthorizer` is the session key the channel opens with; `rotateAuthorizer` changes
 * the key in storage, not the id.
 */
export type ChannelConfig = {
  payer: Address;
  payerAuthorizer: Address;
  receiver: Address;
  token: Address;
  /** Seconds between `initiateWithdraw` and `finalizeWithdraw` (15 min to 30 days). */
  withdrawDelay: number;
  salt: Hex;
};

/** Where a channel lives: vouchers and ids are bound to both. */
export type PaymentChannelsDeployment = { chainId: number; contractAddress: Address };
