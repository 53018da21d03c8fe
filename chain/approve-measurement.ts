import type { Address, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { measurementId as deriveMeasurementId, normalizeMeasurement } from './measurement-id';
import { platformTag, type Platform } from './platform';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type ApproveMeasurementParameters = {
  registryAddress: Address;
  platform: Platform;
  /** Raw measurement bytes as hex, from the attestation claims (see `measurementId`). */
  measurement: string;
  /** Human label, e.g. `veil-worker 0.3.1 (cpu)`. Emitted, not stored. */
  label: string;
  /** Where the measurement comes from, e.g. a git commit or reproducible-build URL. Emitted, not stored. */
  source: string;
};
export type ApproveMeasurementReturnType = WriteReturnType & { measurementId: Hex };

/**
 * Owner only: approve a measurement identity. Emits `MeasurementApproved` with the raw bytes, label and source, which is
 * the append-only record of approvals.
 *
 * @example
 * await approveMeasurement(walletClient, publicClient, { registryAddress, platform: 'sev-snp', measurement, label: 'v1', source: 'git:abc123' })
 * @throws {ChainError} `not_owner`, `measurement_already_approved`, `unknown_platform`, `invalid_hex`, `rpc_unavailable`
 */
export async function approveMeasurement(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress, platform, measurement, label, source }: ApproveMeasurementParameters,
): Promise<ApproveMeasurementReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const bytes = normalizeMeasurement(platform, measurement);
  const { receipt: _receipt, ...result } = await sendAndConfirm(publicClient, 'approveMeasurement', () =>
    walletClient.writeContract({
      address,
      abi: veilRegistryAbi,
      functionName: 'approveMeasurement',
      args: [platformTag(platform), bytes, label, source],
    }),
    address,
  );
  return { ...result, measurementId: deriveMeasurementId(platform, bytes) };
}
