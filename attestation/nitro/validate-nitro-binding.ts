/**
 * Nitro-specific binding: besides user_data (= report_data, checked generically), the document's own
 * `nonce` and `public_key` fields, when present, must equal the envelope's nonce and HPKE key.
 */
import type { AttestationClaims } from '../claims';
import { failure, type AttestationFailure } from '../failure';

export function validateNitroBinding(claims: AttestationClaims, envelope: { nonce: string; hpkePublicKey: string }): AttestationFailure[] {
  if (claims.details.platform !== 'nitro') return [];
  const d = claims.details;
  const out: AttestationFailure[] = [];
  if (d.nonce !== undefined && d.nonce !== envelope.nonce.toLowerCase()) out.push(failure('nonce_mismatch', 'Nitro document nonce differs from the envelope nonce', d.nonce, envelope.nonce));
  if (d.publicKey !== undefined && d.publicKey !== envelope.hpkePublicKey.toLowerCase()) out.push(failure('report_data_mismatch', 'Nitro document public_key differs from the envelope HPKE key', d.publicKey, envelope.hpkePublicKey));
  return out;
}
