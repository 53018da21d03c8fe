/** Envelope JSON → typed envelope, with errors naming the field. Does not verify anything. */
import { AttestationError } from '../errors';
import { isPlatform, PLATFORMS } from '../platform';
import { parseTdxCollateral } from '../tdx/parse-tdx-collateral';
import { ENVELOPE_VERSION, type AttestationEnvelope, type UnboundEvidence } from './attestation-envelope';

const FIELDS = ['version', 'platform', 'evidence', 'certificates', 'collateral', 'simulatedVerifierKey', 'nonce', 'hpkePublicKey', 'signingAddress'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX = /^([0-9a-f]{2})+$/;

function fail(field: string, message: string): never {
  throw new AttestationError('invalid_envelope', `envelope.${field} ${message}`, { field });
}

/**
 * Accepts a bound envelope (nonce + hpkePublicKey + signingAddress, all three) or unbound evidence
 * (none of them); anything in between is an error.
 * @throws {AttestationError} `invalid_envelope`
 */
export function parseEnvelope(input: unknown): AttestationEnvelope | UnboundEvidence {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new AttestationError('invalid_envelope', 'envelope is not valid JSON', undefined, { cause });
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AttestationError('invalid_envelope', 'envelope must be a JSON object');
  const e = value as Record<string, unknown>;
  for (const k of Object.keys(e)) if (!FIELDS.includes(k)) fail(k, 'is not a known envelope field');
  if (e.version !== ENVELOPE_VERSION) fail('version', `must be ${ENVELOPE_VERSION}`);
  if (!isPlatform(e.platform)) fail('platform', `must be one of ${PLATFORMS.join(', ')}`);
  if (typeof e.evidence !== 'string' || e.evidence.length === 0 || !BASE64.test(e.evidence)) fail('evidence', 'must be non-empty base64');
  const out: UnboundEvidence = { version: ENVELOPE_VERSION, platform: e.platform, evidence: e.evidence };
  if (e.certificates !== undefined) {
    if (!Array.isArray(e.certificates)) fail('certificates', 'must be an array of base64 DER certificates');
    out.certificates = e.certificates.map((c, i) => {
      if (typeof c !== 'string' || !BASE64.test(c)) fail(`certificates[${i}]`, 'must be base64 DER');
      return c;
    });
  }
  if (e.collateral !== undefined) {
    try {
      out.collateral = parseTdxCollateral(e.collateral);
    } catch (err) {
      fail('collateral', `is invalid: ${(err as Error).message}`);
    }
  }
  if (e.simulatedVerifierKey !== undefined) {
    if (typeof e.simulatedVerifierKey !== 'string' || !BASE64.test(e.simulatedVerifierKey)) fail('simulatedVerifierKey', 'must be base64 SPKI DER');
    out.simulatedVerifierKey = e.simulatedVerifierKey;
  }
  const bound = ['nonce', 'hpkePublicKey', 'signingAddress'].filter((k) => e[k] !== undefined);
  if (bound.length === 0) return out;
  if (bound.length !== 3) fail(['nonce', 'hpkePublicKey', 'signingAddress'].find((k) => e[k] === undefined)!, 'is required when any of nonce/hpkePublicKey/signingAddress is present');
  if (typeof e.nonce !== 'string' || !HEX.test(e.nonce)) fail('nonce', 'must be lowercase hex');
  if (typeof e.hpkePublicKey !== 'string' || !HEX.test(e.hpkePublicKey)) fail('hpkePublicKey', 'must be lowercase hex');
  if (typeof e.signingAddress !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(e.signingAddress)) fail('signingAddress', 'must be 0x followed by 40 hex digits');
  return { ...out, nonce: e.nonce, hpkePublicKey: e.hpkePublicKey, signingAddress: e.signingAddress };
}
