/**
 * One sample's FHE work on one worker vs split across both (issue #13 point 3): the gateway runs as its own process with
 * 2 FHE workers, with `fhe.splitSingleGroups` = `never` (BEFORE), `always` and `auto` (AFTER), in the same bench run. Per
 * model and single-sample variant: one pre-encrypted group through gRPC (server evaluation + transport, ciphertexts in →
 * out) and one sample through the SDK (encryption, call, decryption: what an application sees).
 *
 *   node bin/run-ts.cjs bench/fhe-split.ts
 *
 * Writes bench/results/fhe-split.json, .md and .svg (+ .png).
 */
import os from 'node:os';
import { connectFheModel, createVeilClient, type VeilClient } from '../client';
import fs from 'node:fs';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FHE_VARIANTS, isFheVariant, loadCiphertext, loadEvaluationKeys, loadSeal,
  packInputs, planSplitStages, type FheModelSpec, type FheVariant,
} from '../fhe';
import { BUNDLED_MODELS, loadDataset } from '../models';
import { startGatewayProcess } from './start-gateway-process';
import { escapeSvg, svgBars, writeChart } from './svg-bars';
import { timeRuns } from './time-runs';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const MODELS = ['digits-mlp', 'digits-cnn'] as const;
/** The variants a single sample can use: `expanded` (the SDK's choice when served) and `blocks`. */
const SINGLE_VARIANTS: FheVariant[] = ['expanded', 'blocks'];
const BUDGET_MS = 6_000;

type Mode = 'never' | 'always' | 'auto';
const MODES: Mode[] = ['never', 'always', 'auto'];
type Measure = { model: string; variant: FheVariant; mode: Mode; grpc: number[]; sdk: number[] };

async function measure(client: VeilClient, modelId: (typeof MODELS)[number], variant: FheVariant, mode: Mode): Promise<Measure> {
  const { test } = loadDataset(BUNDLED_MODELS[modelId].dataset);
  const spec = JSON.parse((await client.getFheSpec(modelId, {}, variant)).specJson) as FheModelSpec;
  const runtime = createCkksRuntime(await loadSeal(), spec.params);
  const keys = createFheClientKeys(runtime, spec);
  let grpc: number[];
  try {
    const evaluation = keys.evaluationKeys();
    const session = await client.createFheSession({ modelId, variant, galoisKeys: evaluation.galoisKeys, relinKeys: evaluation.relinKeys });
    const single = packInputs(spec, [test.features[0]!])[0]!.map((s) => keys.encrypt(s));
    const call = () => client.predict(session.sessionId, [{ ciphertexts: single }]);
    // Both workers load the session's keys (a split call needs them in each); JIT settles.
    for (let i = 0; i < 4; i++) await call();
    grpc = await timeRuns(call, BUDGET_MS);
    await client.closeSession(session.sessionId);
  } finally {
    keys.delete();
    runtime.delete();
  }
  const model = await connectFheModel({ client, modelId, variant });
  let sdk: number[];
  try {
    for (let i = 0; i < 4; i++) await model.predict([test.features[i]!]);
    sdk = await timeRuns(() => model.predict([test.features[0]!]), BUDGET_MS);
  } finally {
    await model.close();
  }
  return { model: modelId, variant, mode, grpc, sdk };
}

/**
 * The same split by bare node-seal calls in this one thread, each part timed on its own: the whole plan vs the split's
 * critical path (per stage the slowest part, plus the last stage) and its total work. What two free cores would give,
 * less the hand-offs; measured on whatever share of a core this thread gets (see the load average).
 */
async function bareStages(modelId: (typeof MODELS)[number], variant: FheVariant): Promise<{ wholeMs: number; criticalMs: number; workMs: number; stages: number }> {
  const plan = compileOnnx(fs.readFileSync(BUNDLED_MODELS[modelId].file), { name: modelId, ...FHE_VARIANTS[variant] });
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  const keys = createFheClientKeys(runtime, plan.spec);
  const evalKeys = loadEvaluationKeys(runtime, keys.evaluationKeys(), plan.spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const median = (f: () => { delete(): void }) => {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      f().delete();
      times.push(performance.now() - t0);
    }
    return percentile(times, 0.5);
  };
  try {
    const input = loadCiphertext(runtime, keys.encrypt(packInputs(plan.spec, [loadDataset(BUNDLED_MODELS[modelId].dataset).test.features[0]!])[0]![0]!));
    const wholeMs = median(() => evaluator.evaluate([input], evalKeys)[0]!);
    const stages = planSplitStages(plan, 2);
    let carried = [input];
    let resumeAfter: number | undefined;
    let criticalMs = 0;
    let workMs = 0;
    for (const stopAt of stages) {
      const parts = [0, 1].map((index) => ({ resumeAfter, stopAt, part: { index, count: 2 } }));
      const times = parts.map((stage) => median(() => evaluator.evaluateStage!(carried, evalKeys, stage)));
      criticalMs += Math.max(...times);
      workMs += times[0]! + times[1]!;
      const next = parts.map((stage) => evaluator.evaluateStage!(carried, evalKeys, stage));
      for (const ct of carried) ct.delete();
      carried = next;
      resumeAfter = stopAt;
    }
    const last = median(() => evaluator.evaluateStage!(carried, evalKeys, { resumeAfter }));
    for (const ct of carried) ct.delete();
    return { wholeMs: round(wholeMs), criticalMs: round(criticalMs + last), workMs: round(workMs + last), stages: stages.length };
  } finally {
    evaluator.delete();
    evalKeys.delete();
    keys.delete();
    runtime.delete();
  }
}

async function main(): Promise<void> {
  const measures: Measure[] = [];
  const load: number[][] = [];
  for (const mode of MODES) {
    const gateway = await startGatewayProcess({
      VEIL_FHE_MODELS: MODELS.join(','), VEIL_FHE_VARIANTS: 'blocks,expanded', VEIL_FHE_WORKERS: '2',
      VEIL_FHE_SPLIT_SINGLE_GROUPS: mode, VEIL_TEE_ENABLED: 'false', VEIL_CHAIN_ENABLED: 'false',
    });
    const client = createVeilClient({ target: gateway.address });
    try {
      const served = new Map((await client.listModels()).models.map((m) => [m.id, m.fheVariants.filter(isFheVariant)]));
      for (const id of MODELS) {
        for (const variant of SINGLE_VARIANTS) if (served.get(id)?.includes(variant)) measures.push(await measure(client, id, variant, mode));
      }
      load.push(os.loadavg());
    } finally {
      client.close();
      await gateway.stop();
    }
  }

  const bare: Record<string, string | number>[] = [];
  for (const m of measures.filter((x) => x.mode === 'never')) {
    const b = await bareStages(m.model as (typeof MODELS)[number], m.variant);
    bare.push({ model: m.model, variant: m.variant, 'split linear ops': b.stages, 'whole plan ms': b.wholeMs, 'split critical path ms': b.criticalMs, 'split total work ms': b.workMs, 'ideal speed-up': round(b.wholeMs / b.criticalMs) });
  }
  load.push(os.loadavg());
  const p50 = (xs: number[]) => round(percentile(xs, 0.5));
  const p95 = (xs: number[]) => round(percentile(xs, 0.95));
  const rows = measures.filter((m) => m.mode === 'never').map((before) => {
    const of = (mode: Mode) => measures.find((m) => m.mode === mode && m.model === before.model && m.variant === before.variant)!;
    const always = of('always');
    const auto = of('auto');
    return {
      model: before.model,
      variant: before.variant,
      'gRPC p50 ms never / always / auto': `${p50(before.grpc)} / ${p50(always.grpc)} / ${p50(auto.grpc)}`,
      'gRPC p95 ms never / always / auto': `${p95(before.grpc)} / ${p95(always.grpc)} / ${p95(auto.grpc)}`,
      'SDK p50 ms never / always / auto': `${p50(before.sdk)} / ${p50(always.sdk)} / ${p50(auto.sdk)}`,
      'SDK p95 ms never / always / auto': `${p95(before.sdk)} / ${p95(always.sdk)} / ${p95(auto.sdk)}`,
      'always speed-up (gRPC / SDK p50)': `${round(percentile(before.grpc, 0.5) / percentile(always.grpc, 0.5))} / ${round(percentile(before.sdk, 0.5) / percentile(always.sdk, 0.5))}`,
    };
  });
  const machine = machineInfo();
  const loadText = load.map((l) => l.map((x) => x.toFixed(2)).join(' / ')).join('; ');
  const md = [
    '# One sample across both FHE workers (issue #13 point 3)',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · gateway as its own process (\`veil serve\`, 2 FHE workers), client in the bench process, same machine · load average after each gateway run and after the bare runs (1/5/15 min): ${loadText}`,
    '',
    markdownTable(rows),
    '',
    'never (before): the one ciphertext group runs on one worker while the other idles. always: each linear layer\'s BSGS terms worth splitting',
    '(fhe/split-linear-terms.ts) are evaluated half by each worker, the partial sums added by the next stage. auto (the default): split only when',
    'the pool has timed splitting as the faster way for the plan lately (workers/fhe/create-split-chooser.ts).',
    'gRPC: one pre-encrypted group (one sample), ciphertexts in → ciphertexts out. SDK: `connectFheModel(variant).predict([x])`, encryption and decryption included',
    `(client on the same 2 cores). ~${BUDGET_MS / 1000} s of sequential calls per cell. The machine is shared with other agents: see the load averages.`,
    '',
    '## The split by bare node-seal in one thread (each part timed alone: what two free cores would give, less the hand-offs)',
    '',
    markdownTable(bare),
    '',
    'critical path = per split stage the slower of the two parts, plus the last stage (add the partial sums, finish); total work = both parts + last stage.',
  ].join('\n');
  writeBenchReport('fhe-split', { machine, loadAverage: load, rows, bare, raw: measures }, md);

  const cells = measures.map((m) => ({ m, grpc: p50(m.grpc), sdk: p50(m.sdk) }));
  const max = Math.max(...cells.flatMap((c) => [c.grpc, c.sdk]));
  const colour: Record<Mode, string> = { never: '#9ca3af', always: '#2563eb', auto: '#16a34a' };
  const bars = (kind: 'grpc' | 'sdk') => cells.map((c) => ({ label: `${c.m.model.replace('digits-', '')} ${c.m.variant.slice(0, 3)} ${c.m.mode}`, value: c[kind], colour: colour[c.m.mode] }));
  const height = 80 + cells.length * 42;
  writeChart('fhe-split', [
    `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${height}" font-family="sans-serif">`,
    `<text x="20" y="18" font-size="13">${escapeSvg('single-sample p50 ms: never split (grey), always (blue), auto (green); 2 shared cores')}</text>`,
    ...svgBars(20, 'gRPC (server eval + transport)', bars('grpc'), 'ms', (v) => v / max),
    ...svgBars(520, 'SDK end to end (enc + call + dec)', bars('sdk'), 'ms', (v) => v / max),
    '</svg>',
  ].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
