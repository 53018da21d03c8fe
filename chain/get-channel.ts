import type { Address, Hex } from 'viem';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import type { ChannelConfig } from './channel-config';
import { channelId } from './channel-id';
import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress, toBytes32 } from './validate';

export type GetChannelParameters = { contractAddress: Address; blockNumber?: bigint } & ({ config: ChannelConfig } | { channelId: Hex });
export type ChannelState = {
  channelId: Hex;
  /** Opened by a first deposit and not closed. */
  open: boolean;
  closed: boolean;
  deposited: bigint;
  claimed: bigint;
  /** `deposited - claimed`: what a voucher can still pay out, or what a withdrawal would refund. */
  remaining: bigint;
  authorizer: Address;
  /** Unix seconds; 0n when no withdrawal is pending. */
  withdrawReadyAt: bigint;
  /** Zero address when no rotation was ever started. */
  pendingAuthorizer: Address;
  rotationReadyAt: bigint;
};
export type GetChannelReturnType = ChannelState;

const ZERO = '0x0000000000000000000000000000000000000000';

/**
 * Reads a channel's on-chain state by config or id (all zeros when it was never opened).
 * @throws {ChainError} `rpc_unavailable`, `registry_not_found` (no contract at the address)
 */
export async function getChannel(publicClient: RegistryPublicClient, params: GetChannelParameters): Promise<GetChannelReturnType> {
  const address = toAddress('contractAddress', params.contractAddress);
  let id: Hex;
  if ('config' in params) {
    const chainId = publicClient.chain?.id ?? (await readRegistry('getChannel', () => publicClient.getChainId()));
    id = channelId({ chainId, contractAddress: address, config: params.config });
  } else {
    id = toBytes32('channelId', params.channelId);
  }
  const ch = await readRegistry('getChannel', () =>
    publicClient.readContract({ address, abi: veilPaymentChannelsAbi, functionName: 'getChannel', args: [id], blockNumber: params.blockNumber }),
  );
  if (ch.deposited < ch.claimed) throw new ChainError('internal', 'getChannel: claimed exceeds deposited');
  return {
    channelId: id,
    open: ch.authorizer !== ZERO && !ch.closed,
    closed: ch.closed,
    deposited: ch.deposited,
    claimed: ch.claimed,
    remaining: ch.deposited - ch.claimed,
    authorizer: ch.authorizer,
    withdrawReadyAt: BigInt(ch.withdrawReadyAt),
    pendingAuthorizer: ch.pendingAuthorizer,
    rotationReadyAt: BigInt(ch.rotationReadyAt),
  };
}
