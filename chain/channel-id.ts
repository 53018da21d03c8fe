import { hashTypedData, type Hex } from 'viem';
import type { ChannelConfig, PaymentChannelsDeployment } from './channel-config';
import { PAYMENT_CHANNEL_TYPES, paymentChannelsDomain } from './payment-channel-typed-data';
import { toAddress, toBytes32 } from './validate';

export type ChannelIdParameters = PaymentChannelsDeployment & { config: ChannelConfig };

/**
 * The channel id, computed off-chain exactly as `VeilPaymentChannels.channelId(config)` does: the EIP-712 hash of the
 * config under the contract's domain. A test checks both agree.
 *
 * @example
 * const id = channelId({ chainId: 31337, contractAddress, config })
 * @throws {ChainError} `invalid_address`, `invalid_hex`
 */
export function channelId({ chainId, contractAddress, config }: ChannelIdParameters): Hex {
  return hashTypedData({
    domain: paymentChannelsDomain(chainId, toAddress('contractAddress', contractAddress)),
    types: PAYMENT_CHANNEL_TYPES,
    primaryType: 'ChannelConfig',
    message: toChannelConfigMessage(config),
  });
}

/** Validates a config and shapes it for viem (bigint-free: uint40 fits a number). @internal */
export function toChannelConfigMessage(config: ChannelConfig) {
  return {
    payer: toAddress('config.payer', config.payer),
    payerAuthorizer: toAddress('config.payerAuthorizer', config.payerAuthorizer),
    receiver: toAddress('config.receiver', config.receiver),
    token: toAddress('config.token', config.token),
    withdrawDelay: config.withdrawDelay,
    salt: toBytes32('config.salt', config.salt),
  };
}
