import { Encoder } from 'cbor-x';
import { DEFAULT_TRUST_ROOTS } from '../trust-roots';
import { describeWithVectors, readVector } from '../test-support/vectors';
import { verifyNitroDocument } from './verify-nitro-document';
import { parseNitroDocument } from './parse-nitro-document';

const roots = DEFAULT_TRUST_ROOTS.nitro;
const FIXED = new Date('2024-09-07T15:00:00Z');

describeWithVectors('verifyNitroDocument (real vectors)', () => {
  test('production document: valid at 2024-09-07T15:00Z', () => {
    const res = verifyNitroDocument({ document: readVector('nitro/blocky_nitro_attestation.cbor'), now: FIXED, roots });
    expect(res.failures).toEqual([]);
    expect(res.claims).toMatchObject({
      measurement: 'e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a',
      debug: false,
      instanceId: 'i-0a22e5c5f24d22174-enc0191cceb4289903f',
      issuedAt: '2024-09-07T14:37:39.545Z',
    });
    expect(res.claims?.reportData).toBe('01'.repeat(1024));
  });

  test('error: production document at 2026-11-25 → leaf expired', () => {
    const res = verifyNitroDocument({ document: readVector('nitro/blocky_nitro_attestation.cbor'), now: new Date('2026-11-25T00:00:00Z'), roots });
    expect(res.failures.map((f) => f.code)).toContain('certificate_expired');
  });

  test('debug document: cryptographically valid, claims debug (all-zero PCR0)', () => {
    const res = verifyNitroDocument({ document: readVector('nitro/blocky_nitro_attestation_debug.cbor'), now: FIXED, roots });
    expect(res.failures).toEqual([]);
    expect(res.claims?.debug).toBe(true);
  });

  test('error: a different root is not trusted', () => {
    const res = verifyNitroDocument({ document: readVector('nitro/blocky_nitro_attestation.cbor'), now: FIXED, roots: DEFAULT_TRUST_ROOTS.tdx });
    expect(res.failures.map((f) => f.code)).toEqual(['untrusted_root']);
  });

  test('tagged (COSE tag 18) and indefinite-length payload maps are accepted by the parser', () => {
    const doc = parseNitroDocument(readVector('nitro/blocky_nitro_attestation.cbor'));
    const tagged = new Uint8Array([0xd2, ...readVector('nitro/blocky_nitro_attestation.cbor')]);
    expect(parseNitroDocument(tagged).moduleId).toBe(doc.moduleId);
    // Re-encode the payload as an indefinite-length map with null optional fields.
    const enc = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false });
    const entries: Buffer[] = [];
    const put = (k: string, v: unknown) => entries.push(Buffer.from(enc.encode(k)), Buffer.from(enc.encode(v)));
    put('module_id', doc.moduleId);
    put('digest', doc.digest);
    put('timestamp', doc.timestamp);
    put('pcrs', new Map([...doc.pcrs].map(([k, v]) => [k, Buffer.from(v)])));
    put('certificate', Buffer.from(doc.certificate));
    put('cabundle', doc.cabundle.map((c) => Buffer.from(c)));
    put('public_key', null);
    put('user_data', null);
    put('nonce', null);
    const payload = Buffer.concat([Buffer.from([0xbf]), ...entries, Buffer.from([0xff])]);
    const cose = enc.encode([Buffer.from(doc.protectedHeader), new Map(), payload, Buffer.from(doc.signature)]);
    const parsed = parseNitroDocument(new Uint8Array(cose));
    expect(parsed.userData).toBeUndefined();
    expect(parsed.pcrs.get(0)).toEqual(doc.pcrs.get(0));
  });
});

describe('parseNitroDocument', () => {
  test('error: garbage is malformed_evidence', () => {
    expect(() => parseNitroDocument(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'malformed_evidence' }));
  });
});
