import { createArrivalSchedule } from './arrival-schedule';
import { createLatencyHistogram } from './latency-histogram';
import type { LoadStepOutcome } from './load-step';

export type OpenLoopParameters = {
  ratePerSecond: number;
  durationMs: number;
  /** Issues one request; resolves when it succeeded, rejects when it failed. `deadlineMs` is its remaining budget. */
  fire(deadlineMs: number): Promise<unknown>;
  /** How long after the step the loop waits for requests in flight before counting them `unfinished` (default 10 s). */
  drainMs?: number;
  /** The code a failed request counts under (default: its `code` property, else its name). */
  errorCode?(err: unknown): string;
};

const defaultErrorCode = (err: unknown) => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : err instanceof Error ? err.name : 'error';
};

/**
 * Runs one open-model step: issues requests on the arrival schedule whether or not earlier ones answered, and
 * records each success's latency from its due time in an HdrHistogram. Each request's deadline is the end of the
 * step's drain; one still running then counts as `unfinished`, and whatever it does later is not counted.
 */
export async function runOpenLoop({ ratePerSecond, durationMs, fire, drainMs = 10_000, errorCode = defaultErrorCode }: OpenLoopParameters): Promise<LoadStepOutcome> {
  const schedule = createArrivalSchedule({ ratePerSecond, durationMs });
  const histogram = createLatencyHistogram();
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let completed = 0;
  let maxIssueLagMs = 0;
  let lastAnswerAt = 0;
  const start = performance.now();
  let closed = false;
  const fail = (code: string) => void (closed || (errors[code] = (errors[code] ?? 0) + 1));

  const issue = (index: number) => {
    const dueAt = start + schedule.dueAt(index);
    const now = performance.now();
    maxIssueLagMs = Math.max(maxIssueLagMs, now - dueAt);
    const budget = Math.max(1, Math.ceil(start + durationMs + drainMs - now));
    const call: Promise<void> = Promise.resolve()
      .then(() => fire(budget))
      .then(
        () => {
          if (closed) return;
          const at = performance.now();
          histogram.record(at - dueAt);
          lastAnswerAt = Math.max(lastAnswerAt, at);
          completed++;
        },
        (err: unknown) => fail(errorCode(err)),
      )
      .finally(() => inFlight.delete(call));
    inFlight.add(call);
  };

  for (;;) {
    for (const index of schedule.takeDue(performance.now() - start)) issue(index);
    const next = schedule.nextDueAt();
    if (next === undefined) break;
    // setTimeout is ≥ 1 ms and often late; a late wake-up issues everything it missed, each timed from its due time.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + next - performance.now())));
  }
  const drainEnd = start + durationMs + drainMs;
  while (inFlight.size > 0 && performance.now() < drainEnd) {
    let timer: NodeJS.Timeout | undefined;
    const drainOver = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(1, drainEnd - performance.now()))));
    await Promise.race([Promise.race(inFlight), drainOver]);
    clearTimeout(timer);
  }
  closed = true;
  const unfinished = inFlight.size;
  if (unfinished > 0) errors.unfinished = (errors.unfinished ?? 0) + unfinished;
  const elapsedMs = Math.max(durationMs, (lastAnswerAt || performance.now()) - start);
  return {
    targetRate: ratePerSecond, durationMs, scheduled: schedule.total, completed, errors,
    achievedRate: (completed / elapsedMs) * 1000, latency: histogram.summary(), maxIssueLagMs: Math.round(maxIssueLagMs * 100) / 100,
  };
}
