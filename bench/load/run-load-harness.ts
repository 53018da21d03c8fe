/**
 * The load harness: for 1 and 2 gateway processes side by side, each mode's highest sustained arrival rate
 * (searchMaxRate over fixed-rate steps, the two topologies' steps taking turns). Every gateway is its own
 * `veil serve` process with its own state (no shared ledger: payments are off, so there is nothing durable to share)
 * and its in-process SIMULATED TEE node; with two, the bench spreads requests over them in turn (client-side round
 * robin), each HTTP arm through its own `veil proxy` process. Load generator, gateways and proxies all share this
 * machine's cores. */
import os from 'node:os';
import { startGatewayProcess, type GatewayProcess } from '../start-gateway-process';
import { startProxyProcess, type ProxyProcess } from '../start-proxy-process';
import { percentile, round } from '../write-bench-report';
import { CHAT_REQUEST, LOAD_MODES, type LoadModeId, type LoadStack } from './load-modes';
import { createTurnLock } from './create-turn-lock';
import { sustains } from './load-step';
import { searchMaxRate, type RateSearchResult } from './search-max-rate';

export type LoadHarnessOptions = {
  /** Each step's length, ms (longer at low rates, so a step has ≥ minStepRequests: at most 3 × this). */
  stepMs: number;
  /** Requests a step holds at least, time permitting (default 50: a p99 of fewer is little more than the maximum). */
  minStepRequests?: number;
  /** Bisection stops when the bracket is narrower than this fraction. */
  precision: number;
  /** At most this many steps per search. */
  maxSteps: number;
  /** Gateway counts to compare (default [1, 2]): a stack of each is up for the whole run. */
  gatewayCounts?: readonly number[];
  modes?: readonly LoadModeId[];
  /** Serial warm-up requests per mode before its search; their p50 sets the starting rate. */
  warmup?: number;
  log?: (line: string) => void;
};

export type ModeSearch = {
  mode: LoadModeId;
  gateways: number;
  request: string;
  p99BoundMs: number;
  /** p50 of the serial warm-up requests, ms. */
  unloadedP50Ms: number;
  startRate: number;
  search: RateSearchResult;
};

export type LoadHarnessRun = { options: Required<Omit<LoadHarnessOptions, 'log'>>; searches: ModeSearch[]; loadAverage: { start: number[]; end: number[] } };

const GATEWAY_ENV = {
  VEIL_CHAIN_ENABLED: 'false', VEIL_PAYMENTS_ENABLED: 'false', VEIL_HTTP_PORT: '0',
  VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks',
  VEIL_TEE_MODELS: 'breast-cancer-lr', VEIL_TEE_LANGUAGE_MODELS: CHAT_REQUEST.model,
};

/** A quarter of what one-at-a-time requests would do: usually below the knee, and the search doubles from there. */
export function startingRate(unloadedP50Ms: number, gateways: number, wholeRates: boolean): number {
  const r = Math.max(1, (250 / Math.max(0.1, unloadedP50Ms)) * gateways);
  return wholeRates ? Math.max(1, Math.floor(r)) : r >= 10 ? Math.round(r) : Number(r.toPrecision(2));
}

async function startStack(n: number, withProxies: boolean): Promise<{ stack: LoadStack; stop(): Promise<void> }> {
  const gateways: GatewayProcess[] = [];
  const proxies: ProxyProcess[] = [];
  const stop = async () => {
    for (const p of proxies) await p.stop();
    for (const g of gateways) await g.stop();
  };
  try {
    // One at a time: two gateways warming FHE workers at once on two cores only slows both.
    for (let i = 0; i < n; i++) gateways.push(await startGatewayProcess(GATEWAY_ENV));
    if (withProxies) {
      for (const g of gateways) {
        if (!g.httpUrl) throw new Error('a gateway printed no HTTP URL');
        proxies.push(await startProxyProcess({ gateway: g.httpUrl, models: [CHAT_REQUEST.model], simulatedKeys: g.simulatedKeys }));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { stack: { gateways: gateways.map((g) => ({ address: g.address, simulatedKeys: g.simulatedKeys })), proxyUrls: proxies.map((p) => p.url) }, stop };
}

/** One step's length: at least `stepMs`, long enough for `minRequests` at this rate, at most 3 × stepMs. */
export function stepLength(stepMs: number, ratePerSecond: number, minRequests = 50): number {
  return Math.min(3 * stepMs, Math.max(stepMs, Math.ceil((minRequests / ratePerSecond) * 1000)));
}

export async function runLoadHarness(options: LoadHarnessOptions): Promise<LoadHarnessRun> {
  const { stepMs, precision, maxSteps, gatewayCounts = [1, 2], modes = LOAD_MODES.map((m) => m.id), warmup = 20, minStepRequests = 50, log = console.log } = options;
  const chosen = LOAD_MODES.filter((m) => modes.includes(m.id));
  const searches: ModeSearch[] = [];
  const loadStart = os.loadavg().map((x) => round(x));
  // Every topology is up at once and their searches take turns step by step (one TurnLock per mode): load from
  // other jobs on a shared machine drifts over minutes, and this way it falls on 1 and 2 gateways alike.
  const stacks: { n: number; stack: LoadStack; stop(): Promise<void> }[] = [];
  try {
    for (const n of gatewayCounts) stacks.push({ n, ...(await startStack(n, chosen.some((m) => m.id === 'chat-http'))) });
    for (const mode of chosen) {
      const turns = createTurnLock();
      const opened = await Promise.all(stacks.map(async ({ n, stack }) => ({ n, mode: await mode.open(stack) })));
      try {
        const found = await Promise.all(opened.map(async ({ n, mode: arm }) => {
          const times: number[] = [];
          await turns.run(async () => {
            for (let i = 0; i < warmup; i++) {
              const t0 = performance.now();
              await arm.once();
              times.push(performance.now() - t0);
            }
          });
          // The first calls pay for JIT and connection set-up: the second half is the unloaded latency.
          const unloadedP50Ms = round(percentile(times.slice(Math.floor(times.length / 2)), 0.5));
          const startRate = startingRate(unloadedP50Ms, n, mode.wholeRates);
          const tag = `${mode.id} · ${n} gateway${n > 1 ? 's' : ''}`;
          log(`${tag}: unloaded p50 ${unloadedP50Ms} ms, searching from ${startRate}/s (p99 ≤ ${mode.p99BoundMs} ms)`);
          const search = await searchMaxRate({
            startRate, precision, maxSteps, minRate: mode.wholeRates ? 1 : 0.25, wholeRates: mode.wholeRates,
            measure: (rate) => turns.run(async () => {
              const outcome = await arm.step(rate, stepLength(stepMs, rate, minStepRequests));
              log(`  ${tag} ${rate}/s: ${outcome.completed}/${outcome.scheduled} ok, p50 ${outcome.latency.p50} p99 ${outcome.latency.p99} ms, lag ${outcome.maxIssueLagMs} ms${Object.keys(outcome.errors).length ? `, errors ${JSON.stringify(outcome.errors)}` : ''}`);
              return outcome;
            }),
            sustains: (o) => sustains(o, { p99BoundMs: mode.p99BoundMs }),
          });
          log(`  → ${tag}: ${search.maxSustainedRate}/s sustained`);
          return { mode: mode.id, gateways: n, request: mode.request, p99BoundMs: mode.p99BoundMs, unloadedP50Ms, startRate, search };
        }));
        searches.push(...found);
      } finally {
        for (const o of opened) await o.mode.close();
      }
    }
  } finally {
    for (const s of stacks) await s.stop();
  }
  return { options: { stepMs, precision, maxSteps, gatewayCounts, modes, warmup, minStepRequests }, searches, loadAverage: { start: loadStart, end: os.loadavg().map((x) => round(x)) } };
}
