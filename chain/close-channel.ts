import type { Address, Hex } from 'viem';
import type { ChannelConfig } from './channel-config';
import { toChannelConfigMessage } from './channel-id';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toHexBytes } from './validate';
import { writePaymentChannels } from './write-payment-channels';

export type CloseChannelParameters = {
  contractAddress: Address;
  config: ChannelConfig;
  /** The receiver's `signClose` signature, when someone other than the receiver sends the close. */
  receiverSignature?: Hex;
};
export type CloseChannelReturnType = WriteReturnType;

/**
 * Cooperative close: refunds everything not yet claimed to the payer at once, no delay. Sent by the receiver, or by
 * anyone with the receiver's signature. The receiver should claim its last voucher first: unclaimed vouchers die here.
 * @throws {ChainError} `not_receiver`, `invalid_voucher_signature`, `channel_not_found`, `channel_closed`
 */
export async function closeChannel(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, config, receiverSignature }: CloseChannelParameters,
): Promise<CloseChannelReturnType> {
  const message = toChannelConfigMessage(config);
  if (receiverSignature === undefined) return writePaymentChannels(walletClient, publicClient, 'closeChannel', contractAddress, 'close', [message]);
  const sig = toHexBytes('receiverSignature', receiverSignature, { size: 65 });
  return writePaymentChannels(walletClient, publicClient, 'closeChannel', contractAddress, 'closeWithSignature', [message, sig]);
}
