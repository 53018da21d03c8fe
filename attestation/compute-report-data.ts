/**
 * The report_data binding: the 64 bytes every Veil enclave puts in its hardware report so a verifier
 * knows which keys the TEE holds and that the evidence answers this nonce.
 *
 *   report_data = SHA-512( lp("veil-attestation-v1") ‖ lp(hpkePublicKey) ‖ lp(signingAddress[20]) ‖ lp(nonce) )
 *   lp(x)       = u32be(len(x)) ‖ x
 *
 * Length prefixes make the encoding injective (no two inputs share bytes); the domain tag keeps the
 * digest from meaning anything in another protocol. SHA-512 gives exactly the 64 bytes SEV-SNP and
 * TDX report_data hold. Documented byte for byte in attestation/README.md.
 */
import { createHash } from 'node:crypto';
import { AttestationError } from './errors';
import { fromHex } from './bytes';

export const REPORT_DATA_DOMAIN_TAG = 'veil-attestation-v1';
export const MAX_BOUND_FIELD = 1024;

export interface ComputeReportDataParameters {
  /** Raw HPKE public key bytes (e.g. 32 bytes for X25519), 1..1024 bytes. */
  hpkePublicKey: Uint8Array;
  /** EVM address of the enclave's secp256k1 signing key, `0x` + 40 hex (any case). */
  signingAddress: string;
  /** Verifier-chosen nonce, 1..1024 bytes. */
  nonce: Uint8Array;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function lp(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * @throws {AttestationError} `invalid_argument` for an empty/oversized key or nonce or a malformed address.
 * @example computeReportData({ hpkePublicKey, signingAddress: '0x…', nonce }) // → 64 bytes
 */
export function computeReportData({ hpkePublicKey, signingAddress, nonce }: ComputeReportDataParameters): Uint8Array {
  if (hpkePublicKey.length < 1 || hpkePublicKey.length > MAX_BOUND_FIELD) throw new AttestationError('invalid_argument', `hpkePublicKey must be 1..${MAX_BOUND_FIELD} bytes`);
  if (nonce.length < 1 || nonce.length > MAX_BOUND_FIELD) throw new AttestationError('invalid_argument', `nonce must be 1..${MAX_BOUND_FIELD} bytes`);
  if (!ADDRESS.test(signingAddress)) throw new AttestationError('invalid_argument', 'signingAddress must be 0x followed by 40 hex digits');
  const digest = createHash('sha512')
    .update(lp(Buffer.from(REPORT_DATA_DOMAIN_TAG, 'ascii')))
    .update(lp(hpkePublicKey))
    .update(lp(fromHex(signingAddress, 'signingAddress')))
    .update(lp(nonce))
    .digest();
  return new Uint8Array(digest);
}
