/**
 * Policy checks common to all platforms, run on claims whose signatures already verified:
 * simulated opt-in, measurement allow-list, debug, TCB, report_data binding, nonce and freshness.
 */
import type { AttestationClaims } from '../claims';
import { computeReportData } from '../compute-report-data';
import { failure, type AttestationFailure } from '../failure';
import { fromHex, toHex } from '../bytes';
import { isBoundEnvelope, type AttestationEnvelope, type UnboundEvidence } from '../envelope/attestation-envelope';
import { validateSnpTcb } from '../sev-snp/validate-snp-report';
import { validateTdxTcb } from '../tdx/validate-tdx-tcb';
import { validateNitroBinding } from '../nitro/validate-nitro-binding';
import { CLOCK_SKEW_SECONDS, type AttestationPolicy } from './attestation-policy';
import { isMeasurementAllowed } from './parse-measurement-entry';

export interface ValidateClaimsParameters {
  claims: AttestationClaims;
  policy: AttestationPolicy;
  evidence: AttestationEnvelope | UnboundEvidence;
  now: Date;
  /** TDX: collateral was supplied (a missing status is then already explained by a verification failure). */
  collateralSupplied: boolean;
}

function validateBinding(claims: AttestationClaims, policy: AttestationPolicy, evidence: AttestationEnvelope | UnboundEvidence): AttestationFailure[] {
  const out: AttestationFailure[] = [];
  if (!isBoundEnvelope(evidence)) {
    if (policy.reportDataBinding === 'required') out.push(failure('report_data_unbound', 'policy requires a report_data binding but the evidence carries no keys or nonce'));
    if (policy.nonce !== 'any') out.push(failure('nonce_mismatch', 'policy expects a nonce but the evidence carries none', undefined, policy.nonce));
    return out;
  }
  if (policy.nonce !== 'any' && evidence.nonce.toLowerCase() !== policy.nonce) {
    out.push(failure('nonce_mismatch', 'envelope nonce is not the expected nonce', evidence.nonce, policy.nonce));
  }
  if (policy.reportDataBinding === 'any') return out;
  let expected: string;
  try {
    expected = toHex(computeReportData({ hpkePublicKey: fromHex(evidence.hpkePublicKey, 'hpkePublicKey'), signingAddress: evidence.signingAddress, nonce: fromHex(evidence.nonce, 'nonce') }));
  } catch (err) {
    return [...out, failure('report_data_mismatch', `cannot compute the expected report_data: ${(err as Error).message}`)];
  }
  if (claims.reportData !== expected) out.push(failure('report_data_mismatch', 'report_data does not bind the envelope keys and nonce', claims.reportData, expected));
  out.push(...validateNitroBinding(claims, evidence));
  return out;
}

function validateFreshness(claims: AttestationClaims, policy: AttestationPolicy, now: Date): AttestationFailure[] {
  if (!claims.issuedAt) {
    if (policy.maxAgeSeconds !== 'any' && policy.nonce === 'any') {
      return [failure('freshness_unknown', `${claims.platform} evidence has no timestamp; a maxAgeSeconds policy needs an expected nonce for it`)];
    }
    return [];
  }
  const issued = Date.parse(claims.issuedAt);
  const ageSeconds = (now.getTime() - issued) / 1000;
  if (ageSeconds < -CLOCK_SKEW_SECONDS) return [failure('evidence_from_future', 'evidence is timestamped in the future', claims.issuedAt, `<= ${now.toISOString()}`)];
  if (policy.maxAgeSeconds !== 'any' && ageSeconds > policy.maxAgeSeconds) {
    return [failure('evidence_too_old', `evidence is ${Math.round(ageSeconds)} s old`, Math.round(ageSeconds), `<= ${policy.maxAgeSeconds}`)];
  }
  return [];
}

export function validateClaims({ claims, policy, evidence, now, collateralSupplied }: ValidateClaimsParameters): AttestationFailure[] {
  const out: AttestationFailure[] = [];
  if (claims.simulated && policy.simulated !== 'allow') out.push(failure('simulated_forbidden', 'simulated evidence is refused by policy', 'simulated', 'hardware'));
  if (policy.measurements !== 'any' && !isMeasurementAllowed(policy.measurements, claims.platform, claims.measurement)) {
    out.push(failure('measurement_not_allowed', `${claims.platform} measurement is not in the policy allow-list`, `${claims.platform}:${claims.measurement}`, policy.measurements));
  }
  if (policy.debug === 'forbid' && claims.debug) out.push(failure('debug_enabled', `${claims.platform} evidence comes from a debug-mode TEE`, true, false));
  out.push(...validateSnpTcb(claims, policy.snpMinimumTcb));
  out.push(...validateTdxTcb(claims, policy.tdxTcbStatuses, collateralSupplied));
  out.push(...validateBinding(claims, policy, evidence));
  out.push(...validateFreshness(claims, policy, now));
  return out;
}
