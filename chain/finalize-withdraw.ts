import type { Address } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { writePaymentChannels } from './write-payment-channels';

export type FinalizeWithdrawParameters = { contractAddress: Address; config: ChannelConfig };
export type FinalizeWithdrawReturnType = WriteReturnType;

/**
 * Payer only, after the delay
 * @throws {ChainError} ` refunds everything not claimed and closes the channel for good.:not_payer`, `withdraw_not_initiated`, `withdraw_not_ready`, `channel_not_found`, `channel_closed`
 */
export async function finalizeWithdraw(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, config }: FinalizeWithdrawParameters,
): Promise<FinalizeWithdrawReturnType> {
  return writePaymentChannels(walletClient, publicClient, 'finalizeWithdraw', contractAddress, 'finalizeWithdraw', [toChannelConfigMessage(config)]);
}
