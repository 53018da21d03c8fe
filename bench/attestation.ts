/**
 * Attestation verification latency: `verifyEvidence` on every real vector at its fixed time (from
 * `<repo>/../shared/vectors`, skipped if absent) and on simulated evidence (P-256 and secp256k1).
 * Writes bench/results/attestation.{json,md}. Run: node bin/run-ts.cjs bench/attestation.ts [N]
 */
import { verifyEvidence, createSimulatedProvider, type AttestationPolicy, type VerifyEvidenceOptions, type UnboundEvidence, type AttestationEnvelope } from '../attestation';
import { HAVE_VECTORS, VECTORS_DIR } from '../attestation/test-support/vectors';
import { REAL_VECTORS } from '../attestation/test-support/real-vectors';
import { PERMISSIVE_POLICY } from '../attestation/test-support/policies';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const N = Number(process.argv[2] ?? 200);
const WARMUP = 20;

interface Case {
  name: string;
  platform: string;
  evidence: AttestationEnvelope | UnboundEvidence;
  policy: AttestationPolicy;
  options: VerifyEvidenceOptions;
}

async function measure(c: Case): Promise<{ verdict: string; samples: number[] }> {
  let verdict = '';
  for (let i = 0; i < WARMUP; i++) verdict = (await verifyEvidence(c.evidence, c.policy, c.options)).verdict;
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await verifyEvidence(c.evidence, c.policy, c.options);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { verdict, samples };
}

async function main(): Promise<void> {
  const cases: Case[] = [];
  if (HAVE_VECTORS) {
    for (const v of REAL_VECTORS) {
      const { evidence, collateral } = v.load();
      cases.push({ name: v.name, platform: evidence.platform, evidence, policy: PERMISSIVE_POLICY, options: { now: new Date(v.at), ...(collateral ? { collateral } : {}) } });
    }
  } else {
    console.warn(`vectors folder ${VECTORS_DIR} not found: benchmarking simulated evidence only`);
  }
  const at = new Date('2026-11-25T00:00:00Z');
  for (const keyAlgorithm of ['p256', 'secp256k1'] as const) {
    const provider = createSimulatedProvider({ keyAlgorithm, now: () => at });
    const evidence = await provider.getEvidence({ hpkePublicKey: new Uint8Array(32).fill(1), signingAddress: '0x' + '11'.repeat(20), nonce: new Uint8Array(32).fill(2) });
    cases.push({
      name: `simulated (${keyAlgorithm}, SIMULATED — not hardware)`,
      platform: 'simulated',
      evidence,
      policy: { ...PERMISSIVE_POLICY, reportDataBinding: 'required', simulated: 'allow' },
      options: { now: at, roots: { simulated: [provider.verifierKey] } },
    });
  }

  const rows: Record<string, string | number>[] = [];
  const results = [];
  const byPlatform = new Map<string, number[]>();
  for (const c of cases) {
    const { verdict, samples } = await measure(c);
    const row = { vector: c.name, platform: c.platform, at: c.options.now.toISOString(), verdict, n: samples.length, p50_ms: round(percentile(samples, 0.5), 3), p95_ms: round(percentile(samples, 0.95), 3), mean_ms: round(samples.reduce((a, b) => a + b, 0) / samples.length, 3) };
    rows.push(row);
    results.push(row);
    byPlatform.set(c.platform, [...(byPlatform.get(c.platform) ?? []), ...samples]);
  }
  const summary = [...byPlatform].map(([platform, s]) => ({ platform, vectors: cases.filter((c) => c.platform === platform).length, n: s.length, p50_ms: round(percentile(s, 0.5), 3), p95_ms: round(percentile(s, 0.95), 3) }));
  const machine = machineInfo();
  const md = [
    '# Attestation verification latency',
    '',
    `\`verifyEvidence\` (parse + signatures + chains + collateral + policy) per call, ${N} runs after ${WARMUP} warm-up runs, single thread.`,
    `Real vectors at their fixed times (SOURCES.md) with a signature-level policy; "invalid" rows are vectors whose expected verdict is a rejection.`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}.`,
    '',
    '## Per platform',
    '',
    markdownTable(summary),
    '',
    '## Per vector',
    '',
    markdownTable(rows),
  ].join('\n');
  writeBenchReport('attestation', { machine, runs: N, warmup: WARMUP, summary, results }, md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
