import type { Hex, LocalAccount } from 'viem';
import type { PaymentChannelsDeployment } from './channel-config';
import { PAYMENT_CHANNEL_TYPES, paymentChannelsDomain } from './payment-channel-typed-data';
import { toAddress, toBytes32 } from './validate';

export type SignCloseParameters = PaymentChannelsDeployment & { channelId: Hex };

/**
 * The receiver's consent to a cooperative close, `Close(bytes32 channelId)`, which anyone (usually the payer) may relay
 * with `closeChannel({ receiverSignature })`. No nonce: a closed channel never reopens.
 */
export async function signClose(receiver: LocalAccount, { chainId, contractAddress, channelId }: SignCloseParameters): Promise<Hex> {
  return receiver.signTypedData({
    domain: paymentChannelsDomain(chainId, toAddress('contractAddress', contractAddress)),
    types: PAYMENT_CHANNEL_TYPES,
    primaryType: 'Close',
    message: { channelId: toBytes32('channelId', channelId) },
  });
}
