/**
 * SIMULATED evidence provider for development and tests. It generates a fresh key in memory (P-256 or
 * secp256k1) and signs simulated reports with it. Every verifier refuses this evidence unless the
 * policy says `simulated: 'allow'`; the envelope says `platform: "simulated"`.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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
  /**
   * An existing EC private key (P-256 or secp256k1) instead of a fresh one, so the verifier key stays the same across
   * restarts and a gateway can keep it pinned (`veil worker --simulated-key-file`). Its curve decides keyAlgorithm.
   */
  privateKey?: KeyObject;
}

export interface SimulatedEvidenceProvider extends EvidenceProvider {
  readonly platform: 'simulated';
  /** SPKI DER of the development key: pass it to `verifyEvidence(..., { roots: { simulated: [key] } })`. */
  readonly verifierKey: Uint8Array;
}

export const DEFAULT_SIMULATED_MEASUREMENT = new Uint8Array(createHash('sha384').update('veil-simulated-workload').digest());

export function createSimulatedProvider(options: SimulatedProviderOptions = {}): SimulatedEvidenceProvider {
  const measurement = options.measurement ?? DEFAULT_SIMULATED_MEASUREMENT;
  if (measurement.length !== 48) throw new AttestationError('invalid_argument', 'simulated measurement must be 48 bytes');
  const { privateKey, publicKey, keyAlgorithm } = options.privateKey ? fromPrivateKey(options.privateKey) : generate(options.keyAlgorithm ?? 'p256');
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

function generate(keyAlgorithm: SimulatedKeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject; keyAlgorithm: SimulatedKeyAlgorithm } {
  return { ...generateKeyPairSync('ec', { namedCurve: keyAlgorithm === 'p256' ? 'prime256v1' : 'secp256k1' }), keyAlgorithm };
}

function fromPrivateKey(privateKey: KeyObject): { privateKey: KeyObject; publicKey: KeyObject; keyAlgorithm: SimulatedKeyAlgorithm } {
  const curve = privateKey.type === 'private' && privateKey.asymmetricKeyType === 'ec' ? privateKey.asymmetricKeyDetails?.namedCurve : undefined;
  const keyAlgorithm = curve === 'prime256v1' ? 'p256' : curve === 'secp256k1' ? 'secp256k1' : undefined;
  if (!keyAlgorithm) throw new AttestationError('invalid_argument', 'the simulated signing key must be an EC private key on P-256 or secp256k1');
  return { privateKey, publicKey: createPublicKey(privateKey), keyAlgorithm };
}
