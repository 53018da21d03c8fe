/**
 * Certificate loading. We use node:crypto's X509Certificate (OpenSSL) for parsing, validity and
 * signature checks because it handles AMD's RSASSA-PSS signatures and VCEK serial number 0 without
 * complaint. @internal
 */
import { X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every PEM certificate block in `text`, in order. Throws `invalid_certificate` if one is unreadable. */
export function parsePemCertificates(text: string, what = 'certificate chain'): X509Certificate[] {
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
