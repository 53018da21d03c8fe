/**
 * Verifies SIMULATED evidence against a development key. The caller (verifyEvidence) refuses to get
 * here unless the policy says `simulated: 'allow'`. Only pinned keys (`roots.simulated`) are trusted.
 * The key carried in the envelope is used only when the caller says `'self-signed'` explicitly: anyone
 * can make a key pair and sign a report with it, so such a verdict proves that the report is
 * internally consistent and nothing else — the claims say so (`verifierKeySource: 'envelope'`).
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
  /** SPKI DER of pinned development keys, or `'self-signed'` to accept the envelope's own key knowingly. */
  trustedKeys: SimulatedTrust;
  /** SPKI DER from the envelope; used only with `trustedKeys: 'self-signed'`. */
  embeddedKey: Uint8Array | undefined;
}

/**
 * Which simulated verifier keys a verifier trusts: pinned SPKI DER keys (e.g. the gateway's in-process node, or the
 * key `veil worker --platform simulated` prints), or `'self-signed'` — the envelope's own key, which proves nothing.
 */
export type SimulatedTrust = readonly Uint8Array[] | 'self-signed';

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

export function simulatedClaims(r: SimulatedReport, keyFingerprint: string, verifierKeySource: 'pinned' | 'envelope' | 'none'): AttestationClaims {
  return {
    platform: 'simulated',
    simulated: true,
    measurement: toHex(r.measurement),
    debug: r.debug,
    reportData: toHex(r.reportData),
    tcb: { platform: 'simulated', svn: r.svn },
    issuedAt: new Date(r.issuedAt).toISOString(),
    details: { platform: 'simulated', simulated: true, keyAlgorithm: r.keyAlgorithm, verifierKeyFingerprint: keyFingerprint, verifierKeySource },
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
  const source = trustedKeys === 'self-signed' ? 'envelope' : 'pinned';
  const candidates = trustedKeys === 'self-signed' ? (embeddedKey ? [embeddedKey] : []) : trustedKeys;
  if (candidates.length === 0) {
    const message = trustedKeys === 'self-signed'
      ? 'self-signed simulated evidence was accepted but the envelope carries no verifier key'
      : 'no simulated verifier key is pinned (roots.simulated); the key inside the envelope is self-asserted and is not trusted';
    return { claims: simulatedClaims(report, '', 'none'), failures: [failure('simulated_key_missing', message)] };
  }
  for (const der of candidates) {
    const key = importKey(der);
    if (!key || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE[report.keyAlgorithm]) continue;
    let ok = false;
    try {
      ok = cryptoVerify('sha256', report.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, report.signature);
    } catch {
      ok = false;
    }
    if (ok) return { claims: simulatedClaims(report, spkiFingerprint(der), source), failures: [] };
  }
  const which = source === 'envelope' ? 'the key carried in the envelope' : 'any pinned simulated verifier key';
  return { claims: simulatedClaims(report, '', 'none'), failures: [failure('signature_invalid', `simulated report signature does not verify with ${which}`)] };
}
