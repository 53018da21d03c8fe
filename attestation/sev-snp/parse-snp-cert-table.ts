/**
 * The SEV-SNP extended-report certificate table (what configfs-tsm's `auxblob` holds):
 * entries of { GUID (16 B, EFI mixed-endian), offset u32, length u32 }, terminated by an all-zero
 * entry; offsets are from the start of the table. GUIDs from the GHCB spec.
 */
import { AttestationError } from '../errors';
import { ByteReader, isAllZero } from '../bytes';

export const SNP_CERT_GUIDS = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;

/** EFI GUID bytes → canonical text (first three groups little-endian). */
export function guidToString(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function guidToBytes(guid: string): Uint8Array {
  const h = guid.replace(/-/g, '');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return new Uint8Array(Buffer.from(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16), 'hex'));
}

/** GUID text → certificate bytes. Throws `malformed_evidence` on inconsistent tables. */
export function parseSnpCertTable(bytes: Uint8Array): Map<string, Uint8Array> {
  const r = new ByteReader(bytes, 'SEV-SNP certificate table');
  const out = new Map<string, Uint8Array>();
  for (let at = 0; ; at += 24) {
    const guid = r.slice(at, 16, 'guid');
    const offset = r.u32(at + 16, 'offset');
    const length = r.u32(at + 20, 'length');
    if (isAllZero(guid) && offset === 0 && length === 0) return out;
    if (out.size > 64) throw new AttestationError('malformed_evidence', 'SEV-SNP certificate table has too many entries');
    out.set(guidToString(guid), r.slice(offset, length, 'certificate'));
  }
}
