import type { Address, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { measurementId } from './measurement-id';
import { platformTag, type Platform } from './platform';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress, toBytes32, toUnixSeconds } from './validate';

export type PublishAttestationParameters = {
  registryAddress: Address;
  /** keccak256 of the raw attestation evidence bytes (the evidence itself stays off-chain). */
  evidenceHash: Hex;
  platform: Platform;
  /** Raw measurement hex from the verified claims; the measurement id is derived with `measurementId`. */
  measurement: string;
  /** The enclave's signing address (bound in the evidence's report data). */
  signingAddress: Address;
  /** keccak256 of the enclave's HPKE public key, so clients can check the key they encrypt to. */
  hpkeKeyHash: Hex;
  /** Unix seconds (number or bigint) or a Date; must be after the current block time. */
  expiresAt: Date | number | bigint;
};
export type PublishAttestationReturnType = WriteReturnType & { measurementId: Hex };

/**
 * Operator only: publish or refresh the attestation of an enclave signing address.
 *
 * @example
 * await publishAttestation(walletClient, publicClient, { registryAddress, evidenceHash: keccak256(evidence), platform: 'sev-snp',
 *   measurement: claims.measurement, signingAddress, hpkeKeyHash: keccak256(hpkePublicKey), expiresAt: claims.notAfter })
 * @throws {ChainError} `not_operator`, `measurement_not_approved`, `platform_mismatch`, `expiry_not_in_future`,
 *   `attestation_held_by_other_operator`, `invalid_hex`, `invalid_address`, `rpc_unavailable`
 */
export async function publishAttestation(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  params: PublishAttestationParameters,
): Promise<PublishAttestationReturnType> {
  const address = toAddress('registryAddress', params.registryAddress);
  const id = measurementId(params.platform, params.measurement);
  const args = [
    toBytes32('evidenceHash', params.evidenceHash),
    platformTag(params.platform),
    id,
    toAddress('signingAddress', params.signingAddress),
    toBytes32('hpkeKeyHash', params.hpkeKeyHash),
    toUnixSeconds('expiresAt', params.expiresAt),
  ] as const;
  const { receipt: _receipt, ...result } = await sendAndConfirm(publicClient, 'publishAttestation', () =>
    walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'publishAttestation', args }),
    address,
  );
  return { ...result, measurementId: id };
}
