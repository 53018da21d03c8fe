export type CreateRateLimiterOptions = {
  /** Tokens added per second to each key's bucket. */
  ratePerSecond: number;
  /** Bucket size: how many calls a key may make at once after being idle. */
  burst: number;
  /** Most keys tracked; beyond it the least recently used is forgotten (it then starts with a full bucket). Default 100 000. */
  maxKeys?: number;
  /** Injected clock (epoch ms). */
  now?: () => number;
};

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export type RateLimiter = {
  /** Spends one token of `key`'s bucket, or says how long until one is available. */
  take(key: string): RateDecision;
  readonly size: number;
};

/**
 * A token bucket per key (e.g. `callerKey(context)`). Memory is bounded: a bucket that has refilled is equivalent to
 * no bucket and is dropped first; when `maxKeys` are still tracked, the least recently used one is forgotten, which
 * can only ever give that key back at most `burst` calls.
 * @example const limiter = createRateLimiter({ ratePerSecond: 1, burst: 10 }); if (!limiter.take(key).ok) refuse();
 */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  const { ratePerSecond, burst } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  if (!(ratePerSecond > 0) || !(burst >= 1) || !Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError('createRateLimiter: ratePerSecond must be > 0, burst ≥ 1 and maxKeys a positive integer');
  }
  const fullAfterMs = (burst / ratePerSecond) * 1000;
  /** key → bucket, least recently used first. */
  const buckets = new Map<string, { tokens: number; at: number }>();

  const level = (bucket: { tokens: number; at: number }, t: number) => Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond);

  const makeRoom = (t: number) => {
    for (const [key, bucket] of buckets) {
      if (buckets.size < maxKeys) return;
      if (t - bucket.at >= fullAfterMs) buckets.delete(key);
    }
    while (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
  };

  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      const t = now();
      const existing = buckets.get(key);
      if (existing) buckets.delete(key);
      else makeRoom(t);
      const bucket = { tokens: existing ? level(existing, t) : burst, at: t };
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / ratePerSecond) * 1000) };
    },
  };
}
