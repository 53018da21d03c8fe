import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../cli/verify';
import { captureCli } from './support/capture-cli';
import { createSimulatedProvider } from '../attestation';
import { describeWithVectors, vectorPath } from '../attestation/test-support/vectors';

const cli = (args: string[]) => captureCli(run, args);

const dir = mkdtempSync(path.join(tmpdir(), 'veil-verify-'));
const policyFile = (p: object) => {
  const f = path.join(dir, `policy-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(p));
  return f;
};
const basePolicy = { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 'any', nonce: 'any', reportDataBinding: 'required' };

describe('veil verify: envelope files', () => {
  test('simulated envelope: invalid by default; with the policy opt-in valid only against a pinned key or knowingly self-signed', async () => {
    const NOW = new Date('2026-11-25T10:00:00Z');
    const provider = createSimulatedProvider({ now: () => NOW });
    const env = await provider.getEvidence({ hpkePublicKey: new Uint8Array(32).fill(1), signingAddress: '0x' + '12'.repeat(20), nonce: new Uint8Array(16).fill(2) });
    const file = path.join(dir, 'env.json');
    writeFileSync(file, JSON.stringify(env));
    const allow = ['--at', '2026-11-25T10:00:00Z', '--policy', policyFile({ ...basePolicy, simulated: 'allow' })];

    const refused = await cli([file, '--at', '2026-11-25T10:00:00Z']);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('INVALID');
    expect(refused.out).toContain('simulated_forbidden');

    // The key inside the envelope is self-asserted: without a pinned key the opt-in alone is not enough.
    const unpinned = await cli([file, ...allow, '--json']);
    expect(unpinned.code).toBe(1);
    expect(JSON.parse(unpinned.out).reasons.map((r: { code: string }) => r.code)).toEqual(['simulated_key_missing']);

    const key = Buffer.from(provider.verifierKey).toString('hex');
    const ok = await cli([file, ...allow, '--simulated-key', key, '--json']);
    expect(ok.code).toBe(0);
    const json = JSON.parse(ok.out);
    expect(json).toMatchObject({ verdict: 'valid', platform: 'simulated', simulated: true, simulatedKeySource: 'pinned', reasons: [], at: '2026-11-25T10:00:00.000Z', atSource: 'flag' });
    expect(json.measurement).toMatch(/^[0-9a-f]{96}$/);

    const other = Buffer.from(createSimulatedProvider().verifierKey).toString('hex');
    expect((await cli([file, ...allow, '--simulated-key', other])).out).toContain('signature_invalid');

    const selfSigned = await cli([file, ...allow, '--accept-self-signed']);
    expect(selfSigned.code).toBe(0);
    expect(selfSigned.out).toContain('SIMULATED, SELF-SIGNED');
    expect(JSON.parse((await cli([file, ...allow, '--accept-self-signed', '--json'])).out).simulatedKeySource).toBe('envelope');

    const both = await cli([file, ...allow, '--accept-self-signed', '--simulated-key', key]);
    expect(both.code).toBe(2);
    expect(both.err).toContain('give --simulated-key or --accept-self-signed, not both');
    expect((await cli([file, ...allow, '--simulated-key', 'abcd'])).err).toContain('--simulated-key abcd is not a public key');
  });

  test('error: envelope whose binding does not match → invalid with report_data_mismatch', async () => {
    const NOW = new Date('2026-11-25T10:00:00Z');
    const env = await createSimulatedProvider({ now: () => NOW }).getEvidence({ hpkePublicKey: new Uint8Array(32).fill(1), signingAddress: '0x' + '12'.repeat(20), nonce: new Uint8Array(16).fill(2) });
    const file = path.join(dir, 'env-bad.json');
    writeFileSync(file, JSON.stringify({ ...env, signingAddress: '0x' + '34'.repeat(20) }));
    const res = await cli([file, '--at', '2026-11-25T10:00:00Z', '--policy', policyFile({ ...basePolicy, simulated: 'allow' }), '--accept-self-signed', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out).reasons.map((r: { code: string }) => r.code)).toEqual(['report_data_mismatch']);
  });
});

describeWithVectors('veil verify: raw vendor artifacts', () => {
  const V = (p: string) => vectorPath(p);

  test('SEV-SNP report (hex text) + VCEK at the fixed time → valid, exit 0', async () => {
    const res = await cli(['--platform', 'sev-snp', '--report', V('sev-snp/virtee_milan_report.hex'), '--vcek', V('sev-snp/virtee_milan_vcek.der'), '--at', '2024-01-01T00:00:00Z']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('veil verify: VALID');
    expect(res.out).toContain('7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f');
    expect(res.out).toContain('2024-01-01T00:00:00.000Z (from --at)');
  });

  test('SEV-SNP debug report → invalid with a readable reason, exit 1', async () => {
    const res = await cli(['--platform', 'sev-snp', '--report', V('sev-snp/gsg_milan_report.bin'), '--vcek', V('sev-snp/gsg_milan_vcek.der'), '--at', '2024-01-01T00:00:00Z']);
    expect(res.code).toBe(1);
    expect(res.out).toContain('- debug_enabled: sev-snp evidence comes from a debug-mode TEE (actual true, expected false)');
  });

  test('VLEK report at today → certificate expired', async () => {
    const res = await cli(['--platform', 'sev-snp', '--report', V('sev-snp/trustee_milan_vlek_report.bin'), '--vcek', V('sev-snp/trustee_milan_vlek.der'), '--at', '2026-11-25T00:00:00Z', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out).reasons[0].code).toBe('certificate_expired');
  });

  test('VLEK report + --vlek at its fixed time → valid; --vcek and --vlek together → usage error', async () => {
    const report = ['--platform', 'sev-snp', '--report', V('sev-snp/trustee_milan_vlek_report.bin')];
    const res = await cli([...report, '--vlek', V('sev-snp/trustee_milan_vlek.der'), '--at', '2025-01-01T00:00:00Z', '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toMatchObject({ verdict: 'valid', platform: 'sev-snp' });
    const both = await cli([...report, '--vlek', V('sev-snp/trustee_milan_vlek.der'), '--vcek', V('sev-snp/trustee_milan_vlek.der')]);
    expect(both.code).toBe(2);
    expect(both.err).toContain('give --vcek or --vlek, not both');
  });

  test('TDX quote + dcap-qvl collateral JSON → valid (UpToDate)', async () => {
    const res = await cli(['--platform', 'tdx', '--quote', V('tdx/dcapqvl_tdx_v4_quote.bin'), '--collateral', V('tdx/dcapqvl_tdx_v4_collateral.json'), '--at', '2025-07-01T00:00:00Z']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('tcb status   UpToDate');
  });

  test('TDX quote + go-tdx-guest PCS collateral folder → invalid, TCB level not supported', async () => {
    const res = await cli(['--platform', 'tdx', '--quote', V('tdx/gtg_tdx_v4_quote_spr_e4.dat'), '--collateral', V('tdx/gtg_collateral'), '--at', '2023-07-01T01:00:00Z', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out).reasons.map((r: { code: string }) => r.code)).toEqual(['tcb_level_unsupported']);
  });

  test('TDX v5 quote → invalid (no TCB level)', async () => {
    const res = await cli(['--platform', 'tdx', '--quote', V('tdx/dcapqvl_tdx_v5_outdated_quote.bin'), '--collateral', V('tdx/dcapqvl_tdx_v5_outdated_collateral.json'), '--at', '2026-03-01T00:00:00Z', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out).verdict).toBe('invalid');
  });

  test('Nitro document (base64 text) at the fixed time → valid; without --at the current time is used and printed', async () => {
    const ok = await cli(['--platform', 'nitro', '--document', V('nitro/blocky_nitro_attestation.b64'), '--at', '2024-09-07T15:00:00Z', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ verdict: 'valid', platform: 'nitro', measurement: expect.stringMatching(/^e72a46ca/) });
    const now = await cli(['--platform', 'nitro', '--document', V('nitro/blocky_nitro_attestation.cbor')]);
    expect(now.code).toBe(1);
    expect(now.out).toContain('(current time; pass --at to verify at another time)');
    expect(now.out).toContain('certificate_expired');
  });

  test('Nitro debug document → invalid (debug_enabled)', async () => {
    const res = await cli(['--platform', 'nitro', '--document', V('nitro/blocky_nitro_attestation_debug.cbor'), '--at', '2024-09-07T15:00:00Z', '--json']);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.out).reasons.map((r: { code: string }) => r.code)).toEqual(['debug_enabled']);
  });
});

describe('veil verify: usage errors exit 2', () => {
  test.each([
    [[], 'nothing to verify'],
    [['a.json', 'b.json'], 'at most one envelope'],
    [['--platform', 'sev-snp', '--report', '/nonexistent'], 'cannot read /nonexistent'],
    [['--platform', 'sev-snp'], 'needs --report'],
    [['--platform', 'sgx', '--quote', 'x'], '--platform must be sev-snp, tdx or nitro'],
    [['--platform', 'nitro', '--document', 'x', '--at', 'yesterday'], '--at must be an ISO 8601 time'],
    [['--onchain', '--platform', 'nitro', '--document', 'x'], 'not raw --platform artifacts'],
  ])('%j', async (args, message) => {
    const res = await cli(args as string[]);
    expect(res.code).toBe(2);
    expect(res.err).toContain(message);
  });

  test('invalid policy names the field', async () => {
    const env = path.join(dir, 'env2.json');
    writeFileSync(env, JSON.stringify({ version: 1, platform: 'simulated', evidence: 'AAAA' }));
    const res = await cli([env, '--policy', policyFile({ ...basePolicy, debug: undefined })]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('policy.debug is required');
  });

  test('invalid envelope names the field', async () => {
    const env = path.join(dir, 'env3.json');
    writeFileSync(env, JSON.stringify({ version: 1, platform: 'sgx', evidence: 'AAAA' }));
    const res = await cli([env]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('envelope.platform must be one of');
  });

  test('--help exits 0', async () => {
    const res = await cli(['--help']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('usage:');
  });
});
