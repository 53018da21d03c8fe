import type { Address } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import { ChainError } from './errors';
import type { SignedVoucher } from './sign-voucher';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toHexBytes } from './validate';
import { writePaymentChannels } from './write-payment-channels';

export type VoucherClaim = { config: ChannelConfig; voucher: SignedVoucher };
export type ClaimVouchersParameters = { contractAddress: Address; claims: readonly VoucherClaim[] };
export type ClaimVouchersReturnType = WriteReturnType;

/**
 * Receiver only: claims many channels in one transaction. Each channel pays the increase of its voucher over what it
 * already paid; stale vouchers pay nothing. Group claims by token so each token is one transfer.
 *
 * @throws {ChainError} `not_receiver`, `invalid_voucher_signature`, `voucher_exceeds_deposit`, `channel_not_found`, `channel_closed`
 */
export async function claimVouchers(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, claims }: ClaimVouchersParameters,
): Promise<ClaimVouchersReturnType> {
  if (claims.length === 0) throw new ChainError('invalid_argument', 'claims: nothing to claim');
  const args = claims.map(({ config, voucher }) => ({
    config: toChannelConfigMessage(config),
    maxClaimableAmount: voucher.maxClaimableAmount,
    signature: toHexBytes('voucher.signature', voucher.signature, { size: 65 }),
  }));
  return writePaymentChannels(walletClient, publicClient, 'claimVouchers', contractAddress, 'claim', [args], false);
}
