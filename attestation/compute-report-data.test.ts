import { createHash } from 'node:crypto';
import { computeReportData } from './compute-report-data';

const key = new Uint8Array(32).fill(0x11);
const address = '0x' + '22'.repeat(20);
const nonce = new Uint8Array(32).fill(0x33);

describe('computeReportData', () => {
  test('matches the byte-for-byte layout in README.md', () => {
    const manual = Buffer.concat([
      Buffer.from([0, 0, 0, 19]), Buffer.from('veil-attestation-v1', 'ascii'),
      Buffer.from([0, 0, 0, 32]), Buffer.from(key),
      Buffer.from([0, 0, 0, 20]), Buffer.alloc(20, 0x22),
      Buffer.from([0, 0, 0, 32]), Buffer.from(nonce),
    ]);
    const expected = createHash('sha512').update(manual).digest();
    const got = computeReportData({ hpkePublicKey: key, signingAddress: address, nonce });
    expect(got.length).toBe(64);
    expect(Buffer.from(got).equals(expected)).toBe(true);
  });

  test('known-answer vector (pinned so the encoding never drifts)', () => {
    const got = Buffer.from(computeReportData({ hpkePublicKey: key, signingAddress: address, nonce })).toString('hex');
    expect(got).toMatchInlineSnapshot(`"c985b130dcd2e2241310347278c6f7bbd8a4ad8fd3867087331fe150a2d29b7de2dafdeb9f8bc7870ba0a674d06815420737d6bba81d7f3e811c8933b2ce253c"`);
  });

  test('address case does not matter; field boundaries do', () => {
    const a = computeReportData({ hpkePublicKey: key, signingAddress: '0x' + 'aB'.repeat(20), nonce });
    const b = computeReportData({ hpkePublicKey: key, signingAddress: '0x' + 'ab'.repeat(20), nonce });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // moving one byte from the key into the nonce changes the digest (length prefixes)
    const c = computeReportData({ hpkePublicKey: key.subarray(0, 31), signingAddress: address, nonce: new Uint8Array([0x11, ...nonce]) });
    expect(Buffer.from(c).equals(Buffer.from(computeReportData({ hpkePublicKey: key, signingAddress: address, nonce })))).toBe(false);
  });

  test('error: invalid inputs are invalid_argument', () => {
    expect(() => computeReportData({ hpkePublicKey: new Uint8Array(0), signingAddress: address, nonce })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => computeReportData({ hpkePublicKey: key, signingAddress: '0x1234', nonce })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(() => computeReportData({ hpkePublicKey: key, signingAddress: address, nonce: new Uint8Array(1025) })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
