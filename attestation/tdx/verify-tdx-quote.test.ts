import { DEFAULT_TRUST_ROOTS } from '../trust-roots';
import { describeWithVectors, readVector } from '../test-support/vectors';
import { dcapQvlCollateral, gtgCollateral } from '../test-support/tdx-collateral';
import { verifyDcapQuote, verifyTdxQuote } from './verify-tdx-quote';
import { parseTdxQuote } from './parse-tdx-quote';
import type { TdxCollateral } from './parse-tdx-collateral';

const roots = DEFAULT_TRUST_ROOTS.tdx;
const run = (quote: string, collateral: TdxCollateral | undefined, now: string) =>
  verifyTdxQuote({ quote: readVector(`tdx/${quote}`), collateral, now: new Date(now), roots });
const codes = (r: { failures: { code: string }[] }) => r.failures.map((f) => f.code);

describeWithVectors('verifyTdxQuote (real vectors)', () => {
  test('dcap-qvl v4 + collateral at 2025-07-01: valid, UpToDate, no advisories', () => {
    const res = run('dcapqvl_tdx_v4_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json'), '2025-07-01T00:00:00Z');
    expect(res.failures).toEqual([]);
    expect(res.claims?.tcb).toMatchObject({ status: 'UpToDate', advisoryIds: [], fmspc: 'b0c06f000000', pceSvn: 11 });
    expect(res.claims?.details).toMatchObject({
      mrTd: '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7',
      rtmr0: '44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0',
      tdAttributes: '0000001000000000',
    });
    expect(res.claims?.debug).toBe(false);
    expect(res.claims?.measurement).toMatch(/^[0-9a-f]{96}$/);
  });

  test('error: dcap-qvl v4 at 2026-11-25 → collateral expired', () => {
    const res = run('dcapqvl_tdx_v4_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json'), '2026-11-25T00:00:00Z');
    expect(codes(res)).toContain('collateral_expired');
  });

  test('error: dcap-qvl v4 just after the PCK CRL window (2025-07-19T10:00:36Z) → expired', () => {
    const res = run('dcapqvl_tdx_v4_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json'), '2025-07-19T10:00:36Z');
    expect(codes(res)).toEqual(['collateral_expired']);
  });

  test('error: v5 TD15 quote at 2026-03-01 → TCB level not supported', () => {
    const res = run('dcapqvl_tdx_v5_outdated_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v5_outdated_collateral.json'), '2026-03-01T00:00:00Z');
    expect(codes(res)).toEqual(['tcb_level_unsupported']);
    expect(res.claims?.details).toMatchObject({ quoteVersion: 5, bodyType: 'td15', teeTcbSvn2: '0d010300000000000000000000000000' });
  });

  test('SGX v3 quote: DCAP verification gives ConfigurationAndSWHardeningNeeded, but it is not a TDX platform', () => {
    const dcap = verifyDcapQuote({ quote: readVector('tdx/dcapqvl_sgx_v3_quote.bin'), collateral: dcapQvlCollateral('dcapqvl_sgx_v3_collateral.json'), now: new Date('2025-07-01T00:00:00Z'), roots });
    expect(dcap.failures).toEqual([]);
    expect(dcap.tcb).toMatchObject({ status: 'ConfigurationAndSWHardeningNeeded', advisoryIds: ['INTEL-SA-00289', 'INTEL-SA-00615'] });
    const tdx = run('dcapqvl_sgx_v3_quote.bin', dcapQvlCollateral('dcapqvl_sgx_v3_collateral.json'), '2025-07-01T00:00:00Z');
    expect(codes(tdx)).toEqual(['unsupported_evidence']);
  });

  test('dstack quote without collateral: signatures and chain valid, TCB not evaluated', () => {
    const res = run('dcapqvl_dstack_tappd_quote.bin', undefined, '2025-07-01T00:00:00Z');
    expect(res.failures).toEqual([]);
    expect(res.claims?.tcb).toMatchObject({ status: undefined });
    expect(res.claims?.details).toMatchObject({ rtmr3: 'a2d25bc888a93009af5b70eadb410e9071d18387e4db39aae20fe767f5c4279d95e6519c5d797938a90694599c5bea7a' });
  });

  test('error: dstack quote against the dcap-qvl v4 collateral → no TCB level matches', () => {
    const res = run('dcapqvl_dstack_tappd_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json'), '2025-07-01T00:00:00Z');
    expect(codes(res)).toEqual(['tcb_level_unsupported']);
  });

  test('go-tdx-guest quote (trailing ASCII) at 2023-07-01T01:00Z: valid without collateral', () => {
    expect(parseTdxQuote(readVector('tdx/gtg_tdx_v4_quote_spr_e4.dat')).trailingBytes).toBe(39);
    expect(run('gtg_tdx_v4_quote_spr_e4.dat', undefined, '2023-07-01T01:00:00Z').failures).toEqual([]);
  });

  test('go-tdx-guest quote with its PCS collateral folder: signatures/CRLs valid, TCB level not supported', () => {
    const res = run('gtg_tdx_v4_quote_spr_e4.dat', gtgCollateral(), '2023-07-01T01:00:00Z');
    expect(codes(res)).toEqual(['tcb_level_unsupported']);
  });

  test('error: go-tdx-guest quote at 2053-07-01 → PCK certificate expired', () => {
    const res = run('gtg_tdx_v4_quote_spr_e4.dat', undefined, '2053-07-01T01:00:00Z');
    expect(res.failures[0]).toMatchObject({ code: 'certificate_expired', message: expect.stringContaining('2029-09-20T13:20:31') });
  });

  test('NEAR AI model quote + v5 collateral at 2026-03-15: UpToDate; report_data = address ‖ 0^12 ‖ nonce', () => {
    const res = run('nearai_model_quote.bin', dcapQvlCollateral('dcapqvl_tdx_v5_outdated_collateral.json'), '2026-03-15T00:00:00Z');
    expect(res.failures).toEqual([]);
    expect(res.claims?.tcb).toMatchObject({ status: 'UpToDate' });
    expect(res.claims?.reportData).toBe(`56d070df1c6be444b007839ef9cf67cec7c12b8b${'00'.repeat(12)}deadbeef${'00'.repeat(27)}01`);
  });

  test('NEAR AI gateway quote without collateral: signatures valid', () => {
    expect(run('nearai_gateway_quote.bin', undefined, '2026-03-15T00:00:00Z').failures).toEqual([]);
  });

  test('error: a quote verified against a wrong Intel root is untrusted', () => {
    const res = verifyTdxQuote({ quote: readVector('tdx/dcapqvl_tdx_v4_quote.bin'), now: new Date('2025-07-01T00:00:00Z'), roots: DEFAULT_TRUST_ROOTS.nitro });
    expect(codes(res)).toContain('untrusted_root');
  });

  test('error: collateral for another FMSPC', () => {
    const res = run('gtg_tdx_v4_quote_spr_e4.dat', dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json'), '2025-07-01T00:00:00Z');
    expect(codes(res)).toContain('fmspc_mismatch');
  });
});
