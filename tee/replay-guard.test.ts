import { ReplayGuard } from './replay-guard';
import { isTeeError } from './tee-error';

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (isTeeError(err)) return err.code;
    throw err;
  }
}

describe('ReplayGuard', () => {
  test('accepts a fresh id once and refuses it again within the window', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    expect(code(() => guard.check('a', now))).toBeUndefined();
    now += 500;
    expect(code(() => guard.check('a', now - 500))).toBe('tee_replay');
  });

  test('error: timestamps outside the window are stale (past and future)', () => {
    const now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    expect(code(() => guard.check('old', now - 1_001))).toBe('tee_stale_request');
    expect(code(() => guard.check('future', now + 1_001))).toBe('tee_stale_request');
    expect(code(() => guard.check('nan', Number.NaN))).toBe('tee_stale_request');
  });

  test('forgets ids once they leave the window (their replays are stale)', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    guard.check('a', now);
    now += 2_000;
    guard.check('b', now);
    expect(guard.size).toBe(1);
    expect(code(() => guard.check('a', now - 2_000))).toBe('tee_stale_request');
  });

  test('bounded memory: evicting raises the floor, so an evicted id still cannot replay', () => {
    const now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 10_000, maxEntries: 2, now: () => now });
    guard.check('a', now - 3);
    guard.check('b', now - 2);
    guard.check('c', now - 1);
    expect(guard.size).toBe(2);
    expect(code(() => guard.check('a', now - 3))).toBe('tee_stale_request');
    expect(code(() => guard.check('d', now))).toBeUndefined();
  });

  test('error: invalid options', () => {
    expect(() => new ReplayGuard({ windowMs: 0 })).toThrow(RangeError);
    expect(() => new ReplayGuard({ maxEntries: 0 })).toThrow(RangeError);
  });
});
