/**
 * Certificate loading. We use node:crypto's X509Certificate (OpenSSL) for parsing, validity and
 * signature checks because it handles AMD's RSASSA-PSS signatures and VCEK serial number 0 without
 * complaint. @internal
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { AttestationError } from '../errors';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every PEM certificate block in `text`, in order. Throws `invalid_certificate` if one is unreadable. */
export function parsePemCertificates(text: string, what = 'certificate chain'): X509Certificate[] {
  // Collateral chains repeat across verifications; parsed certificates are immutable, so reuse them.
  const hit = chainCache.get(text);
  if (hit) return [...hit];
  const parsed = parsePemUncached(text, what);
  if (chainCache.size >= 32) chainCache.delete(chainCache.keys().next().value!);
  chainCache.set(text, parsed);
  return [...parsed];
}

const chainCache = new Map<string, X509Certificate[]>();

function parsePemUncached(text: string, what: string): X509Certificate[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (cause) {
      throw new AttestationError('invalid_certificate', `${what}: certificate ${i} is not a valid X.509 certificate`, undefined, { cause });
    }
  });
}

/** One certificate from DER or PEM bytes. */
export function parseCertificate(data: Uint8Array | string, what = 'certificate'): X509Certificate {
  try {
    return new X509Certificate(typeof data === 'string' ? data : Buffer.from(data));
  } catch (cause) {
    throw new AttestationError('invalid_certificate', `${what} is not a valid X.509 certificate`, undefined, { cause });
  }
}

/** Lowercase SHA-256 fingerprint of the DER encoding, without colons. */
export function fingerprint256(cert: X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Common name from a node:crypto subject/issuer string (`CN=...` line). */
export function commonName(dn: string): string | undefined {
  for (const line of dn.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/** The subject public key, or undefined when the SPKI is unreadable (node parses it lazily and throws). */
export function publicKeyOf(cert: X509Certificate): KeyObject | undefined {
  try {
    return cert.publicKey;
  } catch {
    return undefined;
  }
}

const cache = new Map<string, X509Certificate>();

/** Pinned PEM roots are parsed once per process (they are constants). */
export function parsePinnedCertificate(pem: string, what: string): X509Certificate {
  let cert = cache.get(pem);
  if (!cert) {
    cert = parseCertificate(pem, what);
    cache.set(pem, cert);
  }
  return cert;
}
