/**
 * `npm run bench`: the quick set — short versions of the benches that say most about a change, one after another,
 * each as its own process (as when run alone), then one summary table. A few minutes on a 2-core machine; the full
 * versions (`node bin/run-ts.cjs bench/<name>.ts`, no arguments) write the figures README.md quotes.
 *
 *   npm run bench [-- --only load,tee] [-- --list]
 *
 * Reports go to bench/results/quick/ (VEIL_BENCH_RESULTS_DIR), not bench/results/: a quick run's coarse numbers never
 * overwrite the full runs'. Exit code 1 when any bench failed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { markdownTable, round } from './write-bench-report';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each bench's own report shape

export type QuickBench = {
  name: string;
  /** bench/<script>, run with `args`. */
  script: string;
  args: string[];
  env?: Record<string, string>;
  /** The report it writes: <report>.json in the results dir. */
  report: string;
  /** One line of its figures, read from its report. */
  headline(json: Json): string;
};

const ms = (x: unknown) => `${round(Number(x))} ms`;

export const QUICK_SET: readonly QuickBench[] = [
  {
    name: 'load', script: 'load.ts', args: ['--quick'], report: 'load-quick',
    headline: (j) => (j.results as Json[]).map((r) => `${r.mode} ×${r.gateways}: ${r.maxSustainedRate}/s`).join(', '),
  },
  {
    name: 'tee', script: 'tee.ts', args: ['breast-cancer-lr'], report: 'tee',
    headline: (j) => {
      const g = (j.results as Json[])[0]!.gateway as Json;
      return `breast-cancer-lr through the gateway p50 ${ms(g['TEE via gateway p50 ms'])} (bare ORT ${ms(g['bare ORT p50 ms'])})`;
    },
  },
  {
    name: 'gateway-fhe', script: 'gateway-fhe.ts', args: ['breast-cancer-lr'], report: 'gateway-fhe',
    headline: (j) => {
      const sdk = (j.sdk as Json[])[0]!;
      const blocks = (j.variants as Json[]).find((v) => v.variant === 'blocks')!;
      return `breast-cancer-lr 1 sample via SDK p50 ${ms(sdk['single p50 ms (incl. enc/dec)'])}; blocks group via gRPC p50 ${ms(blocks['group p50 ms (gRPC)'])}`;
    },
  },
  {
    name: 'chat', script: 'chat.ts', args: ['3', '32'], report: 'chat',
    headline: (j) => {
      const arm = (j.chat as Json[]).find((r) => String(r.arm).includes('worker'))!;
      return `toy-chat-kjv through veil proxy: ${arm['tokens/s p50']} tokens/s p50, TTFT p50 ${ms(arm['TTFT p50 ms'])}`;
    },
  },
  {
    name: 'gateway-soak', script: 'gateway-soak.ts', args: ['5', '2', 'tee'], report: 'gateway-soak-tee',
    headline: (j) => `TEE, 2 closed-loop clients for 5 s: ${j.result.calls} calls, p99 ${ms(j.result['p99 ms'])}, errors ${j.result.errors}`,
  },
  {
    name: 'fhe-plan', script: 'fhe-plan.ts', args: ['models/breast-cancer-lr.onnx'], env: { FHE_BENCH_ITERATIONS: '5' }, report: 'fhe-plan',
    headline: (j) => (j.results as Json[]).map((r) => `${r.layout} single p50 ${ms(r.single.p50Ms)}`).join(', '),
  },
  {
    name: 'attestation', script: 'attestation.ts', args: ['20'], report: 'attestation',
    headline: (j) => (j.summary as Json[]).map((s) => `${s.platform} p50 ${ms(s.p50_ms)}`).join(', '),
  },
];

export type QuickBenchResult = { bench: string; seconds: number; status: string; figures: string; report: string };

function runOne(b: QuickBench, resultsDir: string): Promise<QuickBenchResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'run-ts.cjs'), path.join(__dirname, b.script), ...b.args], {
    cwd: path.join(__dirname, '..'), env: { ...process.env, ...b.env, VEIL_BENCH_RESULTS_DIR: resultsDir }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      const seconds = round((performance.now() - started) / 1000, 1);
      const file = path.join(resultsDir, `${b.report}.json`);
      let figures = '—';
      try {
        if (code === 0) figures = b.headline(JSON.parse(fs.readFileSync(file, 'utf8')) as Json);
      } catch (err) {
        figures = `(report unreadable: ${(err as Error).message})`;
      }
      resolve({ bench: b.name, seconds, status: code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`, figures, report: path.relative(process.cwd(), file) });
    });
  });
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string' }, list: { type: 'boolean' } } });
  if (values.list) {
    for (const b of QUICK_SET) console.log(`${b.name}: node bin/run-ts.cjs bench/${b.script} ${b.args.join(' ')}`);
    return;
  }
  const only = values.only?.split(',');
  const unknown = only?.filter((n) => !QUICK_SET.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')} (known: ${QUICK_SET.map((b) => b.name).join(', ')})`);
  const chosen = QUICK_SET.filter((b) => !only || only.includes(b.name));
  const resultsDir = path.join(__dirname, 'results', 'quick');
  const results: QuickBenchResult[] = [];
  for (const b of chosen) {
    console.log(`\n━━ ${b.name}: bench/${b.script} ${b.args.join(' ')}`);
    results.push(await runOne(b, resultsDir));
  }
  const total = round(results.reduce((s, r) => s + r.seconds, 0), 1);
  console.log(`\n# Quick bench set (${total} s; reports in ${path.relative(process.cwd(), resultsDir)}/)\n`);
  console.log(markdownTable(results.map((r) => ({ bench: r.bench, 's': r.seconds, status: r.status, figures: r.figures }))));
  if (results.some((r) => r.status !== 'ok')) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
