import { verifyEvidence, type VerifyEvidenceResult } from './verify-evidence';
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from './providers/create-simulated-provider';
import { describeWithVectors } from './test-support/vectors';
import { REAL_VECTORS } from './test-support/real-vectors';
import { PERMISSIVE_POLICY, PRODUCTION_POLICY } from './test-support/policies';
import type { AttestationPolicy } from './policy/attestation-policy';
import { fromBase64, toBase64 } from './bytes';

const TODAY = new Date('2026-11-25T00:00:00Z');
const codes = (r: VerifyEvidenceResult) => (r.ok ? [] : [...new Set(r.failures.map((f) => f.code))].sort());

describeWithVectors('verifyEvidence: every SOURCES.md vector gets its expected verdict', () => {
  test.each(REAL_VECTORS.map((v) => [v.name, v] as const))('%s at its fixed time', async (_name, v) => {
    const { evidence, collateral } = v.load();
    const res = await verifyEvidence(evidence, PERMISSIVE_POLICY, { now: new Date(v.at), ...(collateral ? { collateral } : {}) });
    if (v.expected === 'valid') expect(codes(res)).toEqual([]);
    else expect(codes(res)).toEqual([...v.expected.invalid].sort());
    expect(res.verdict).toBe(v.expected === 'valid' ? 'valid' : 'invalid');
    if (v.production) {
      const prod = await verifyEvidence(evidence, PRODUCTION_POLICY, { now: new Date(v.at), ...(collateral ? { collateral } : {}) });
      expect(codes(prod)).toEqual(v.production === 'valid' ? [] : [...v.production.invalid].sort());
    }
  });

  test.each(REAL_VECTORS.filter((v) => v.today).map((v) => [v.name, v] as const))('%s fails at 2026-11-25', async (_name, v) => {
    const { evidence, collateral } = v.load();
    const res = await verifyEvidence(evidence, PERMISSIVE_POLICY, { now: TODAY, ...(collateral ? { collateral } : {}) });
    expect(res.ok).toBe(false);
    expect(codes(res)).toEqual(expect.arrayContaining(v.today!));
  });

  test('valid results carry claims; invalid results carry unverified claims and actual/expected', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'sev-snp/gsg_milan')!;
    const bad = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, measurements: [`sev-snp:${'00'.repeat(48)}`] }, { now: new Date(v.at) });
    expect(bad).toMatchObject({ ok: false, verdict: 'invalid', platform: 'sev-snp', at: '2024-01-01T00:00:00.000Z' });
    if (bad.ok) throw new Error('unreachable');
    expect(bad.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'debug_enabled', actual: true, expected: false }),
        expect.objectContaining({ code: 'measurement_not_allowed', actual: 'sev-snp:b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01' }),
      ]),
    );
    expect(bad.unverifiedClaims?.measurement).toMatch(/^b07af962/);
  });

  test('SNP minimum TCB: reported snp SPL 8 passes ≥8 and fails ≥9', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'sev-snp/virtee_milan')!;
    const ok = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, snpMinimumTcb: { snp: 8, microcode: 115 } }, { now: new Date(v.at) });
    expect(ok.ok).toBe(true);
    const low = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, snpMinimumTcb: { snp: 9 } }, { now: new Date(v.at) });
    expect(low.ok ? [] : low.failures).toEqual([expect.objectContaining({ code: 'tcb_below_minimum', actual: 8, expected: '>= 9' })]);
  });

  test('TDX status policy: UpToDate accepted, rejected when only OutOfDate is accepted', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'tdx/dcapqvl_tdx_v4 + collateral')!;
    const { evidence, collateral } = v.load();
    const res = await verifyEvidence(evidence, { ...PRODUCTION_POLICY, tdxTcbStatuses: ['OutOfDate'] }, { now: new Date(v.at), collateral: collateral! });
    expect(res.ok ? [] : res.failures).toEqual([expect.objectContaining({ code: 'tcb_status_rejected', actual: 'UpToDate', expected: ['OutOfDate'] })]);
  });

  test('Nitro freshness: maxAgeSeconds judged from the document timestamp', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'nitro/blocky_nitro_attestation')!;
    const fresh = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, maxAgeSeconds: 3600 }, { now: new Date(v.at) });
    expect(fresh.ok).toBe(true);
    const stale = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, maxAgeSeconds: 60 }, { now: new Date(v.at) });
    expect(codes(stale)).toEqual(['evidence_too_old']);
  });

  test('SNP without timestamp: a numeric maxAge needs an expected nonce', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'sev-snp/virtee_milan')!;
    const res = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, maxAgeSeconds: 60 }, { now: new Date(v.at) });
    expect(codes(res)).toEqual(['freshness_unknown']);
  });

  test('unbound vendor evidence cannot satisfy reportDataBinding: required', async () => {
    const v = REAL_VECTORS.find((x) => x.name === 'sev-snp/virtee_milan')!;
    const res = await verifyEvidence(v.load().evidence, { ...PRODUCTION_POLICY, reportDataBinding: 'required' }, { now: new Date(v.at) });
    expect(codes(res)).toEqual(['report_data_unbound']);
  });
});

describe('verifyEvidence: simulated platform', () => {
  const hpkePublicKey = new Uint8Array(32).fill(7);
  const signingAddress = '0x' + 'ab'.repeat(20);
  const nonce = new Uint8Array(32).fill(9);
  const NOW = new Date('2026-11-25T10:00:00Z');
  const strict: AttestationPolicy = { ...PRODUCTION_POLICY, reportDataBinding: 'required', nonce: '09'.repeat(32), maxAgeSeconds: 60 };

  test.each(['p256', 'secp256k1'] as const)('%s: valid only with explicit opt-in and the injected key', async (keyAlgorithm) => {
    const provider = createSimulatedProvider({ keyAlgorithm, now: () => NOW });
    const env = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
    expect(env.platform).toBe('simulated');
    const refused = await verifyEvidence(env, strict, { now: NOW });
    expect(codes(refused)).toEqual(['simulated_forbidden']);
    const ok = await verifyEvidence(env, { ...strict, simulated: 'allow' }, { now: NOW, roots: { simulated: [provider.verifierKey] } });
    expect(ok).toMatchObject({ ok: true, claims: { platform: 'simulated', simulated: true, details: { simulated: true, keyAlgorithm } } });
    expect(ok.ok && ok.claims.binding).toEqual({ hpkePublicKey: env.hpkePublicKey, signingAddress, nonce: env.nonce });
  });

  test('error: another key, a changed nonce or key, debug, stale', async () => {
    const provider = createSimulatedProvider({ now: () => NOW });
    const other = createSimulatedProvider({ now: () => NOW });
    const env = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
    const allow = { ...strict, simulated: 'allow' as const };
    expect(codes(await verifyEvidence(env, allow, { now: NOW, roots: { simulated: [other.verifierKey] } }))).toEqual(['signature_invalid']);
    expect(codes(await verifyEvidence({ ...env, nonce: '08'.repeat(32) }, allow, { now: NOW, roots: { simulated: [provider.verifierKey] } }))).toEqual(['nonce_mismatch', 'report_data_mismatch']);
    expect(codes(await verifyEvidence({ ...env, hpkePublicKey: '00'.repeat(32) }, allow, { now: NOW, roots: { simulated: [provider.verifierKey] } }))).toEqual(['report_data_mismatch']);
    expect(codes(await verifyEvidence(env, allow, { now: new Date(NOW.getTime() + 120_000), roots: { simulated: [provider.verifierKey] } }))).toEqual(['evidence_too_old']);
    const debug = await createSimulatedProvider({ debug: true, now: () => NOW }).getEvidence({ hpkePublicKey, signingAddress, nonce });
    expect(codes(await verifyEvidence(debug, allow, { now: NOW, roots: { simulated: 'self-signed' } }))).toEqual(['debug_enabled']);
  });

  test('error: the key carried in the envelope is not trusted; anyone can self-sign a report', async () => {
    const provider = createSimulatedProvider({ now: () => NOW });
    const forger = createSimulatedProvider({ now: () => NOW }); // an attacker's own key pair, embedded in its envelope
    const env = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
    const forged = await forger.getEvidence({ hpkePublicKey, signingAddress, nonce });
    const allow = { ...strict, simulated: 'allow' as const };
    const refused = await verifyEvidence(forged, allow, { now: NOW });
    expect(codes(refused)).toEqual(['simulated_key_missing']);
    expect(!refused.ok && refused.failures[0]!.message).toContain('no simulated verifier key is pinned');
    // With the real node's key pinned, the forger's embedded key is ignored.
    expect(codes(await verifyEvidence(forged, allow, { now: NOW, roots: { simulated: [provider.verifierKey] } }))).toEqual(['signature_invalid']);
    const pinned = await verifyEvidence(env, allow, { now: NOW, roots: { simulated: [provider.verifierKey] } });
    expect(pinned).toMatchObject({ ok: true, claims: { details: { verifierKeySource: 'pinned' } } });
  });

  test("'self-signed' accepts the envelope's own key knowingly, and the claims say so; a tampered report still fails", async () => {
    const provider = createSimulatedProvider({ now: () => NOW });
    const env = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
    const allow = { ...strict, simulated: 'allow' as const };
    const selfSigned = { now: NOW, roots: { simulated: 'self-signed' as const } };
    expect(await verifyEvidence(env, allow, selfSigned)).toMatchObject({ ok: true, claims: { simulated: true, details: { verifierKeySource: 'envelope' } } });
    const bytes = fromBase64(env.evidence, 'e');
    bytes[50]! ^= 1;
    expect(codes(await verifyEvidence({ ...env, evidence: toBase64(bytes) }, allow, selfSigned))).toEqual(['signature_invalid']);
    const { simulatedVerifierKey: _drop, ...noKey } = env;
    expect(codes(await verifyEvidence(noKey, allow, selfSigned))).toEqual(['simulated_key_missing']);
  });

  test('error: measurement allow-lists are per platform; a bare hex entry matches nothing', async () => {
    const provider = createSimulatedProvider({ now: () => NOW });
    const env = await provider.getEvidence({ hpkePublicKey, signingAddress, nonce });
    const measurement = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
    const options = { now: NOW, roots: { simulated: [provider.verifierKey] } };
    const withList = (measurements: string[]) => ({ ...strict, simulated: 'allow' as const, measurements });
    // The simulated report carries the very bytes an SNP entry approves: the platform keeps them apart.
    const wrongPlatform = await verifyEvidence(env, withList([`sev-snp:${measurement}`]), options);
    expect(codes(wrongPlatform)).toEqual(['measurement_not_allowed']);
    expect(!wrongPlatform.ok && wrongPlatform.failures[0]!.actual).toBe(`simulated:${measurement}`);
    expect(codes(await verifyEvidence(env, withList([measurement]), options))).toEqual(['measurement_not_allowed']);
    expect((await verifyEvidence(env, withList([`simulated:${measurement}`]), options)).ok).toBe(true);
    expect((await verifyEvidence(env, withList(['sev-snp:any', 'simulated:any']), options)).ok).toBe(true);
  });

  test('error: verifyEvidence requires a valid now', async () => {
    const env = await createSimulatedProvider().getEvidence({ hpkePublicKey, signingAddress, nonce });
    await expect(verifyEvidence(env, strict, { now: new Date('nope') })).rejects.toThrow('options.now must be a valid Date');
  });
});
