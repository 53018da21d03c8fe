/** Envelope binding fields from provider parameters. @internal */
import { toHex } from '../bytes';
import type { GetEvidenceParameters } from './evidence-provider';

export function boundFields(p: GetEvidenceParameters): { nonce: string; hpkePublicKey: string; signingAddress: string } {
  return { nonce: toHex(p.nonce), hpkePublicKey: toHex(p.hpkePublicKey), signingAddress: p.signingAddress };
}
