/**
 * Load harness (issue #12 §4): the highest arrival rate each mode — gRPC FHE predict, gRPC TEE infer, HTTP chat through
 * `veil proxy` — sustains with p99 within its stated bound on this machine, with 1 and with 2 gateway processes.
 * Open model (constant arrival rate, latency from each request's due time); see bench/load/.
 *
 *   node bin/run-ts.cjs bench/load.ts [--quick] [--step-seconds S] [--modes fhe-grpc,tee-grpc,chat-http] [--gateways 1,2]
 *
 * Writes bench/results/load.json, load.md and load.svg (load.png when rsvg-convert is installed); with --quick
 * (1.5 s steps, a coarser search: what `npm run bench` runs) load-quick.*.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildLoadReport } from './load/build-load-report';
import type { LoadModeId } from './load/load-modes';
import { renderLoadChart } from './load/render-load-chart';
import { runLoadHarness, type LoadHarnessOptions } from './load/run-load-harness';
import { machineInfo, writeBenchReport } from './write-bench-report';

/** The full run, and the quick one `npm run bench` takes (two to three minutes on a loaded 2-core machine, most of it starting 3 gateways and 3 proxies). */
export const LOAD_PRESETS = {
  full: { stepMs: 8_000, precision: 0.1, maxSteps: 10 },
  quick: { stepMs: 1_500, precision: 0.35, maxSteps: 4, warmup: 10, minStepRequests: 20 },
} satisfies Record<string, LoadHarnessOptions>;

export async function runLoadBench(options: LoadHarnessOptions, name: string) {
  const run = await runLoadHarness(options);
  const { json, markdown } = buildLoadReport(run, machineInfo());
  writeBenchReport(name, json, markdown);
  renderLoadChart(json, name);
  return json;
}

async function main() {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, 'step-seconds': { type: 'string' }, modes: { type: 'string' }, gateways: { type: 'string' } } });
  const preset = values.quick ? LOAD_PRESETS.quick : LOAD_PRESETS.full;
  await runLoadBench({
    ...preset,
    ...(values['step-seconds'] ? { stepMs: Number(values['step-seconds']) * 1000 } : {}),
    ...(values.modes ? { modes: values.modes.split(',') as LoadModeId[] } : {}),
    ...(values.gateways ? { gatewayCounts: values.gateways.split(',').map(Number) } : {}),
  }, values.quick ? 'load-quick' : 'load');
}

// Run as a script (bin/run-ts.cjs sets argv[1]), not when bench/run.ts imports it.
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
