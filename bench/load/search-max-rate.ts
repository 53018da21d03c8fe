import type { LoadStepOutcome } from './load-step';

export type RateSearchParameters = {
  /** Runs one step at a rate (requests/s) and says what it measured. */
  measure(ratePerSecond: number): Promise<LoadStepOutcome>;
  /** Whether a step's outcome counts as sustained. */
  sustains(outcome: LoadStepOutcome): boolean;
  /** The first rate tried. */
  startRate: number;
  /** Factor between rates while no step has failed yet (or, downwards, while none has passed). Default 2. */
  growth?: number;
  /** Stop bisecting when the bracket [highest sustained, lowest failed] is narrower than this fraction of its low end. Default 0.1. */
  precision?: number;
  /** At most this many steps in all (default 12): the search reports the best bracket it reached. */
  maxSteps?: number;
  /** Never go below / above these rates (defaults 0.25 and 10,000 requests/s). */
  minRate?: number;
  maxRate?: number;
  /** Whole requests per second only (autocannon's budgets are per second): every rate tried is rounded down. */
  wholeRates?: boolean;
};

export type RateSearchStep = { rate: number; sustained: boolean; outcome: LoadStepOutcome };

export type RateSearchResult = {
  /** The highest rate that was sustained (0 when none was, not even minRate). */
  maxSustainedRate: number;
  /** The lowest rate that failed (undefined when none did up to maxRate). */
  lowestFailedRate?: number;
  /** Every step in the order run. */
  steps: RateSearchStep[];
};

/**
 * The highest arrival rate a system sustains: geometric steps from `startRate` (up while steps pass, down while they
 * fail) until the rate is bracketed between a sustained and a failed one, then bisection of the bracket down to
 * `precision`. Each rate is measured once, in a fresh step; a noisy machine can make a lower rate fail after a higher
 * one passed, so the answer is the highest sustained rate *seen*, with the bracket it came from.
 */
export async function searchMaxRate({
  measure, sustains, startRate, growth = 2, precision = 0.1, maxSteps = 12, minRate = 0.25, maxRate = 10_000, wholeRates = false,
}: RateSearchParameters): Promise<RateSearchResult> {
  if (!(growth > 1)) throw new RangeError(`growth must be > 1, got ${growth}`);
  if (!(startRate > 0)) throw new RangeError(`startRate must be > 0, got ${startRate}`);
  const steps: RateSearchStep[] = [];
  let best = 0;
  let lowestFailed: number | undefined;
  const step = async (rate: number) => {
    const outcome = await measure(rate);
    const ok = sustains(outcome);
    steps.push({ rate, sustained: ok, outcome });
    if (ok) best = Math.max(best, rate);
    else lowestFailed = lowestFailed === undefined ? rate : Math.min(lowestFailed, rate);
    return ok;
  };
  const tidy = wholeRates ? (r: number) => Math.max(1, Math.floor(r)) : roundRate;
  const clamp = (r: number) => tidy(Math.min(maxRate, Math.max(minRate, r)));
  let rate = clamp(startRate);
  // Bracket: up while passing, down while failing.
  if (await step(rate)) {
    while (steps.length < maxSteps && rate < maxRate && lowestFailed === undefined) {
      const next = clamp(rate * growth);
      if (next <= rate) break;
      await step((rate = next));
    }
  } else {
    while (steps.length < maxSteps && rate > minRate && best === 0) {
      const next = clamp(rate / growth);
      if (next >= rate) break;
      await step((rate = next));
    }
  }
  // Bisect between the highest pass and the lowest failure above it.
  for (;;) {
    const hi = lowestFailed;
    if (hi === undefined || best === 0 || steps.length >= maxSteps) break;
    if (hi <= best) break; // noise: a higher rate passed than one that failed; nothing left to bracket
    if ((hi - best) / best <= precision) break;
    const mid = tidy((best + hi) / 2);
    if (mid <= best || mid >= hi) break; // the bracket is as narrow as rounded rates go
    await step(mid);
  }
  return { maxSustainedRate: best, lowestFailedRate: lowestFailed, steps };
}

/** Rates in the report read better rounded: to 2 significant digits below 10, integers above. */
function roundRate(r: number): number {
  return r >= 10 ? Math.round(r) : Number(r.toPrecision(2));
}
