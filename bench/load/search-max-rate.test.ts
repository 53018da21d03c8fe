import type { LoadStepOutcome } from './load-step';
import { sustains, verdict } from './load-step';
import { searchMaxRate } from './search-max-rate';

/** A step outcome of a system that keeps up to `capacity` requests/s and then falls over. */
function fakeStep(capacity: number) {
  return async (rate: number): Promise<LoadStepOutcome> => ({
    targetRate: rate, durationMs: 1000, scheduled: Math.max(1, Math.round(rate)), completed: Math.max(1, Math.round(rate)), errors: {},
    achievedRate: rate, maxIssueLagMs: 0,
    latency: { count: 1, p50: 5, p90: 8, p99: rate <= capacity ? 10 : 1000, max: 20, mean: 6 },
  });
}
const underBound = (o: LoadStepOutcome) => sustains(o, { p99BoundMs: 100 });

describe('searchMaxRate', () => {
  test('doubles until a step fails, then bisects the bracket down to the precision', async () => {
    const r = await searchMaxRate({ measure: fakeStep(37), sustains: underBound, startRate: 5, precision: 0.1 });
    expect(r.steps.slice(0, 5).map((s) => s.rate)).toEqual([5, 10, 20, 40, 30]);
    expect(r.maxSustainedRate).toBeLessThanOrEqual(37);
    expect(r.maxSustainedRate).toBeGreaterThanOrEqual(37 / 1.1);
    expect(r.lowestFailedRate! - r.maxSustainedRate).toBeLessThanOrEqual(0.1 * r.maxSustainedRate + 1);
    expect(r.steps.every((s) => s.sustained === s.rate <= 37)).toBe(true);
  });

  test('halves from a start rate that already fails', async () => {
    const r = await searchMaxRate({ measure: fakeStep(3), sustains: underBound, startRate: 40, precision: 0.1 });
    expect(r.steps.slice(0, 5).map((s) => s.rate)).toEqual([40, 20, 10, 5, 2.5]);
    expect(r.maxSustainedRate).toBeGreaterThanOrEqual(2.5);
    expect(r.maxSustainedRate).toBeLessThanOrEqual(3);
  });

  test('stops at maxSteps and at maxRate; reports 0 when nothing is sustained', async () => {
    const capped = await searchMaxRate({ measure: fakeStep(1e9), sustains: underBound, startRate: 100, maxRate: 300 });
    expect(capped.steps.map((s) => s.rate)).toEqual([100, 200, 300]);
    expect(capped.maxSustainedRate).toBe(300);
    expect(capped.lowestFailedRate).toBeUndefined();
    const nothing = await searchMaxRate({ measure: fakeStep(0), sustains: underBound, startRate: 1, minRate: 0.25 });
    expect(nothing.maxSustainedRate).toBe(0);
    expect(nothing.steps.map((s) => s.rate)).toEqual([1, 0.5, 0.25]);
    const short = await searchMaxRate({ measure: fakeStep(1000), sustains: underBound, startRate: 1, maxSteps: 4 });
    expect(short.steps).toHaveLength(4);
  });

  test('error: growth must exceed 1', async () => {
    await expect(searchMaxRate({ measure: fakeStep(1), sustains: underBound, startRate: 1, growth: 1 })).rejects.toThrow('growth must be > 1, got 1');
  });
});

describe('sustains / verdict', () => {
  const base: LoadStepOutcome = {
    targetRate: 10, durationMs: 1000, scheduled: 100, completed: 100, errors: {}, achievedRate: 10, maxIssueLagMs: 0,
    latency: { count: 100, p50: 5, p90: 8, p99: 40, max: 60, mean: 6 },
  };
  test('a step is sustained only with p99 within its bound and ≥ 99 % completed', () => {
    expect(sustains(base, { p99BoundMs: 40 })).toBe(true);
    expect(verdict(base, { p99BoundMs: 40 })).toBe('sustained');
    expect(sustains(base, { p99BoundMs: 39 })).toBe(false);
    expect(verdict(base, { p99BoundMs: 39 })).toBe('p99 40 ms > 39 ms');
    const failing = { ...base, completed: 98, errors: { overloaded: 2 } };
    expect(sustains(failing, { p99BoundMs: 100 })).toBe(false);
    expect(verdict(failing, { p99BoundMs: 100 })).toBe('2/100 failed (overloaded:2)');
    expect(sustains({ ...base, completed: 0, latency: { ...base.latency, p99: NaN } }, { p99BoundMs: 100 })).toBe(false);
  });
});

describe('searchMaxRate with whole rates', () => {
  test('every rate tried is a whole number, and bisection stops when no whole rate is left between', async () => {
    const r = await searchMaxRate({ measure: fakeStep(4.5), sustains: underBound, startRate: 3, wholeRates: true, minRate: 1, precision: 0.01 });
    expect(r.steps.map((s) => s.rate)).toEqual([3, 6, 4, 5]);
    expect(r.maxSustainedRate).toBe(4);
    expect(r.lowestFailedRate).toBe(5);
  });
});
