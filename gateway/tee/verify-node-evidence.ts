import {
  parseEnvelope, verifyEvidence as attestationVerifyEvidence,
  type AttestationClaims, type AttestationEnvelope, type AttestationPolicy, type VerifyEvidenceOptions, type VerifyEvidenceResult,
} from '../../attestation';
import type { GetTeeEvidenceResponse } from '../../proto';
import { evidenceBindsIdentity } from '../../tee';

/** The gateway's routing policy: what it accepts before it sends anyone's sealed bytes to a node. */
export type TeeRoutingPolicy = {
  /** nonce, report_data binding and the simulated switch are filled in per check. */
  attestation: Omit<AttestationPolicy, 'nonce' | 'reportDataBinding' | 'simulated'>;
  /** Accept SIMULATED evidence (proves nothing about hardware): development only. */
  allowSimulated: boolean;
  roots?: VerifyEvidenceOptions['roots'];
};

export type VerifiedNode = {
  ok: true;
  platform: string;
  measurement: string;
  simulated: boolean;
  hpkePublicKey: string;
  signingAddress: string;
  modelIds: string[];
  /** The verified envelope and its claims, e.g. for publishing on-chain. */
  envelope: AttestationEnvelope;
  claims: AttestationClaims;
};
/** `reason` is a stable code (an attestation failure code, or binding_mismatch / malformed_evidence). */
export type RefusedNode = { ok: false; reason: string; message: string };

export type VerifyNodeEvidenceParameters = {
  evidence: GetTeeEvidenceResponse;
  /** The gateway's own fresh nonce for this check. */
  nonce: Uint8Array;
  policy: TeeRoutingPolicy;
  now: Date;
  verifyEvidence?: (e: AttestationEnvelope, p: AttestationPolicy, o: VerifyEvidenceOptions) => Promise<VerifyEvidenceResult>;
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Checks a node's evidence the way a client does: the envelope verifies under the gateway's policy at `now`,
 * binds the gateway's nonce, and binds the HPKE key and signing address the node presents (report_data).
 */
export async function verifyNodeEvidence(params: VerifyNodeEvidenceParameters): Promise<VerifiedNode | RefusedNode> {
  const { evidence, nonce, policy } = params;
  let envelope: AttestationEnvelope;
  try {
    const parsed = parseEnvelope(evidence.envelopeJson);
    if (!('nonce' in parsed)) return { ok: false, reason: 'report_data_unbound', message: 'the evidence binds no keys or nonce' };
    envelope = parsed;
  } catch (err) {
    return { ok: false, reason: 'malformed_evidence', message: (err as Error).message };
  }
  if (envelope.platform === 'simulated' && !policy.allowSimulated) {
    return { ok: false, reason: 'simulated_forbidden', message: 'the node offers SIMULATED evidence and tee.allowSimulated is false' };
  }
  const verify = params.verifyEvidence ?? attestationVerifyEvidence;
  const result = await verify(
    envelope,
    { ...policy.attestation, nonce: hex(nonce), reportDataBinding: 'required', simulated: policy.allowSimulated ? 'allow' : 'forbid' },
    { now: params.now, roots: policy.roots },
  );
  if (!result.ok) return { ok: false, reason: result.failures.map((f) => f.code).join(','), message: result.failures.map((f) => f.message).join('; ') };
  if (!evidenceBindsIdentity({ envelope, verifiedReportData: result.claims.reportData, identity: evidence.identity, nonce })) {
    return { ok: false, reason: 'binding_mismatch', message: 'the evidence does not bind the keys the node presented and the gateway\'s nonce' };
  }
  return {
    ok: true,
    platform: result.claims.platform,
    measurement: result.claims.measurement,
    simulated: result.claims.simulated,
    hpkePublicKey: envelope.hpkePublicKey,
    signingAddress: envelope.signingAddress.toLowerCase(),
    modelIds: [...evidence.modelIds],
    envelope,
    claims: result.claims,
  };
}
