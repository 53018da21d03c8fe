/**
 * The EIP-712 domain and types of VeilPaymentChannels, in one place so the channel id, the vouchers and the close
 * signature are all hashed by viem from the same definitions the contract uses. Field order matters: it is the type string.
 * @internal
 */
import type { Address, TypedDataDomain } from 'viem';

export const PAYMENT_CHANNELS_DOMAIN_NAME = 'Veil Payment Channels';
export const PAYMENT_CHANNELS_DOMAIN_VERSION = '1';

export const PAYMENT_CHANNEL_TYPES = {
  ChannelConfig: [
    { name: 'payer', type: 'address' },
    { name: 'payerAuthorizer', type: 'address' },
    { name: 'receiver', type: 'address' },
    { name: 'token', type: 'address' },
    { name: 'withdrawDelay', type: 'uint40' },
    { name: 'salt', type: 'bytes32' },
  ],
  Voucher: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'maxClaimableAmount', type: 'uint128' },
  ],
  Close: [{ name: 'channelId', type: 'bytes32' }],
} as const;

/** The domain is bound to the chain id and the contract address, so nothing signed replays on another chain or deployment. */
export function paymentChannelsDomain(chainId: number, contractAddress: Address): TypedDataDomain {
  return { name: PAYMENT_CHANNELS_DOMAIN_NAME, version: PAYMENT_CHANNELS_DOMAIN_VERSION, chainId, verifyingContract: contractAddress };
}
