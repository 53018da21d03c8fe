import fc from 'fast-check';
import { ReplayGuard } from './replay-guard';
import { isTeeError } from './tee-error';

function code(fn: () => unknown): string | undefined {
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
    expect(code(() => guard.admit('a', now))).toBeUndefined();
    now += 500;
    expect(code(() => guard.admit('a', now - 500))).toBe('tee_replay');
  });

  test('error: timestamps outside the window are stale (past and future)', () => {
    const now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    expect(code(() => guard.admit('old', now - 1_001))).toBe('tee_stale_request');
    expect(code(() => guard.admit('future', now + 1_001))).toBe('tee_stale_request');
    expect(code(() => guard.admit('nan', Number.NaN))).toBe('tee_stale_request');
    expect(guard.size).toBe(0);
  });

  test('forgets ids once they leave the window (their replays are stale)', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    guard.admit('a', now);
    now += 2_000;
    guard.admit('b', now);
    expect(guard.size).toBe(1);
    expect(code(() => guard.admit('a', now - 2_000))).toBe('tee_stale_request');
  });

  test('evicts by lowest timestamp, not insertion order: a future-stamped id does not pin older ones', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, now: () => now });
    guard.admit('future', now + 900);
    guard.admit('past', now - 900);
    now += 200; // 'past' left the window, 'future' has not
    guard.admit('c', now);
    expect(guard.size).toBe(2);
  });

  test('issue #9 attack: a flood stamped now + 59 s never makes an honest request stale', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 60_000, maxEntries: 1_000, maxEntriesPerOwner: 100, now: () => now });
    let refused = 0;
    for (let i = 0; i < 5_000; i++) {
      const c = code(() => guard.admit(`evil-${i}`, now + 59_000, 'attacker-session'));
      if (c === 'overloaded') refused++;
      else expect(c).toBeUndefined();
    }
    expect(refused).toBe(4_900); // one session holds at most its quota
    for (let i = 0; i < 50; i++) {
      now += 1_000;
      expect(code(() => guard.admit(`honest-${i}`, now - 30, `honest-${i % 3}`))).toBeUndefined();
    }
  });

  test('issue #9 attack from many sessions: a full guard refuses as overloaded (retryable), never stale, and recovers by time', () => {
    let now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 60_000, maxEntries: 200, maxEntriesPerOwner: 10, now: () => now });
    for (let i = 0; i < 400; i++) code(() => guard.admit(`evil-${i}`, now + 59_000, `s-${i % 40}`));
    expect(guard.size).toBe(200);
    expect(code(() => guard.admit('honest', now, 'h'))).toBe('overloaded');
    now += 59_000 + 60_001; // the flood's own timestamps leave the window
    expect(code(() => guard.admit('honest', now, 'h'))).toBeUndefined();
    expect(guard.size).toBe(1);
  });

  test('a refused request records nothing; a released ticket frees its place (requests refused before running)', () => {
    const now = 1_000_000;
    const guard = new ReplayGuard({ windowMs: 1_000, maxEntries: 1, now: () => now });
    const ticket = guard.admit('a', now, 's');
    expect(code(() => guard.admit('b', now, 't'))).toBe('overloaded');
    ticket.release();
    ticket.release(); // idempotent
    expect(guard.size).toBe(0);
    expect(code(() => guard.admit('b', now, 't'))).toBeUndefined();
    // A released request never ran, so admitting it later is its first and only run.
    expect(code(() => guard.admit('a', now, 's'))).toBe('overloaded');
  });

  test('property: no id is ever admitted twice while it could be fresh, and a fresh honest id is never refused as stale', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 30 }), skew: fc.integer({ min: -1_500, max: 1_500 }), advance: fc.integer({ min: 0, max: 400 }), release: fc.boolean(), owner: fc.integer({ min: 0, max: 3 }) }), { maxLength: 200 }),
        (steps) => {
          let now = 10_000;
          const guard = new ReplayGuard({ windowMs: 1_000, maxEntries: 8, maxEntriesPerOwner: 4, now: () => now });
          const admittedAt = new Map<string, number>();
          for (const step of steps) {
            now += step.advance;
            const id = `r${step.id}`;
            const ts = now + step.skew;
            let ticket: { release(): void } | undefined;
            const c = code(() => (ticket = guard.admit(id, ts, `o${step.owner}`)));
            if (c === undefined) {
              const before = admittedAt.get(id);
              // Once admitted (and not released), the same id may come back only after its timestamp left the window.
              if (before !== undefined) expect(now - before).toBeGreaterThan(1_000);
              if (step.release) ticket!.release();
              else admittedAt.set(id, ts);
            }
            if (c === 'tee_stale_request') expect(Math.abs(step.skew)).toBeGreaterThan(1_000);
            expect(guard.size).toBeLessThanOrEqual(8);
          }
        },
      ),
      { seed: 9, numRuns: 300 },
    );
  });

  test('error: invalid options', () => {
    expect(() => new ReplayGuard({ windowMs: 0 })).toThrow(RangeError);
    expect(() => new ReplayGuard({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new ReplayGuard({ maxEntriesPerOwner: 0 })).toThrow(RangeError);
  });
});
