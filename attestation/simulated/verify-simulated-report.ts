/**
 * Verifies SIMULATED evidence against a development key. The caller (verifyEvidence) refuses to get
 * here unless the policy says `simulated: 'allow'`. Trusted keys come from `roots.simulated`; the
 * key embedded in the envelope is used only when no keys were injected (self-asserted: it proves
 * consistency, nothing more).
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { AttestationClaims } from '../claims';
import { isAttestationError } from '../errors';
import { failure } from '../failure';
import { toHex } from '../bytes';
import type { PlatformVerification } from '../verification';
import { parseSimulatedReport, type SimulatedReport } from './parse-simulated-report';

export interface VerifySimulatedReportParameters {
  report: Uint8Array;
  /** SPKI DER of trusted development keys. */
  trustedKeys: readonly Uint8Array[];
  /** SPKI DER from the envelope, used only when `trustedKeys` is empty. */
  embeddedKey: Uint8Array | undefined;
}

const CURVE = { p256: 'prime256v1', secp256k1: 'secp256k1' } as const;

function spkiFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function importKey(der: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

export function simulatedClaims(r: SimulatedReport, keyFingerprint: string): AttestationClaims {
  return {
    platform: 'simulated',
    simulated: true,
    measurement: toHex(r.measurement),
    debug: r.debug,
    reportData: toHex(r.reportData),
    tcb: { platform: 'simulated', svn: r.svn },
    issuedAt: new Date(r.issuedAt).toISOString(),
    details: { platform: 'simulated', simulated: true, keyAlgorithm: r.keyAlgorithm, verifierKeyFingerprint: keyFingerprint },
  };
}

export function verifySimulatedReport({ report: bytes, trustedKeys, embeddedKey }: VerifySimulatedReportParameters): PlatformVerification {
  let report: SimulatedReport;
  try {
    report = parseSimulatedReport(bytes);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims: undefined, failures: [failure('malformed_evidence', err.message)] };
  }
  const candidates = trustedKeys.length > 0 ? trustedKeys : embeddedKey ? [embeddedKey] : [];
  if (candidates.length === 0) return { claims: simulatedClaims(report, ''), failures: [failure('simulated_key_missing', 'no simulated verifier key was injected or embedded in the envelope')] };
  for (const der of candidates) {
    const key = importKey(der);
    if (!key || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE[report.keyAlgorithm]) continue;
    let ok = false;
    try {
      ok = cryptoVerify('sha256', report.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, report.signature);
    } catch {
      ok = false;
    }
    if (ok) return { claims: simulatedClaims(report, spkiFingerprint(der)), failures: [] };
  }
  return { claims: simulatedClaims(report, ''), failures: [failure('signature_invalid', 'simulated report signature does not verify with any simulated verifier key')] };
}
