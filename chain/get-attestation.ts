import type { Address, Hex } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { platformFromTag, type Platform } from './platform';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress } from './validate';

export type GetAttestationParameters = { registryAddress: Address; signingAddress: Address; blockNumber?: bigint };

export type AttestationRecord = {
  signingAddress: Address;
  evidenceHash: Hex;
  /** Undefined only if the tag is one this build does not know (a newer contract). */
  platform: Platform | undefined;
  platformTag: Hex;
  measurementId: Hex;
  hpkeKeyHash: Hex;
  operator: Address;
  publishedAt: bigint;
  expiresAt: bigint;
  measurementEpoch: number;
  revoked: boolean;
};
/** `null` when nothing was ever published for the signer. */
export type GetAttestationReturnType = AttestationRecord | null;

/**
 * Reads the full attestation record of a signer (whether or not it is still valid; see `isAttested`).
 *
 * @example
 * const record = await getAttestation(publicClient, { registryAddress, signingAddress })
 * @throws {ChainError} `registry_not_found`, `rpc_unavailable`, `invalid_address`
 */
export async function getAttestation(
  publicClient: RegistryPublicClient,
  { registryAddress, signingAddress, blockNumber }: GetAttestationParameters,
): Promise<GetAttestationReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const signer = toAddress('signingAddress', signingAddress);
  const raw = await readRegistry('getAttestation', () =>
    publicClient.readContract({ address, abi: veilRegistryAbi, functionName: 'getAttestation', args: [signer], blockNumber }),
  );
  if (raw.operator === '0x0000000000000000000000000000000000000000') return null;
  return {
    signingAddress: signer,
    evidenceHash: raw.evidenceHash,
    platform: platformFromTag(raw.platform),
    platformTag: raw.platform,
    measurementId: raw.measurementId,
    hpkeKeyHash: raw.hpkeKeyHash,
    operator: raw.operator,
    publishedAt: raw.publishedAt,
    expiresAt: raw.expiresAt,
    measurementEpoch: raw.measurementEpoch,
    revoked: raw.revoked,
  };
}
