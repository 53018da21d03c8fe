import { createIdempotencyCache } from './create-idempotency-cache';

const answer = (bytes: number) => ({ kind: 'json' as const, body: { ok: true }, bytes });

describe('createIdempotencyCache', () => {
  test('the same key and body finds its entry (slot and answer); another body under the key is a conflict', () => {
    const cache = createIdempotencyCache();
    const entry = cache.entry('k', 'h1');
    if (entry === 'conflict') throw new Error('unexpected');
    entry.slot.sent = 'sealed';
    cache.store(entry, answer(10));
    const again = cache.entry('k', 'h1');
    expect(again).toBe(entry);
    expect(again !== 'conflict' && again.answer).toEqual(answer(10));
    expect(cache.entry('k', 'h2')).toBe('conflict');
  });

  test('entries expire after the TTL (a fresh entry then, with an empty slot), unless a request is still using them', () => {
    let t = 0;
    const cache = createIdempotencyCache({ ttlMs: 1000, now: () => t });
    const first = cache.entry('k', 'h1');
    if (first === 'conflict') throw new Error('unexpected');
    first.running = Promise.resolve();
    t = 5000;
    expect(cache.entry('k', 'h1')).toBe(first);
    first.running = undefined;
    const fresh = cache.entry('k', 'h2');
    expect(fresh).not.toBe('conflict');
    expect(fresh).not.toBe(first);
  });

  test('bounded by count: the least recently used key goes first', () => {
    const cache = createIdempotencyCache({ maxEntries: 2 });
    const a = cache.entry('a', 'h');
    cache.entry('b', 'h');
    expect(cache.entry('a', 'h')).toBe(a); // a is now the most recent
    cache.entry('c', 'h');
    expect(cache.size).toBe(2);
    expect(cache.entry('a', 'h')).toBe(a);
    const b = cache.entry('b', 'h');
    expect(b).not.toBe('conflict');
    expect(b !== 'conflict' && b.slot.sent).toBeUndefined();
  });

  test('bounded by bytes: an answer over a quarter of the budget is not stored; older answers make room, their keys stay', () => {
    const cache = createIdempotencyCache({ maxBytes: 100 });
    const big = cache.entry('big', 'h');
    if (big === 'conflict') throw new Error('unexpected');
    cache.store(big, answer(26));
    expect(big.answer).toBeUndefined();
    const entries = ['a', 'b', 'c', 'd', 'e'].map((k) => cache.entry(k, 'h'));
    for (const e of entries) if (e !== 'conflict') cache.store(e, answer(25));
    expect(cache.bytes).toBe(100);
    expect(cache.entry('e', 'h')).toMatchObject({ answer: answer(25) });
    // The oldest answer made room, but its key (and the sealed request a retry re-sends) is kept.
    expect(cache.entry('a', 'h')).toMatchObject({ answer: undefined });
    expect(cache.size).toBe(6);
  });
});
