/**
 * Raw X.509 extension values by OID, read with asn1js (the ASN.1 library @peculiar/x509 itself
 * uses) — node:crypto does not expose vendor extensions such as AMD's TCB SPLs or Intel's SGX
 * extension.
 */
import type { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AttestationError } from '../errors';

/** Parse one DER element; throws `invalid_certificate` on garbage or trailing bytes. */
export function parseDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  const copy = new Uint8Array(bytes); // asn1js wants an ArrayBuffer of exactly these bytes
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(copy.buffer);
  } catch (cause) {
    // asn1js can throw RangeError on hostile lengths (found by the parser fuzz test)
    throw new AttestationError('invalid_certificate', `${what} is not valid DER`, undefined, { cause });
  }
  if (parsed.offset === -1 || parsed.offset !== copy.byteLength) {
    throw new AttestationError('invalid_certificate', `${what} is not valid DER`);
  }
  return parsed.result;
}

export function sequenceItems(node: asn1js.AsnType, what: string): asn1js.AsnType[] {
  if (!(node instanceof asn1js.Sequence)) throw new AttestationError('invalid_certificate', `${what}: expected a SEQUENCE`);
  return node.valueBlock.value;
}

export function integerValue(node: asn1js.AsnType | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) throw new AttestationError('invalid_certificate', `${what}: expected an INTEGER`);
  const value = node.valueBlock.valueDec;
  if (!Number.isSafeInteger(value) || value < 0) throw new AttestationError('invalid_certificate', `${what}: integer out of range`);
  return value;
}

export function octetsValue(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(node instanceof asn1js.OctetString)) throw new AttestationError('invalid_certificate', `${what}: expected an OCTET STRING`);
  return new Uint8Array(node.valueBlock.valueHexView);
}

export function oidValue(node: asn1js.AsnType | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw new AttestationError('invalid_certificate', `${what}: expected an OBJECT IDENTIFIER`);
  return node.valueBlock.toString();
}

/** Map of extension OID → extnValue contents (the DER inside the OCTET STRING). */
export function readExtensions(cert: X509Certificate): Map<string, Uint8Array> {
  const root = parseDer(new Uint8Array(cert.raw), 'certificate');
  const tbs = sequenceItems(root, 'certificate')[0];
  const out = new Map<string, Uint8Array>();
  for (const item of tbs ? sequenceItems(tbs, 'tbsCertificate') : []) {
    // extensions are [3] EXPLICIT in tbsCertificate
    if (item.idBlock.tagClass !== 3 || item.idBlock.tagNumber !== 3) continue;
    const wrapped = (item as asn1js.Constructed).valueBlock.value[0];
    if (!wrapped) continue;
    for (const ext of sequenceItems(wrapped, 'extensions')) {
      const parts = sequenceItems(ext, 'extension');
      const oid = oidValue(parts[0], 'extension id');
      const value = parts[parts.length - 1];
      out.set(oid, octetsValue(value, `extension ${oid}`));
    }
  }
  return out;
}
