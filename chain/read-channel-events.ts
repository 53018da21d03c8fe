import type { Address, ContractEventArgs, ContractEventName, Hash, Hex } from 'viem';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress } from './validate';

type Abi = typeof veilPaymentChannelsAbi;
/** Every event of VeilPaymentChannels: ChannelOpened, Deposited, Claimed, WithdrawInitiated, ChannelClosed, AuthorizerRotationStarted. */
export type ChannelEventName = ContractEventName<Abi>;

/** One decoded event, where it was mined, and the block hash a mirror compares to notice a reorg. */
export type ChannelEvent = {
  [N in ChannelEventName]: {
    eventName: N;
    /** As decoded from the ABI: uint128 amounts are bigints, uint40 times and delays are numbers. */
    args: ContractEventArgs<Abi, N>;
    channelId: Hex;
    blockNumber: bigint;
    blockHash: Hash;
    transactionHash: Hash;
    logIndex: number;
  };
}[ChannelEventName];

export type ReadChannelEventsParameters = {
  contractAddress: Address;
  /** Inclusive range. For a mirror: from the block after the last one applied, to `confirmedBlock(publicClient, depth)`. */
  fromBlock: bigint;
  toBlock: bigint;
};
export type ReadChannelEventsReturnType = ChannelEvent[];

/**
 * The payment-channel contract's events in a block range, decoded and in chain order (block, then log index), for
 * mirroring deposits, top-ups, claims, withdrawals, closes and rotations off-chain. Every channel's events come back;
 * filter by `channelId` in memory. One `eth_getLogs` call: public RPCs cap the range (often 1k–10k blocks), so a mirror
 * catching up reads in pages.
 *
 * @example
 * const toBlock = await confirmedBlock(publicClient, 12)
 * const events = await readChannelEvents(publicClient, { contractAddress, fromBlock: lastApplied + 1n, toBlock })
 * @throws {ChainError} `invalid_argument` (a negative or reversed range), `registry_not_found` (no contract at the
 *   address: an empty answer would look like a quiet channel), `rpc_unavailable`, `rpc_error`
 */
export async function readChannelEvents(
  publicClient: RegistryPublicClient,
  { contractAddress, fromBlock, toBlock }: ReadChannelEventsParameters,
): Promise<ReadChannelEventsReturnType> {
  const address = toAddress('contractAddress', contractAddress);
  if (typeof fromBlock !== 'bigint' || fromBlock < 0n) throw new ChainError('invalid_argument', 'fromBlock: must be a non-negative bigint', { details: { field: 'fromBlock' } });
  if (typeof toBlock !== 'bigint' || toBlock < fromBlock) throw new ChainError('invalid_argument', 'toBlock: must be a bigint not below fromBlock', { details: { field: 'toBlock' } });
  const [code, logs] = await Promise.all([
    readRegistry('readChannelEvents', () => publicClient.getCode({ address })),
    readRegistry('readChannelEvents', () => publicClient.getContractEvents({ address, abi: veilPaymentChannelsAbi, fromBlock, toBlock, strict: true })),
  ]);
  if (!code || code === '0x') {
    throw new ChainError('registry_not_found', 'readChannelEvents: no payment-channel contract at this address on this chain', { details: { contractAddress: address } });
  }
  const events = logs.map((log): ChannelEvent => {
    // Mined logs always carry these; a node that leaves them out cannot be mirrored from safely.
    if (log.blockNumber === null || log.blockHash === null || log.transactionHash === null || log.logIndex === null) {
      throw new ChainError('rpc_error', 'readChannelEvents: the node returned a log without its block position');
    }
    return {
      eventName: log.eventName,
      args: log.args,
      channelId: log.args.channelId,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
    } as ChannelEvent; // TypeScript cannot correlate eventName with args through the union; viem decoded them together
  });
  // eth_getLogs answers in chain order on the nodes we know; sorting makes it a guarantee rather than an assumption.
  return events.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
}
