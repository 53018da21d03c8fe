import type { Address, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { platformFromTag, type Platform } from './platform';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress, toBytes32 } from './validate';

export type GetMeasurementParameters = { registryAddress: Address; measurementId: Hex; blockNumber?: bigint };
export type MeasurementState = {
  measurementId: Hex;
  platform: Platform | undefined;
  /** Number of times it was approved (0 = never). */
  epoch: number;
  approved: boolean;
  /** Block time of the latest approval, unix seconds. */
  approvedAt: bigint;
};
export type GetMeasurementReturnType = MeasurementState;

/**
 * Reads the current approval state of a measurement id. Labels and sources are only in events (`getRegistryState`).
 *
 * @example
 * const { approved } = await getMeasurement(publicClient, { registryAddress, measurementId })
 */
export async function getMeasurement(
  publicClient: RegistryPublicClient,
  { registryAddress, measurementId, blockNumber }: GetMeasurementParameters,
): Promise<GetMeasurementReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const id = toBytes32('measurementId', measurementId);
  const raw = await readRegistry('getMeasurement', () =>
    publicClient.readContract({ address, abi: veilRegistryAbi, functionName: 'getMeasurement', args: [id], blockNumber }),
  );
  return { measurementId: id, platform: platformFromTag(raw.platform), epoch: raw.epoch, approved: raw.approved, approvedAt: raw.approvedAt };
}
