import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';

/**
 * The newest block with at least `depth` blocks on top of it: `head − depth`, never below 0. A mirror reads events up to
 * this block only, so a reorg shallower than `depth` cannot take back what it already applied. Depth 0 is the head itself.
 *
 * @example
 * const toBlock = await confirmedBlock(publicClient, 12)
 * @throws {ChainError} `invalid_argument` (depth not a non-negative integer), `rpc_unavailable`
 */
export async function confirmedBlock(publicClient: RegistryPublicClient, depth: number | bigint): Promise<bigint> {
  const blocks = typeof depth === 'bigint' ? depth : Number.isSafeInteger(depth) ? BigInt(depth) : -1n;
  if (blocks < 0n) throw new ChainError('invalid_argument', 'depth: must be a non-negative integer number of blocks', { details: { field: 'depth' } });
  // cacheTime 0: viem otherwise answers from a block number cached for the polling interval, which lags the head.
  const head = await readRegistry('confirmedBlock', () => publicClient.getBlockNumber({ cacheTime: 0 }));
  return head > blocks ? head - blocks : 0n;
}
