/** The longest delay `setTimeout` honours (2^31 − 1 ms ≈ 24.8 days); Node fires a longer one after 1 ms instead. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export type ScheduledCall = { cancel(): void };

export type ScheduleTimers = {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
};

const NODE_TIMERS: ScheduleTimers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Calls `fn` once at the epoch-ms `deadline` — the one way Veil arms a deadline timer. A deadline further away
 * than {@link MAX_TIMER_DELAY_MS} is reached in steps instead of overflowing (which would fire at once and abort a
 * call whose client allowed it weeks); a non-finite deadline never fires. Timers are unref'd: a pending deadline
 * never keeps the process alive.
 * @example const timer = scheduleAt(call.deadline, () => controller.abort()); … timer.cancel();
 */
export function scheduleAt(deadline: number, fn: () => void, timers: ScheduleTimers = NODE_TIMERS): ScheduledCall {
  let handle: unknown;
  let cancelled = false;
  const arm = () => {
    const remaining = deadline - timers.now();
    if (remaining <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = timers.setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS));
  };
  if (Number.isFinite(deadline)) handle = timers.setTimeout(arm, Math.min(Math.max(0, deadline - timers.now()), MAX_TIMER_DELAY_MS));
  return {
    cancel() {
      if (cancelled) return;
      cancelled = true;
      if (handle !== undefined) timers.clearTimeout(handle);
    },
  };
}
