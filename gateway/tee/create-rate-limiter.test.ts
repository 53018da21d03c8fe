import { createRateLimiter } from './create-rate-limiter';

describe('createRateLimiter', () => {
  test('a key gets `burst` calls at once, then one per 1/rate seconds on the injected clock', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    t += 499;
    expect(limiter.take('a').ok).toBe(false);
    t += 1;
    expect(limiter.take('a').ok).toBe(true);
    // Other keys are independent.
    expect(limiter.take('b').ok).toBe(true);
  });

  test('memory is bounded: the least recently used key is forgotten first', () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 3, now: () => t });
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    t += 500;
    limiter.take('a'); // refused, but now the most recently used
    limiter.take('d'); // evicts 'b'
    expect(limiter.size).toBe(3);
    expect(limiter.take('a').ok).toBe(false); // still tracked, still empty
    expect(limiter.take('b').ok).toBe(true); // forgotten: a fresh bucket
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(3);
  });

  test('error: invalid options', () => {
    expect(() => createRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
