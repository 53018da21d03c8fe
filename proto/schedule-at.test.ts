import { MAX_TIMER_DELAY_MS, scheduleAt, type ScheduleTimers } from './schedule-at';

/** A manual clock: timers fire only when `advance` passes their due time. */
function fakeTimers() {
  let now = 0;
  let nextId = 0;
  const pending = new Map<number, { at: number; fn: () => void; ms: number }>();
  const delays: number[] = [];
  const timers: ScheduleTimers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      pending.set(++nextId, { at: now + ms, fn, ms });
      return nextId;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const advance = (ms: number) => {
    const target = now + ms;
    for (;;) {
      const due = [...pending.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = target;
  };
  return { timers, advance, delays, pending };
}

const DAY = 24 * 3600 * 1000;

describe('scheduleAt', () => {
  test('a deadline 30 days away fires after 30 days, in steps no timer overflows', () => {
    const { timers, advance, delays } = fakeTimers();
    let fired = 0;
    scheduleAt(30 * DAY, () => fired++, timers);
    advance(29 * DAY);
    expect(fired).toBe(0);
    advance(DAY);
    expect(fired).toBe(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
  });

  test('with real timers, a 30-day deadline does not fire at once (plain setTimeout would after 1 ms)', async () => {
    let fired = false;
    const call = scheduleAt(Date.now() + 30 * DAY, () => (fired = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(false);
    call.cancel();
  });

  test('past deadlines fire on the next tick; cancel stops it; infinity never arms', () => {
    const { timers, advance, pending } = fakeTimers();
    let fired = 0;
    scheduleAt(-5, () => fired++, timers);
    advance(0);
    expect(fired).toBe(1);
    scheduleAt(10, () => fired++, timers).cancel();
    advance(100);
    expect(fired).toBe(1);
    scheduleAt(Number.POSITIVE_INFINITY, () => fired++, timers);
    expect(pending.size).toBe(0);
  });
});
