import { depositChannel, type DepositChannelParameters, type DepositChannelReturnType } from './deposit-channel';
import { ChainError } from './errors';
import { getChannel } from './get-channel';
import type { RegistryPublicClient, RegistryWalletClient } from './types';

export type TopUpChannelParameters = DepositChannelParameters;
export type TopUpChannelReturnType = DepositChannelReturnType;

/**
 * Adds funds to an open channel. Same contract call as the first deposit; this action refuses to *open* one, so a
 * mistyped config (a new id) fails here instead of silently funding a fresh channel.
 * @throws {ChainError} `channel_not_found`, plus everything `depositChannel` throws
 */
export async function topUpChannel(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  params: TopUpChannelParameters,
): Promise<TopUpChannelReturnType> {
  const state = await getChannel(publicClient, { contractAddress: params.contractAddress, config: params.config });
  if (!state.open) throw new ChainError('channel_not_found', `topUpChannel: no open channel ${state.channelId}`, { details: { channelId: state.channelId } });
  return depositChannel(walletClient, publicClient, params);
}
