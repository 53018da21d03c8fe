/**
 * Bit-flip sweep: for every vector that verifies at its fixed time, flip one bit in each byte of the
 * regions the TEE signed (and of the signatures themselves) and require rejection.
 *
 * Coverage per platform (bit index = byte offset mod 8, so all eight bit positions occur):
 * - SEV-SNP: every byte of the signed report [0, 0x2A0) and of both 72-byte signature fields
 *   (R, S including the zero padding); the VCEK/VLEK DER at stride 5.
 * - TDX: every byte of header+body, attestation key, quote signature, QE report, QE signature, QE
 *   auth data (verified without collateral, which does not change these checks); with collateral, the
 *   signed TCB-info and QE-identity JSON text at stride 23 (each flip verified with the full collateral).
 * - Nitro: every byte of the protected header; every 2nd byte of the first 1024 payload bytes
 *   (module_id, digest, timestamp, pcrs), then stride 9 through the rest of the payload (certificate,
 *   cabundle, public_key, user_data, nonce); every byte of the signature.
 * - Simulated: every byte of the signed region and the signature.
 * The PEM text of the PCK chain is not a signed region (the certificates inside it are checked by the
 * chain verification and by the certificate flips above for SNP).
 */
import { DEFAULT_TRUST_ROOTS } from './trust-roots';
import { fromBase64 } from './bytes';
import { describeWithVectors } from './test-support/vectors';
import { REAL_VECTORS } from './test-support/real-vectors';
import { verifySnpReport } from './sev-snp/verify-snp-report';
import { verifyTdxQuote } from './tdx/verify-tdx-quote';
import { parseTdxQuote } from './tdx/parse-tdx-quote';
import { verifyNitroDocument } from './nitro/verify-nitro-document';
import { parseNitroDocument } from './nitro/parse-nitro-document';
import { verifySimulatedReport } from './simulated/verify-simulated-report';
import { createSimulatedProvider } from './providers/create-simulated-provider';
import type { TdxCollateral } from './tdx/parse-tdx-collateral';

function offsetsOf(ranges: [number, number, number][]): number[] {
  const out = new Set<number>();
  for (const [start, end, stride] of ranges) for (let i = start; i < end; i += stride) out.add(i);
  return [...out].sort((a, b) => a - b);
}

function sweep(bytes: Uint8Array, offsets: number[], accepts: (mutated: Uint8Array) => boolean): { flips: number; accepted: number[] } {
  const accepted: number[] = [];
  for (const i of offsets) {
    const m = bytes.slice();
    m[i]! ^= 1 << i % 8;
    if (accepts(m)) accepted.push(i);
  }
  return { flips: offsets.length, accepted };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}

const totals: Record<string, number> = {};
afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`bit-flip sweep: ${JSON.stringify(totals)} (total ${Object.values(totals).reduce((a, b) => a + b, 0)} flips, all rejected)`);
});

describeWithVectors('bit-flip sweep over real vectors', () => {
  const valid = REAL_VECTORS.filter((v) => v.expected === 'valid');

  test.each(valid.map((v) => [v.name, v] as const))('%s: every flip is rejected', (name, v) => {
    const { evidence, collateral } = v.load();
    const now = new Date(v.at);
    const bytes = fromBase64(evidence.evidence, 'evidence');
    let flips = 0;
    if (evidence.platform === 'sev-snp') {
      const cert = fromBase64(evidence.certificates![0]!, 'cert');
      const ok = (report: Uint8Array, c: Uint8Array) => verifySnpReport({ report, certificates: [c], now, roots: DEFAULT_TRUST_ROOTS.sevSnp }).failures.length === 0;
      expect(ok(bytes, cert)).toBe(true);
      const r1 = sweep(bytes, offsetsOf([[0, 0x2a0, 1], [0x2a0, 0x2a0 + 144, 1]]), (m) => ok(m, cert));
      const r2 = sweep(cert, offsetsOf([[0, cert.length, 5]]), (m) => ok(bytes, m));
      expect([...r1.accepted, ...r2.accepted]).toEqual([]);
      flips = r1.flips + r2.flips;
    } else if (evidence.platform === 'tdx') {
      const q = parseTdxQuote(bytes);
      const ok = (quote: Uint8Array, c: TdxCollateral | undefined) => verifyTdxQuote({ quote, collateral: c, now, roots: DEFAULT_TRUST_ROOTS.tdx }).failures.length === 0;
      expect(ok(bytes, collateral)).toBe(true);
      const bodyEnd = q.signedBytes.length;
      const sigStart = bodyEnd + 4;
      const qeAt = indexOf(bytes, q.qeReport);
      const authAt = qeAt + 384 + 64 + 2;
      const ranges: [number, number, number][] = [
        [0, bodyEnd, 1],
        [sigStart, sigStart + 128, 1],
        [qeAt, qeAt + 384 + 64, 1],
        [authAt, authAt + q.qeAuthData.length, 1],
      ];
      const r = sweep(bytes, offsetsOf(ranges), (m) => ok(m, undefined));
      expect(r.accepted).toEqual([]);
      flips += r.flips;
      if (collateral) {
        for (const field of ['tcbInfo', 'qeIdentity'] as const) {
          const text = Buffer.from(collateral[field], 'utf8');
          const rc = sweep(new Uint8Array(text), offsetsOf([[0, text.length, 23]]), (m) => ok(bytes, { ...collateral, [field]: Buffer.from(m).toString('utf8') }));
          expect(rc.accepted).toEqual([]);
          flips += rc.flips;
        }
      }
    } else if (evidence.platform === 'nitro') {
      const doc = parseNitroDocument(bytes);
      const ok = (m: Uint8Array) => verifyNitroDocument({ document: m, now, roots: DEFAULT_TRUST_ROOTS.nitro }).failures.length === 0;
      expect(ok(bytes)).toBe(true);
      const ph = indexOf(bytes, doc.protectedHeader);
      const pl = indexOf(bytes, doc.payload);
      const sg = indexOf(bytes, doc.signature);
      const r = sweep(
        bytes,
        offsetsOf([
          [ph, ph + doc.protectedHeader.length, 1],
          [pl, pl + 1024, 2],
          [pl + 1024, pl + doc.payload.length, 9],
          [sg, sg + doc.signature.length, 1],
        ]),
        ok,
      );
      expect(r.accepted).toEqual([]);
      flips = r.flips;
    }
    totals[name] = flips;
    expect(flips).toBeGreaterThan(100);
  });
});

describe('bit-flip sweep over simulated evidence', () => {
  test('every flip in the signed region and signature is rejected', async () => {
    const provider = createSimulatedProvider({ now: () => new Date('2026-11-25T00:00:00Z') });
    const env = await provider.getEvidence({ hpkePublicKey: new Uint8Array(32), signingAddress: '0x' + '00'.repeat(20), nonce: new Uint8Array(8) });
    const bytes = fromBase64(env.evidence, 'evidence');
    const ok = (m: Uint8Array) => verifySimulatedReport({ report: m, trustedKeys: [provider.verifierKey], embeddedKey: undefined }).failures.length === 0;
    expect(ok(bytes)).toBe(true);
    const r = sweep(bytes, offsetsOf([[0, bytes.length, 1]]), ok);
    expect(r.accepted).toEqual([]);
    totals.simulated = r.flips;
  });
});
