/**
 * Whether to split the next eligible single-group call (one group, two workers idle) between workers, per plan, from
 * the wall times the pool actually saw. Splitting only pays when the cores are really free: measured on the shared
 * 2-core bench machine, digits-mlp `blocks` went from 126 ms to an 84 ms critical path in one quiet thread, but to
 * 1.4–2.5× *slower* through the pool while other processes kept the load average at 3–5 (the kernel's per-session
 * fair share gives two threads no more CPU than one). So both ways are timed and the faster one is used, with an
 * occasional call the other way so a change of load is noticed.
 */
export type SplitChooser = {
  shouldSplit(planKey: string): boolean;
  /** The wall time of an eligible call evaluated `split` or whole. */
  record(planKey: string, split: boolean, ms: number): void;
};

type Arm = { mean: number; count: number };

/** Calls timed each way before the faster is preferred. */
const WARMUP = 3;
/** One eligible call in EXPLORE_EVERY goes the other way, to keep its estimate current. */
const EXPLORE_EVERY = 16;
/** Weight of the newest time in the moving average (the last ~10 calls dominate). */
const ALPHA = 0.2;

export function createSplitChooser(): SplitChooser {
  const plans = new Map<string, { split: Arm; whole: Arm; decisions: number }>();
  const stateOf = (planKey: string) => {
    let s = plans.get(planKey);
    if (!s) {
      s = { split: { mean: 0, count: 0 }, whole: { mean: 0, count: 0 }, decisions: 0 };
      plans.set(planKey, s);
    }
    return s;
  };
  return {
    shouldSplit(planKey) {
      const s = stateOf(planKey);
      s.decisions++;
      if (s.split.count < WARMUP || s.whole.count < WARMUP) return s.split.count <= s.whole.count;
      const faster = s.split.mean <= s.whole.mean;
      return s.decisions % EXPLORE_EVERY === 0 ? !faster : faster;
    },
    record(planKey, split, ms) {
      const arm = split ? stateOf(planKey).split : stateOf(planKey).whole;
      arm.mean = arm.count === 0 ? ms : arm.mean + ALPHA * (ms - arm.mean);
      arm.count++;
    },
  };
}
