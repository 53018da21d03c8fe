import type { LatencySummary } from './latency-histogram';

/** What one fixed-rate step of load measured. */
export type LoadStepOutcome = {
  /** The arrival rate asked for, requests/s. */
  targetRate: number;
  durationMs: number;
  /** Requests due in the step. */
  scheduled: number;
  /** Requests that answered successfully (within the drain time after the step). */
  completed: number;
  /** Failed requests by error code (a request still unanswered after the drain counts as `unfinished`). */
  errors: Record<string, number>;
  /** completed ÷ (the step's duration plus the drain it needed), requests/s. */
  achievedRate: number;
  /** Successful requests' latency, measured from each one's due time. */
  latency: LatencySummary;
  /**
   * How late the generator issued requests (ms after their due time; worst case). Its lag counts in the latencies
   * already; a large value says the generator itself, on the same cores, was saturated.
   */
  maxIssueLagMs: number;
};

/** When a step counts as sustained. */
export type SustainCriteria = {
  /** p99 latency bound, ms. */
  p99BoundMs: number;
  /** Fraction of the scheduled requests that must complete (default 0.99): errors and stragglers fail the step. */
  minCompletedRatio?: number;
};

/** Whether a step's rate is sustained: no more than the allowed failures, and p99 within its bound. */
export function sustains(outcome: LoadStepOutcome, { p99BoundMs, minCompletedRatio = 0.99 }: SustainCriteria): boolean {
  if (outcome.scheduled === 0) return false;
  if (outcome.completed < minCompletedRatio * outcome.scheduled) return false;
  return Number.isFinite(outcome.latency.p99) && outcome.latency.p99 <= p99BoundMs;
}

/** Why a step was not sustained ('' when it was), for the report. */
export function verdict(outcome: LoadStepOutcome, criteria: SustainCriteria): string {
  if (sustains(outcome, criteria)) return 'sustained';
  const failed = outcome.scheduled - outcome.completed;
  const reasons: string[] = [];
  if (outcome.completed < (criteria.minCompletedRatio ?? 0.99) * outcome.scheduled) {
    reasons.push(`${failed}/${outcome.scheduled} failed (${Object.entries(outcome.errors).map(([k, v]) => `${k}:${v}`).join(' ') || 'none'})`);
  }
  if (!(outcome.latency.p99 <= criteria.p99BoundMs)) reasons.push(`p99 ${outcome.latency.p99} ms > ${criteria.p99BoundMs} ms`);
  return reasons.join('; ');
}
