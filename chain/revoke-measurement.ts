import type { Address, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress, toBytes32 } from './validate';

export type RevokeMeasurementParameters = { registryAddress: Address; measurementId: Hex };
export type RevokeMeasurementReturnType = WriteReturnType;

/**
 * Owner only: revoke an approved measurement. Every attestation published under it stops counting at once
 * (`isAttested` checks the measurement on every call). It can be approved again later; that approval is a new event and
 * a new epoch, and attestations from before the revocation stay dead until republished.
 *
 * @example
 * await revokeMeasurement(walletClient, publicClient, { registryAddress, measurementId: measurementId('sev-snp', m) })
 * @throws {ChainError} `not_owner`, `measurement_not_approved`, `invalid_hex`, `rpc_unavailable`
 */
export async function revokeMeasurement(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress, measurementId }: RevokeMeasurementParameters,
): Promise<RevokeMeasurementReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const id = toBytes32('measurementId', measurementId);
  const { receipt: _receipt, ...result } = await sendAndConfirm(publicClient, 'revokeMeasurement', () =>
    walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'revokeMeasurement', args: [id] }),
    address,
  );
  return result;
}
