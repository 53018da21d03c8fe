/**
 * The verification entry point: evidence envelope + policy + explicit time → verdict.
 * It never reads the clock and never fetches anything: `now`, trust roots and collateral are inputs.
 */
import type { AttestationClaims } from './claims';
import { fromBase64 } from './bytes';
import { isAttestationError } from './errors';
import { failure, type AttestationFailure } from './failure';
import type { Platform } from './platform';
import type { AttestationEnvelope, UnboundEvidence } from './envelope/attestation-envelope';
import type { AttestationPolicy } from './policy/attestation-policy';
import { validateClaims } from './policy/validate-claims';
import { verifySnpReport } from './sev-snp/verify-snp-report';
import { verifyTdxQuote } from './tdx/verify-tdx-quote';
import type { TdxCollateral } from './tdx/parse-tdx-collateral';
import { verifyNitroDocument } from './nitro/verify-nitro-document';
import { verifySimulatedReport, type SimulatedTrust } from './simulated/verify-simulated-report';
import { DEFAULT_TRUST_ROOTS, type TrustRoots } from './trust-roots';
import type { PlatformVerification } from './verification';

export interface VerifyEvidenceOptions {
  /** The time to verify at. Required: certificates and collateral are judged at this instant. */
  now: Date;
  /**
   * Trust anchors; missing hardware platforms fall back to the pinned defaults. `simulated` has no default: SIMULATED
   * evidence verifies only against the keys given here, or — spelled out — `'self-signed'` (the envelope's own key).
   */
  roots?: Partial<TrustRoots> & { simulated?: SimulatedTrust };
  /** TDX collateral; overrides collateral carried in the envelope. */
  collateral?: TdxCollateral;
}

export type VerifyEvidenceResult =
  | { ok: true; verdict: 'valid'; platform: Platform; at: string; claims: AttestationClaims }
  | {
      ok: false;
      verdict: 'invalid';
      platform: Platform;
      at: string;
      failures: AttestationFailure[];
      /** What the evidence says about itself, NOT verified. For diagnostics only. */
      unverifiedClaims: AttestationClaims | undefined;
    };

function decode(text: string, what: string): Uint8Array {
  return fromBase64(text, what);
}

function verifyPlatform(e: AttestationEnvelope | UnboundEvidence, opts: VerifyEvidenceOptions): PlatformVerification {
  const roots = { ...DEFAULT_TRUST_ROOTS, ...opts.roots };
  const evidence = decode(e.evidence, 'evidence');
  const certificates = (e.certificates ?? []).map((c, i) => decode(c, `certificates[${i}]`));
  switch (e.platform) {
    case 'sev-snp':
      return verifySnpReport({ report: evidence, certificates, now: opts.now, roots: roots.sevSnp });
    case 'tdx':
      return verifyTdxQuote({ quote: evidence, collateral: opts.collateral ?? e.collateral, now: opts.now, roots: roots.tdx });
    case 'nitro':
      return verifyNitroDocument({ document: evidence, now: opts.now, roots: roots.nitro });
    case 'simulated':
      return verifySimulatedReport({
        report: evidence,
        trustedKeys: opts.roots?.simulated ?? [],
        embeddedKey: e.simulatedVerifierKey ? decode(e.simulatedVerifierKey, 'simulatedVerifierKey') : undefined,
      });
  }
}

/**
 * Verifies evidence cryptographically, then validates it against `policy`.
 * Never throws for bad evidence; throws only for programming errors (e.g. an invalid `now`).
 * @example
 * const result = await verifyEvidence(envelope, policy, { now: new Date() });
 * if (!result.ok) console.error(result.failures.map((f) => f.code));
 */
export async function verifyEvidence(
  evidence: AttestationEnvelope | UnboundEvidence,
  policy: AttestationPolicy,
  options: VerifyEvidenceOptions,
): Promise<VerifyEvidenceResult> {
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) throw new TypeError('verifyEvidence: options.now must be a valid Date');
  const at = options.now.toISOString();
  const invalid = (failures: AttestationFailure[], claims?: AttestationClaims): VerifyEvidenceResult => ({
    ok: false,
    verdict: 'invalid',
    platform: evidence.platform,
    at,
    failures,
    unverifiedClaims: claims,
  });

  // Refuse simulated evidence before touching it unless the policy opted in.
  if (evidence.platform === 'simulated' && policy.simulated !== 'allow') {
    return invalid([failure('simulated_forbidden', 'simulated evidence is refused by policy', 'simulated', 'hardware')]);
  }

  let verified: PlatformVerification;
  try {
    verified = verifyPlatform(evidence, options);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return invalid([failure('malformed_evidence', err.message)]);
  }
  if (!verified.claims) return invalid(verified.failures);
  const failures = [...verified.failures, ...validateClaims({ claims: verified.claims, policy, evidence, now: options.now, collateralSupplied: (options.collateral ?? evidence.collateral) !== undefined })];
  if (failures.length > 0) return invalid(failures, verified.claims);
  const claims: AttestationClaims = { ...verified.claims };
  if ('nonce' in evidence && 'hpkePublicKey' in evidence && 'signingAddress' in evidence && policy.reportDataBinding === 'required') {
    claims.binding = { hpkePublicKey: evidence.hpkePublicKey, signingAddress: evidence.signingAddress, nonce: evidence.nonce };
  }
  return { ok: true, verdict: 'valid', platform: evidence.platform, at, claims };
}
