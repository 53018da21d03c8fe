/**
 * Bare node-seal plan cost, one thread: `node bin/run-ts.cjs bench/fhe-plan.ts [model.onnx ...]`
 * (default: the bundled breast-cancer LR and digits MLP). Writes bench/results/fhe-plan.json and .md.
 *
 * Per model and layout (replicated-blocks = latency, feature-major = throughput): single-sample latency (one group: loadArray of the seeded upload → plan → saveArray), the same for a
 * full batch group, samples/s, rotations vs the layout minimum, key bytes vs SEAL's default power-of-two Galois set,
 * and ciphertext bytes per request. The measuring function is `measureBarePlan` from `fhe/`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileOnnx, measureBarePlan } from '../fhe';
import type { FheLayoutKind, MeasureBarePlanResult } from '../fhe';
import { RESULTS_DIR } from './write-bench-report';

type Variant = { label: string; layout: FheLayoutKind; expandInput?: boolean };
const VARIANTS: Variant[] = [
  { label: 'blocks', layout: 'replicated-blocks' },
  { label: 'blocks+expanded input', layout: 'replicated-blocks', expandInput: true },
  { label: 'feature-major', layout: 'feature-major' },
];

const DEFAULT_MODELS = ['models/breast-cancer-lr.onnx', 'models/digits-mlp.onnx'];

async function main(): Promise<void> {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const iterations = Number(process.env.FHE_BENCH_ITERATIONS ?? 20);
  const rows: ({ model: string; layout: string; depth: number; coeffModulusBits: number[] } & MeasureBarePlanResult)[] = [];
  for (const file of files.length ? files : DEFAULT_MODELS) {
    for (const v of VARIANTS) {
      const plan = compileOnnx(readFileSync(file), { name: path.basename(file), layout: v.layout, expandInput: v.expandInput });
      if (v.expandInput && plan.spec.layout.kind === 'replicated-blocks' && plan.spec.layout.inputCopies === 1) continue; // nothing to expand (e.g. LR)
      // Feature-major groups are 2–4k samples and cost seconds: fewer runs.
      const r = await measureBarePlan(plan, { iterations: v.layout === 'feature-major' ? Math.max(3, Math.round(iterations / 5)) : iterations });
      rows.push({ model: file, layout: v.label, depth: plan.spec.stats.depth, coeffModulusBits: plan.spec.params.coeffModulusBits, ...r });
      console.error(`${file} (${v.label}): single p50 ${r.single.p50Ms.toFixed(1)} ms, ${r.samplesPerSecond.toFixed(0)} samples/s/thread`);
    }
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString() };
  const outDir = RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'fhe-plan.json'), `${JSON.stringify({ machine, iterations, results: rows }, null, 2)}\n`);
  const mb = (b: number) => (b / 1e6).toFixed(2);
  const md = [
    '# FHE plan: bare node-seal cost (one thread)',
    '',
    `${machine.date}, ${machine.cpu} ×${machine.cpus}, Node ${machine.node}, load average ${machine.loadavg.join(' / ')}, ${iterations} runs per case.`,
    'Latency = loadArray(seeded upload) + plan evaluation + saveArray(none) of one ciphertext, as a worker pays it.',
    '',
    '| model | layout | N / modulus bits | depth | batch | single p50 / p95 ms | full-batch p50 ms | samples/s/thread | rotations (min) | Galois + relin key MB (power-of-2 set est.) | upload / result KB per group |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${path.basename(r.model)} | ${r.layout} | ${r.polyModulusDegree} / [${r.coeffModulusBits.join(',')}] | ${r.depth} | ${r.batchCapacity} | ${r.single.p50Ms.toFixed(1)} / ${r.single.p95Ms.toFixed(1)} | ${r.fullBatch.p50Ms.toFixed(1)} | ${r.samplesPerSecond.toFixed(0)} | ${r.rotations} (${r.minRotations}) | ${mb(r.keyBytes.galois)} + ${mb(r.keyBytes.relin)} (${mb(r.keyBytes.powerOfTwoSetEstimate)}) | ${(r.ciphertextBytes.upload / 1e3).toFixed(1)} / ${(r.ciphertextBytes.download / 1e3).toFixed(1)} |`),
    '',
    'Setup (ms): ' + rows.map((r) => `${path.basename(r.model)} ${r.layout}: context ${r.setupMs.context.toFixed(0)}, keygen ${r.setupMs.keygen.toFixed(0)}, key load ${r.setupMs.loadKeys.toFixed(0)}, plan encode ${r.setupMs.encodePlan.toFixed(0)}`).join('; '),
    '',
  ].join('\n');
  writeFileSync(path.join(outDir, 'fhe-plan.md'), md);
  console.log(md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
