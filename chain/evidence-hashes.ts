import { keccak256, toHex, type Hex } from 'viem';

/**
 * What the registry stores about an attestation's evidence and keys, defined once so the publisher (gateway)
 * and every verifier (`veil verify --onchain`, the TEE client) hash the same bytes:
 *  - evidenceHash = keccak256(raw hardware evidence bytes) — the SNP report, TDX quote, Nitro COSE document or
 *    simulated report, i.e. the base64-decoded `evidence` field of the envelope; it binds report_data and hence
 *    the HPKE key, signing address and nonce;
 *  - hpkeKeyHash = keccak256(the enclave's raw HPKE public key bytes).
 */
export function evidenceHash(evidence: Uint8Array): Hex {
  return keccak256(toHex(evidence));
}

export function hpkeKeyHash(hpkePublicKey: Uint8Array): Hex {
  return keccak256(toHex(hpkePublicKey));
}
