/** Produces evidence envelopes inside a TEE (or, for development, a simulator). */
import type { Platform } from '../platform';
import type { AttestationEnvelope } from '../envelope/attestation-envelope';

export interface GetEvidenceParameters {
  /** Raw HPKE public key bytes the enclave holds. */
  hpkePublicKey: Uint8Array;
  /** EVM address of the enclave's secp256k1 response-signing key. */
  signingAddress: string;
  /** The verifier's nonce. */
  nonce: Uint8Array;
}

export interface EvidenceProvider {
  /** configfs-tsm learns its platform from the kernel on the first request ('unknown' until then). */
  readonly platform: Platform | 'unknown';
  getEvidence(params: GetEvidenceParameters): Promise<AttestationEnvelope>;
}
