import { createIdempotencyStore, type IdempotencyClaim, type StoredAnswer } from './idempotency-store';

const answer = (text: string, status = 200): StoredAnswer => ({ status, headers: { 'content-type': 'x' }, body: Buffer.from(text) });
const settle = (claim: IdempotencyClaim, a: StoredAnswer, keep = true) => {
  if (claim.state !== 'new') throw new Error(`expected a new claim, got ${claim.state}`);
  claim.settle(a, keep);
};

test('same key and fingerprint: the stored answer; another fingerprint: idempotency_key_reused; other owners never meet', () => {
  const store = createIdempotencyStore({ ttlMs: 1000, maxEntries: 10, maxBytes: 10_000 });
  settle(store.claim('key:a', 'k1', 'f1'), answer('one'));
  expect(store.claim('key:a', 'k1', 'f1')).toEqual({ state: 'stored', answer: answer('one') });
  expect(() => store.claim('key:a', 'k1', 'f2')).toThrow(expect.objectContaining({ code: 'idempotency_key_reused', param: 'Idempotency-Key' }));
  expect(store.claim('key:b', 'k1', 'f2').state).toBe('new');
});

test('a concurrent duplicate joins the first and gets its answer; a conflicting one is refused while it runs', async () => {
  const store = createIdempotencyStore({ ttlMs: 1000, maxEntries: 10, maxBytes: 10_000 });
  const first = store.claim('o', 'k', 'f');
  const second = store.claim('o', 'k', 'f');
  expect(second.state).toBe('pending');
  expect(() => store.claim('o', 'k', 'other')).toThrow(expect.objectContaining({ code: 'idempotency_key_reused' }));
  settle(first, answer('done'));
  await expect((second as Extract<IdempotencyClaim, { state: 'pending' }>).answer).resolves.toEqual({ answer: answer('done'), kept: true });
});

test('an answer settled with keep=false reaches the waiters, then is forgotten: the retry runs', async () => {
  const store = createIdempotencyStore({ ttlMs: 1000, maxEntries: 10, maxBytes: 10_000 });
  const first = store.claim('o', 'k', 'f');
  const waiter = store.claim('o', 'k', 'f') as Extract<IdempotencyClaim, { state: 'pending' }>;
  settle(first, answer('{"error":{}}', 503), false);
  await expect(waiter.answer).resolves.toEqual({ answer: answer('{"error":{}}', 503), kept: false });
  expect(store.claim('o', 'k', 'f').state).toBe('new');
});

test('answers expire after the TTL', () => {
  let t = 0;
  const store = createIdempotencyStore({ ttlMs: 1000, maxEntries: 10, maxBytes: 10_000, now: () => t });
  settle(store.claim('o', 'k', 'f'), answer('x'));
  t = 999;
  expect(store.claim('o', 'k', 'f').state).toBe('stored');
  t = 1000;
  expect(store.claim('o', 'k', 'f').state).toBe('new');
});

test('bounded by entries and bytes: the oldest answers go first; an answer larger than the budget is not stored', () => {
  const store = createIdempotencyStore({ ttlMs: 60_000, maxEntries: 3, maxBytes: 100 });
  for (const k of ['a', 'b', 'c', 'd']) settle(store.claim('o', k, 'f'), answer(k));
  expect(store.size).toBe(3);
  expect(store.claim('o', 'a', 'f').state).toBe('new'); // dropped for d (and now in progress)
  expect(store.claim('o', 'd', 'f').state).toBe('stored');
  const big = store.claim('o', 'big', 'f');
  settle(big, answer('x'.repeat(200)));
  expect(store.claim('o', 'big', 'f').state).toBe('new');
  expect(store.bytes).toBeLessThanOrEqual(100);
  const many = createIdempotencyStore({ ttlMs: 60_000, maxEntries: 100, maxBytes: 60 });
  for (const k of ['a', 'b', 'c']) settle(many.claim('o', k, 'f'), answer('x'.repeat(20)));
  expect(many.claim('o', 'a', 'f').state).toBe('new'); // 3 × (20 + 13 header bytes) > 60: the oldest went
  expect(many.claim('o', 'c', 'f').state).toBe('stored');
});

test('error: when every slot holds a request still running, a new key is refused as overloaded (nothing is dropped)', () => {
  const store = createIdempotencyStore({ ttlMs: 60_000, maxEntries: 2, maxBytes: 1000 });
  store.claim('o', 'a', 'f');
  store.claim('o', 'b', 'f');
  expect(() => store.claim('o', 'c', 'f')).toThrow(expect.objectContaining({ code: 'overloaded' }));
  expect(store.claim('o', 'a', 'f').state).toBe('pending');
});
