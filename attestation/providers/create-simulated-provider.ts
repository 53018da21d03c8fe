/**
 * SIMULATED evidence provider for development and tests. It generates a fresh key in memory (P-256 or
 * secp256k1) and signs simulated reports with it. Every verifier refuses this evidence unless the
 * policy says `simulated: 'allow'`; the envelope says `platform: "simulated"`.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { computeReportData } from '../compute-report-data';
import { AttestationError } from '../errors';
import { toBase64 } from '../bytes';
import { ENVELOPE_VERSION } from '../envelope/attestation-envelope';
import type { SimulatedKeyAlgorithm } from '../simulated/parse-simulated-report';
import { signSimulatedReport } from '../simulated/sign-simulated-report';
import { boundFields } from './bound-fields';
import type { EvidenceProvider } from './evidence-provider';

export interface SimulatedProviderOptions {
  keyAlgorithm?: SimulatedKeyAlgorithm;
  /** 48-byte measurement to report; defaults to SHA-384("veil-simulated-workload"). */
  measurement?: Uint8Array;
  debug?: boolean;
  svn?: number;
  /** Clock for the issued-at field (injected for tests). */
  now?: () => Date;
}

export interface SimulatedEvidenceProvider extends EvidenceProvider {
  readonly platform: 'simulated';
  /** SPKI DER of the development key: pass it to `verifyEvidence(..., { roots: { simulated: [key] } })`. */
  readonly verifierKey: Uint8Array;
}

export const DEFAULT_SIMULATED_MEASUREMENT = new Uint8Array(createHash('sha384').update('veil-simulated-workload').digest());

export function createSimulatedProvider(options: SimulatedProviderOptions = {}): SimulatedEvidenceProvider {
  const keyAlgorithm = options.keyAlgorithm ?? 'p256';
  const measurement = options.measurement ?? DEFAULT_SIMULATED_MEASUREMENT;
  if (measurement.length !== 48) throw new AttestationError('invalid_argument', 'simulated measurement must be 48 bytes');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: keyAlgorithm === 'p256' ? 'prime256v1' : 'secp256k1' });
  const verifierKey = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const now = options.now ?? (() => new Date());
  return {
    platform: 'simulated',
    verifierKey,
    async getEvidence(params) {
      const report = signSimulatedReport({
        measurement,
        reportData: computeReportData(params),
        issuedAt: now(),
        debug: options.debug ?? false,
        svn: options.svn ?? 0,
        keyAlgorithm,
        privateKey,
      });
      return {
        version: ENVELOPE_VERSION,
        platform: 'simulated',
        evidence: toBase64(report),
        simulatedVerifierKey: toBase64(verifierKey),
        ...boundFields(params),
      };
    },
  };
}
