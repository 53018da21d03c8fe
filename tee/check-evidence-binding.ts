import { computeReportData, type AttestationEnvelope } from '../attestation';
import { TEE_PROTOCOL } from './tee-protocol';

/** The public keys a node presents beside its evidence (veil.v1 TeeIdentity). */
export type PresentedTeeIdentity = { hpkePublicKey: Uint8Array; signingAddress: string; protocol: string };

export type EvidenceBindingParameters = {
  /** The bound envelope whose evidence verified. */
  envelope: Pick<AttestationEnvelope, 'nonce' | 'hpkePublicKey' | 'signingAddress'>;
  /** report_data from the *verified* claims (lowercase hex), not from the envelope. */
  verifiedReportData: string;
  /** What the node presented; absent identity never binds. */
  identity: PresentedTeeIdentity | null | undefined;
  /** The verifier's own nonce for this check. */
  nonce: Uint8Array;
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * The one evidence-binding rule of TEE mode, for every verifier (the gateway attesting its nodes, the SDK attesting
 * the node it seals to): the verified report_data is SHA-512 over exactly the envelope's HPKE key, signing address
 * and *this verifier's* nonce, the envelope names that nonce, and the node presents those same keys under the
 * veil-tee-v1 protocol. Only then may anyone seal to that HPKE key or trust that signer.
 * @example if (!evidenceBindsIdentity({ envelope, verifiedReportData: claims.reportData, identity, nonce })) refuse();
 */
export function evidenceBindsIdentity({ envelope, verifiedReportData, identity, nonce }: EvidenceBindingParameters): boolean {
  if (!identity || identity.protocol !== TEE_PROTOCOL) return false;
  const expected = hex(computeReportData({ hpkePublicKey: Buffer.from(envelope.hpkePublicKey, 'hex'), signingAddress: envelope.signingAddress, nonce }));
  return envelope.nonce === hex(nonce)
    && verifiedReportData === expected
    && hex(identity.hpkePublicKey) === envelope.hpkePublicKey
    && identity.signingAddress.toLowerCase() === envelope.signingAddress.toLowerCase();
}
