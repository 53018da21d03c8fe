import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

/** RFC 9180 suite identifiers of {@link createHpkeSuite}, as carried in `TeeIdentity.hpke_suite`. */
export const TEE_HPKE_SUITE = 'DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM' as const;

/**
 * The HPKE suite of TEE mode (RFC 9180 base mode): DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM.
 * AES-GCM runs on WebCrypto (native), which beats JS ChaCha20 for tensor-sized payloads.
 * @example const suite = createHpkeSuite(); const keyPair = await suite.kem.generateKeyPair();
 */
export function createHpkeSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
}
