import { getAddress, type Address } from 'viem';
import type { AttestationClaims, AttestationEnvelope } from '../../attestation';
import {
  checkOnchainAttestation, evidenceHash, hpkeKeyHash, measurementId, registryMeasurement,
  type OnchainAttestationReason, type RegistryPublicClient,
} from '../../chain';

export type CheckEnclaveOnchainParameters = {
  publicClient: RegistryPublicClient;
  registryAddress: Address;
  /** Evidence the caller has already verified off-chain, and the claims that verification returned. */
  envelope: AttestationEnvelope;
  claims: AttestationClaims;
};

export type EnclaveOnchainReason = { code: OnchainAttestationReason['code'] | 'measurement_mismatch'; message: string };

export type CheckEnclaveOnchainResult = { ok: boolean; reasons: EnclaveOnchainReason[]; blockNumber: bigint };

/**
 * Checks, before anything is encrypted to an enclave, that the registry agrees with its verified evidence: the
 * signing address is attested with an approved, unrevoked, unexpired measurement, the published evidence hash is
 * this evidence's, the published HPKE key hash is this key's, and the published measurement is the one the
 * evidence reports. Reading failures throw (a `ChainError`): "could not check" never reads as "checked".
 */
export async function checkEnclaveOnchain(params: CheckEnclaveOnchainParameters): Promise<CheckEnclaveOnchainResult> {
  const { envelope, claims } = params;
  const result = await checkOnchainAttestation(params.publicClient, params.registryAddress, {
    signingAddress: getAddress(envelope.signingAddress),
    evidenceHash: evidenceHash(Buffer.from(envelope.evidence, 'base64')),
    hpkeKeyHash: hpkeKeyHash(Buffer.from(envelope.hpkePublicKey, 'hex')),
  });
  const reasons: EnclaveOnchainReason[] = [...result.reasons];
  if (result.record) {
    const expected = measurementId(claims.platform, registryMeasurement(claims));
    if (result.record.measurementId.toLowerCase() !== expected.toLowerCase()) {
      reasons.push({ code: 'measurement_mismatch', message: `the registry lists measurement id ${result.record.measurementId}, the evidence reports ${expected}` });
    }
  }
  return { ok: reasons.length === 0, reasons, blockNumber: result.blockNumber };
}
