/**
 * One fixed-rate HTTP step with autocannon: POST the same OpenAI request to each URL (one autocannon instance per
 * proxy, the rate split between them: client-side round robin), then one latency histogram over all of them
 * (autocannon.aggregateResult merges the instances' HdrHistograms).
 *
 * autocannon paces per connection: `overallRate` is split over the connections, each a budget per second that starts
 * when the connection is made, and a connection waits for its answer before its next request. Two consequences,
 * handled here:
 * - arrivals come in bursts (every connection of an instance fires at the top of its second), so each URL's rate is
 *   split over up to 20 instances, and all of them are started evenly over one second: with 20, bursts of rate/20
 *   every 50 ms, close to constant arrival;
 * - it is not an open model: a connection whose answer is late sends its next request late. Each connection gets
 *   one request per second (connections = rate), so a request leaves on time unless the previous one on its
 *   connection took over a second, and queueing beyond that shows up as requests never sent: counted as `unsent`,
 *   they fail the step.
 * Its coordinated-omission correction is off: it takes `1 / rate` (seconds) as the expected interval in
 * milliseconds, i.e. 1 ms, and would add one synthetic sample per millisecond of every response.
 */
import autocannon from 'autocannon';
import type { LoadStepOutcome } from './load-step';

export type AutocannonStepParameters = {
  urls: readonly string[];
  /** Requests/s: whole numbers only (autocannon's budgets are per second), so a fractional rate is rounded down. */
  ratePerSecond: number;
  durationMs: number;
  body: object;
  /** Per-request timeout, s (default 10). */
  timeoutSeconds?: number;
};

// aggregateResult is exported by autocannon (lib/aggregateResult.js) but not in @types/autocannon.
const aggregateResult = (autocannon as unknown as { aggregateResult(results: unknown[], opts: object): autocannon.Result }).aggregateResult;

const MAX_INSTANCES_PER_URL = 20;

/** n split into k integer shares as even as they go (the first ones one larger). */
export function split(n: number, k: number): number[] {
  const whole = Math.floor(n);
  return Array.from({ length: k }, (_, i) => Math.floor(whole / k) + (i < whole % k ? 1 : 0));
}

/**
 * The autocannon instances of a step: each URL's share of the rate split over up to 20 instances, those of every URL
 * interleaved (u0, u1, u0, u1, …) and their starts spread evenly over one second together — staggering each URL's on
 * its own would start every URL's first instance at once, a burst of one request per URL.
 */
export function planInstances(urls: readonly string[], ratePerSecond: number): { url: string; rate: number; startDelayMs: number }[] {
  const perUrl = urls.map((url, u) => {
    const rate = split(ratePerSecond, urls.length)[u]!;
    return split(rate, Math.max(1, Math.min(MAX_INSTANCES_PER_URL, rate))).filter((r) => r > 0).map((r) => ({ url, rate: r }));
  });
  const interleaved = Array.from({ length: Math.max(0, ...perUrl.map((x) => x.length)) }, (_, g) => perUrl.flatMap((x) => (x[g] ? [x[g]] : []))).flat();
  return interleaved.map((x, k) => ({ ...x, startDelayMs: (k * 1000) / interleaved.length }));
}

export async function runAutocannonStep({ urls, ratePerSecond, durationMs, body, timeoutSeconds = 10 }: AutocannonStepParameters): Promise<LoadStepOutcome> {
  const duration = durationMs / 1000;
  const payload = JSON.stringify(body);
  const instances = planInstances(urls, ratePerSecond);
  const runs = await Promise.all(instances.map(async ({ url, rate, startDelayMs }) => {
    await new Promise((resolve) => setTimeout(resolve, startDelayMs));
    return autocannon({
      url, method: 'POST', headers: { 'content-type': 'application/json' }, body: payload,
      connections: rate, overallRate: rate, duration, timeout: timeoutSeconds, sampleInt: 1000,
      ignoreCoordinatedOmission: true, skipAggregateResult: true,
    });
  }));
  const result = aggregateResult(runs, { url: urls[0], connections: runs.reduce((n, r) => n + r.connections, 0) });
  const rate = instances.reduce((n, x) => n + x.rate, 0);
  const scheduled = Math.floor(rate * duration);
  const errors: Record<string, number> = {};
  for (const [status, { count = 0 } = {}] of Object.entries(result.statusCodeStats ?? {})) if (!status.startsWith('2')) errors[`http_${status}`] = count;
  if (result.timeouts > 0) errors.timeout = result.timeouts;
  if (result.errors - result.timeouts > 0) errors.connection = result.errors - result.timeouts;
  const completed = result['2xx'];
  // Requests autocannon never sent (a connection fell behind its budget) count as failures: they are what a queue hid.
  const unsent = scheduled - result.requests.sent;
  if (unsent > 0) errors.unsent = unsent;
  // Sent but neither answered nor failed when the instance stopped: still queued somewhere. autocannon may send a
  // request or so per connection past the schedule (its first goes out at once, then one per tick); those are the
  // last sent, so the unanswered ones are taken to be them first.
  const overshoot = Math.max(0, result.requests.sent - scheduled);
  const unfinished = result.requests.sent - completed - result.non2xx - result.errors - overshoot;
  if (unfinished > 0) errors.unfinished = unfinished;
  const l = result.latency;
  return {
    targetRate: rate, durationMs, scheduled, completed, errors,
    achievedRate: completed / Math.max(duration, result.duration),
    latency: { count: (l as { totalCount?: number }).totalCount ?? completed, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean },
    maxIssueLagMs: NaN,
  };
}
