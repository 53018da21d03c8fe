import type { Address } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { writePaymentChannels } from './write-payment-channels';

export type InitiateWithdrawParameters = { contractAddress: Address; config: ChannelConfig };
export type InitiateWithdrawReturnType = WriteReturnType;

/**
 * Payer only
 * @throws {ChainError} ` starts the exit clock (the config's withdrawDelay). The receiver can still claim until finalizeWithdraw is mined`, `so a gateway must claim at once when it sees WithdrawInitiated.:not_payer`, `withdraw_pending`, `channel_not_found`, `channel_closed`
 */
export async function initiateWithdraw(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, config }: InitiateWithdrawParameters,
): Promise<InitiateWithdrawReturnType> {
  return writePaymentChannels(walletClient, publicClient, 'initiateWithdraw', contractAddress, 'initiateWithdraw', [toChannelConfigMessage(config)]);
}
