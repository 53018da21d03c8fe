import type { Address } from 'viem';
import type { AttestationClaims, AttestationEnvelope } from '../../attestation';
import type { RegistryPublicClient } from '../../chain';
import { TeeError } from '../../tee';
import { checkEnclaveOnchain } from './check-enclave-onchain';

export type RequireEnclaveOnchainParameters = { publicClient: RegistryPublicClient; registryAddress: Address };

/**
 * The on-chain gate for evidence a client fetched itself (the SDK, `veil proxy`): after its own off-chain verification,
 * the registry must list this enclave's signing address as attested with an approved, unrevoked, unexpired
 * measurement, with this HPKE key and this measurement. The published evidence *hash* is not required to match: the
 * registry holds the evidence the gateway verified under its own nonce, while this client verified fresh evidence
 * under its nonce that binds the same keys (the binding the HPKE key hash and signer checks pin down).
 * @returns a check that throws `tee_attestation_failed` naming the registry's reasons (`onchain_<code>`)
 */
export function requireEnclaveOnchain(params: RequireEnclaveOnchainParameters): (envelope: AttestationEnvelope, claims: AttestationClaims) => Promise<void> {
  return async (envelope, claims) => {
    let result;
    try {
      result = await checkEnclaveOnchain({ ...params, envelope, claims });
    } catch (cause) {
      // "Could not check" never reads as "checked".
      throw new TeeError('tee_attestation_failed', `the on-chain registry could not be read: ${(cause as Error).message}`, undefined, { cause });
    }
    const reasons = result.reasons.filter((r) => r.code !== 'evidence_mismatch');
    if (reasons.length > 0) {
      throw new TeeError('tee_attestation_failed', `the on-chain registry refuses this enclave: ${reasons.map((r) => `onchain_${r.code}: ${r.message}`).join('; ')}`, { reasons });
    }
  };
}
