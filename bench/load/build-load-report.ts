/**
 * The load report: bench/results/load.json (every step of every search) and load.md (the figure per mode and
 * gateway count, then each search's steps), from what runLoadHarness measured. Pure: the harness's run in, text out.
 */
import { markdownTable, round } from '../write-bench-report';
import { verdict } from './load-step';
import type { LoadHarnessRun, ModeSearch } from './run-load-harness';

export type Machine = { node: string; cores: number; cpu: string; memoryGiB: number; date: string };

export type LoadResultRow = {
  mode: string;
  gateways: number;
  p99BoundMs: number;
  unloadedP50Ms: number;
  /** Highest sustained arrival rate, requests/s (0: none was). */
  maxSustainedRate: number;
  lowestFailedRate: number | null;
  /** The sustained step's latency at that rate, ms. */
  p50AtMaxMs: number | null;
  p99AtMaxMs: number | null;
  steps: { rate: number; seconds: number; verdict: string; scheduled: number; completed: number; achievedRate: number; p50Ms: number; p99Ms: number; maxMs: number; maxIssueLagMs: number | null; errors: Record<string, number> }[];
};

export type LoadReport = {
  machine: Machine & { note: string };
  loadAverage: LoadHarnessRun['loadAverage'];
  setup: { stepSeconds: number; precision: number; maxSteps: number; topology: string; requests: Record<string, string> };
  results: LoadResultRow[];
  /** Per mode: the 2-gateway rate ÷ the 1-gateway rate. */
  scaling: { mode: string; oneGateway: number; twoGateways: number; ratio: number | null }[];
};

export const TOPOLOGY = 'each gateway its own `veil serve` process with its own state (payments off, so no ledger to share) and its in-process SIMULATED TEE node; '
  + 'with 2, requests alternate between them (client-side round robin; HTTP through one `veil proxy` process per gateway); load generator, gateways and proxies on the same cores';

const num = (x: number | undefined | null) => (x === undefined || x === null || Number.isNaN(x) ? null : x);

function row(s: ModeSearch): LoadResultRow {
  const best = s.search.steps.find((st) => st.sustained && st.rate === s.search.maxSustainedRate);
  return {
    mode: s.mode, gateways: s.gateways, p99BoundMs: s.p99BoundMs, unloadedP50Ms: s.unloadedP50Ms,
    maxSustainedRate: s.search.maxSustainedRate, lowestFailedRate: s.search.lowestFailedRate ?? null,
    p50AtMaxMs: num(best?.outcome.latency.p50), p99AtMaxMs: num(best?.outcome.latency.p99),
    steps: s.search.steps.map(({ rate, outcome }) => ({
      rate: outcome.targetRate === rate ? rate : outcome.targetRate, seconds: round(outcome.durationMs / 1000, 1), verdict: verdict(outcome, { p99BoundMs: s.p99BoundMs }),
      scheduled: outcome.scheduled, completed: outcome.completed, achievedRate: round(outcome.achievedRate, 1),
      p50Ms: outcome.latency.p50, p99Ms: outcome.latency.p99, maxMs: outcome.latency.max, maxIssueLagMs: num(outcome.maxIssueLagMs), errors: outcome.errors,
    })),
  };
}

export function buildLoadReport(run: LoadHarnessRun, machine: Machine): { json: LoadReport; markdown: string } {
  const results = run.searches.map(row);
  const modes = [...new Set(results.map((r) => r.mode))];
  const rateOf = (mode: string, n: number) => results.find((r) => r.mode === mode && r.gateways === n)?.maxSustainedRate;
  const scaling = modes.filter((m) => rateOf(m, 1) !== undefined && rateOf(m, 2) !== undefined).map((mode) => {
    const one = rateOf(mode, 1)!;
    const two = rateOf(mode, 2)!;
    return { mode, oneGateway: one, twoGateways: two, ratio: one > 0 ? round(two / one, 2) : null };
  });
  const json: LoadReport = {
    machine: { ...machine, note: 'a shared 2-core VM: other jobs ran alongside, so absolute rates move with their load' },
    loadAverage: run.loadAverage,
    setup: {
      stepSeconds: run.options.stepMs / 1000, precision: run.options.precision, maxSteps: run.options.maxSteps, topology: TOPOLOGY,
      requests: Object.fromEntries(run.searches.map((s) => [s.mode, s.request])),
    },
    results, scaling,
  };
  const summary = results.map((r) => ({
    mode: r.mode, gateways: r.gateways, 'p99 bound ms': r.p99BoundMs, 'unloaded p50 ms': r.unloadedP50Ms,
    'max sustained req/s': r.maxSustainedRate, 'lowest failed req/s': r.lowestFailedRate ?? '—',
    'p50 / p99 ms there': r.p99AtMaxMs === null ? '—' : `${r.p50AtMaxMs} / ${r.p99AtMaxMs}`,
  }));
  const md = [
    '# Load: highest arrival rate each mode sustains with p99 within its bound, 1 and 2 gateway processes',
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.date}. **A shared 2-core VM**: other jobs ran alongside; `
      + `load average ${run.loadAverage.start.join(' / ')} at start, ${run.loadAverage.end.join(' / ')} at end (1/5/15 min).`,
    '',
    `Open model: requests are issued on a constant-arrival schedule whether or not earlier ones answered, and each latency is measured from the time the request was due `
      + '(gRPC: bench/load/run-open-loop.ts, hdr-histogram-js; HTTP: autocannon, see bench/load/run-autocannon-step.ts for how its per-connection pacing is kept honest). '
      + `A rate is sustained when ≥ 99 % of a step's requests succeed and their p99 is within the mode's bound (a step lasts ${json.setup.stepSeconds} s, longer at low rates to hold ≥ ${run.options.minStepRequests} requests, `
      + `at most ${json.setup.stepSeconds * 3} s); the search doubles the rate from a quarter of what serial requests do until a step fails, then bisects to ${Math.round(run.options.precision * 100)} % `
      + `(at most ${run.options.maxSteps} steps). The 1- and 2-gateway searches of a mode run at the same time and take turns step by step, so drift in the machine's load falls on both alike. `
      + `Topology: ${TOPOLOGY}. The in-process TEE node runs one onnxruntime thread with a queue of 4 (tee.localThreads = 1): beyond that it refuses at once with \`overloaded\`.`,
    '',
    ...Object.entries(json.setup.requests).map(([m, r]) => `- **${m}**: ${r}`),
    '',
    markdownTable(summary),
    '',
    ...(scaling.length > 0 ? ['## 1 → 2 gateway processes', '', markdownTable(scaling.map((s) => ({ mode: s.mode, '1 gateway req/s': s.oneGateway, '2 gateways req/s': s.twoGateways, '2 ÷ 1': s.ratio ?? '—' }))), '',
      'Both gateways share the same two cores with the load generator (and the proxies): a second process adds workers and event loops, not CPU, so the ratio shows what the topology costs or saves on one machine, not how a second machine would scale.', ''] : []),
    '## Steps',
    '',
    ...results.flatMap((r) => [
      `### ${r.mode} · ${r.gateways} gateway${r.gateways > 1 ? 's' : ''} (p99 ≤ ${r.p99BoundMs} ms)`,
      '',
      markdownTable(r.steps.map((s) => ({
        'req/s': s.rate, s: s.seconds, verdict: s.verdict, 'ok / due': `${s.completed} / ${s.scheduled}`, 'achieved req/s': s.achievedRate,
        'p50 ms': s.p50Ms, 'p99 ms': s.p99Ms, 'max ms': s.maxMs, 'issue lag ms': s.maxIssueLagMs ?? 'n/a',
      }))),
      '',
    ]),
  ].join('\n');
  return { json, markdown: md };
}
