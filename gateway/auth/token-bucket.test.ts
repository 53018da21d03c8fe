import { createTokenBucket } from './token-bucket';

test('a bucket allows its burst at once, then its rate, and never more than its burst after idling', () => {
  let now = 0;
  const bucket = createTokenBucket({ perSecond: 2, burst: 3, now: () => now });
  expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  now += 499;
  expect(bucket.take()).toBe(false); // 0.998 of a token
  now += 1;
  expect(bucket.take()).toBe(true);
  now += 60_000; // idle for a minute: still only `burst` tokens
  expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
});

test('a clock that steps backwards does not drain or overfill the bucket', () => {
  let now = 10_000;
  const bucket = createTokenBucket({ perSecond: 1, burst: 1, now: () => now });
  expect(bucket.take()).toBe(true);
  now = 0;
  expect(bucket.take()).toBe(false);
  now = 1_000;
  expect(bucket.take()).toBe(true);
});
