import type { Address } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';
import { writePaymentChannels } from './write-payment-channels';

export type RotateAuthorizerParameters = { contractAddress: Address; config: ChannelConfig; newAuthorizer: Address };
export type RotateAuthorizerReturnType = WriteReturnType;

/**
 * Payer only: hands the channel to a new session key. The new key signs valid vouchers at once; the old key's vouchers
 * stay claimable for `withdrawDelay` (so a payer cannot void vouchers the receiver holds) and are refused after.
 * @throws {ChainError} `not_payer`, `rotation_pending`, `zero_address`, `channel_not_found`, `channel_closed`
 */
export async function rotateAuthorizer(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, config, newAuthorizer }: RotateAuthorizerParameters,
): Promise<RotateAuthorizerReturnType> {
  return writePaymentChannels(walletClient, publicClient, 'rotateAuthorizer', contractAddress, 'rotateAuthorizer', [
    toChannelConfigMessage(config),
    toAddress('newAuthorizer', newAuthorizer),
  ]);
}
