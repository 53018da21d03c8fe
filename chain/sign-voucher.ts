import type { Hex, LocalAccount } from 'viem';
import type { PaymentChannelsDeployment } from './channel-config';
import { ChainError } from './errors';
import { PAYMENT_CHANNEL_TYPES, paymentChannelsDomain } from './payment-channel-typed-data';
import { toAddress, toBytes32 } from './validate';

const MAX_UINT128 = (1n << 128n) - 1n;

/** x402 `batch-settlement`'s voucher: a cumulative ceiling, not an increment. */
export type Voucher = { channelId: Hex; maxClaimableAmount: bigint };
export type SignedVoucher = Voucher & { signature: Hex };
export type SignVoucherParameters = PaymentChannelsDeployment & Voucher;

/**
 * Signs `Voucher(bytes32 channelId,uint128 maxClaimableAmount)` with the channel's session key (viem `signTypedData`).
 *
 * @example
 * const voucher = await signVoucher(sessionKey, { chainId, contractAddress, channelId: id, maxClaimableAmount: 1_500n })
 * @throws {ChainError} `invalid_argument` (amount outside uint128), `invalid_address`, `invalid_hex`
 */
export async function signVoucher(
  authorizer: LocalAccount,
  { chainId, contractAddress, channelId, maxClaimableAmount }: SignVoucherParameters,
): Promise<SignedVoucher> {
  if (maxClaimableAmount < 0n || maxClaimableAmount > MAX_UINT128) {
    throw new ChainError('invalid_argument', 'maxClaimableAmount: must fit a uint128');
  }
  const id = toBytes32('channelId', channelId);
  const signature = await authorizer.signTypedData({
    domain: paymentChannelsDomain(chainId, toAddress('contractAddress', contractAddress)),
    types: PAYMENT_CHANNEL_TYPES,
    primaryType: 'Voucher',
    message: { channelId: id, maxClaimableAmount },
  });
  return { channelId: id, maxClaimableAmount, signature };
}
