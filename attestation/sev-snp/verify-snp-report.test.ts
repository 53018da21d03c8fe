import { DEFAULT_TRUST_ROOTS } from '../trust-roots';
import { describeWithVectors, readVector } from '../test-support/vectors';
import { verifySnpReport } from './verify-snp-report';
import { parseSnpReport } from './parse-snp-report';

const roots = DEFAULT_TRUST_ROOTS.sevSnp;
const at = (iso: string) => new Date(iso);
const run = (report: string, cert: string, now: string) =>
  verifySnpReport({ report: readVector(`sev-snp/${report}`), certificates: [readVector(`sev-snp/${cert}`)], now: at(now), roots });

describeWithVectors('verifySnpReport (real vectors)', () => {
  test('gsg Milan v2: signature and chain valid at 2024-01-01, DEBUG bit set', () => {
    const res = run('gsg_milan_report.bin', 'gsg_milan_vcek.der', '2024-01-01T00:00:00Z');
    expect(res.failures).toEqual([]);
    expect(res.claims?.debug).toBe(true);
    expect(res.claims?.measurement).toBe('b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
    expect(res.claims?.tcb).toMatchObject({ reported: { bootloader: 2, tee: 0, snp: 5, microcode: 68 } });
  });

  test('virtee Milan: valid at 2024-01-01; VCEK not yet valid at 2022-09-24', () => {
    expect(run('virtee_milan_report.bin', 'virtee_milan_vcek.der', '2024-01-01T00:00:00Z').failures).toEqual([]);
    const early = run('virtee_milan_report.bin', 'virtee_milan_vcek.der', '2022-09-24T01:00:00Z');
    expect(early.failures.map((f) => f.code)).toEqual(['certificate_not_yet_valid']);
  });

  test('error: virtee report with byte 21 bit 7 flipped fails the signature', () => {
    const report = readVector('sev-snp/virtee_milan_report.bin').slice();
    report[21]! ^= 0x80;
    const res = verifySnpReport({ report, certificates: [readVector('sev-snp/virtee_milan_vcek.der')], now: at('2024-01-01T00:00:00Z'), roots });
    expect(res.failures.map((f) => f.code)).toContain('signature_invalid');
  });

  test('error: VCEK with byte 40 flipped breaks the chain', () => {
    const vcek = readVector('sev-snp/virtee_milan_vcek.der').slice();
    vcek[40]! ^= 0xff;
    const res = verifySnpReport({ report: readVector('sev-snp/virtee_milan_report.bin'), certificates: [vcek], now: at('2024-01-01T00:00:00Z'), roots });
    expect(res.failures.length).toBeGreaterThan(0);
  });

  test('trustee Milan VCEK (ID block, current != reported TCB): valid, matched on REPORTED_TCB', () => {
    const res = run('trustee_milan_vcek_report.bin', 'trustee_milan_vcek.der', '2024-01-01T00:00:00Z');
    expect(res.failures).toEqual([]);
    expect(res.claims?.details).toMatchObject({ guestSvn: 4, idKeyDigest: expect.stringMatching(/^0356215882a8/) });
  });

  test('trustee Milan VLEK v3: valid at 2025-01-01, expired at 2026-11-25', () => {
    const ok = run('trustee_milan_vlek_report.bin', 'trustee_milan_vlek.der', '2025-01-01T00:00:00Z');
    expect(ok.failures).toEqual([]);
    expect(ok.claims?.details).toMatchObject({ version: 3, signingKey: 'vlek', vmpl: 1 });
    expect(ok.claims?.chipId).toBeUndefined();
    const late = run('trustee_milan_vlek_report.bin', 'trustee_milan_vlek.der', '2026-11-25T00:00:00Z');
    expect(late.failures.map((f) => f.code)).toEqual(['certificate_expired']);
  });

  test('error: a VCEK from another chip is refused (tcb / chip id mismatch)', () => {
    const res = run('virtee_milan_report.bin', 'gsg_milan_vcek.der', '2024-01-01T00:00:00Z');
    const codes = res.failures.map((f) => f.code);
    expect(codes).toContain('signature_invalid');
    expect(codes).toContain('tcb_mismatch');
    expect(codes).toContain('chip_id_mismatch');
    expect(res.failures.find((f) => f.code === 'tcb_mismatch')).toMatchObject({ actual: 3, expected: 2 });
  });

  test('error: VLEK-signed report without the VLEK', () => {
    const res = run('trustee_milan_vlek_report.bin', 'gsg_milan_vcek.der', '2025-01-01T00:00:00Z');
    expect(res.failures.map((f) => f.code)).toEqual(['certificate_missing']);
  });

  test('error: no pinned roots → untrusted_root', () => {
    const res = verifySnpReport({ report: readVector('sev-snp/gsg_milan_report.bin'), certificates: [readVector('sev-snp/gsg_milan_vcek.der')], now: at('2024-01-01T00:00:00Z'), roots: roots.filter((r) => r.product !== 'Milan') });
    expect(res.failures.map((f) => f.code)).toEqual(['untrusted_root']);
  });
});

describe('parseSnpReport', () => {
  test('error: wrong size is malformed_evidence', () => {
    expect(() => parseSnpReport(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'malformed_evidence' }));
  });
  test('error: unknown version is unsupported_version', () => {
    const bytes = new Uint8Array(0x4a0);
    bytes[0] = 9;
    expect(() => parseSnpReport(bytes)).toThrow(expect.objectContaining({ code: 'unsupported_version' }));
  });
});
