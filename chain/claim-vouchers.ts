import type { Address, Hash } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import { ChainError } from './errors';
import type { SignedVoucher } from './sign-voucher';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toHexBytes } from './validate';
import { writePaymentChannels } from './write-payment-channels';

const MAX_UINT128 = (1n << 128n) - 1n;

/**
 * One channel's claim, x402 `batch-settlement`'s `VoucherClaim`: the best voucher the receiver holds (a cumulative
 * ceiling) and `totalClaimed`, the cumulative amount it actually charged on the channel, which is at most the ceiling.
 */
export type VoucherClaim = { config: ChannelConfig; voucher: SignedVoucher; totalClaimed: bigint };
export type ClaimVouchersParameters = {
  contractAddress: Address;
  claims: readonly VoucherClaim[];
  /** Called with the transaction hash as soon as it is sent (to record a pending claim), before the receipt wait. */
  onSent?: (hash: Hash) => Promise<void> | void;
  /** Bound on the receipt wait; on timeout the claim may still be mined (check its hash later). */
  receiptTimeoutMs?: number;
};
export type ClaimVouchersReturnType = WriteReturnType;

/**
 * Receiver only: claims many channels in one transaction. Each channel pays `totalClaimed` minus what it already paid;
 * a stale (lower or equal) total pays nothing and does not fail the batch. Group claims by token so each token is one
 * transfer.
 *
 * @example
 * await claimVouchers(receiverWallet, pub, { contractAddress, claims: [{ config, voucher, totalClaimed: charged }] })
 * @throws {ChainError} `invalid_argument` (a `totalClaimed` outside uint128 or above its voucher's ceiling, checked before
 *   anything is sent), `not_receiver`, `invalid_voucher_signature`, `claim_exceeds_voucher`, `voucher_exceeds_deposit`,
 *   `channel_not_found`, `channel_closed`
 */
export async function claimVouchers(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, claims, onSent, receiptTimeoutMs }: ClaimVouchersParameters,
): Promise<ClaimVouchersReturnType> {
  if (claims.length === 0) throw new ChainError('invalid_argument', 'claims: nothing to claim');
  const args = claims.map(({ config, voucher, totalClaimed }, i) => {
    const field = `claims[${i}].totalClaimed`;
    if (typeof totalClaimed !== 'bigint' || totalClaimed < 0n || totalClaimed > MAX_UINT128) {
      throw new ChainError('invalid_argument', `${field}: must be a bigint that fits a uint128`, { details: { field } });
    }
    // The contract refuses it too (ClaimExceedsVoucher); refusing here saves a failed transaction's gas.
    if (totalClaimed > voucher.maxClaimableAmount) {
      throw new ChainError('invalid_argument', `${field}: exceeds the voucher's maxClaimableAmount`, {
        details: { field, totalClaimed: totalClaimed.toString(), maxClaimableAmount: voucher.maxClaimableAmount.toString() },
      });
    }
    return {
      config: toChannelConfigMessage(config),
      maxClaimableAmount: voucher.maxClaimableAmount,
      signature: toHexBytes(`claims[${i}].voucher.signature`, voucher.signature, { size: 65 }),
      totalClaimed,
    };
  });
  return writePaymentChannels(walletClient, publicClient, 'claimVouchers', contractAddress, 'claim', [args], false, { onSent, timeoutMs: receiptTimeoutMs });
}
