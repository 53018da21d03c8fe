import { createTokenBucket, type TokenBucket } from '../auth';

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
 * A token bucket per key (e.g. `callerKey(context)`), each gateway/auth's `createTokenBucket` (one bucket rule for
 * API-key limits and evidence limits). Memory is bounded: beyond `maxKeys` the least recently used key is forgotten,
 * which can only ever give that key back at most `burst` calls.
 * @example const limiter = createRateLimiter({ ratePerSecond: 1, burst: 10 }); if (!limiter.take(key).ok) refuse();
 */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  const { ratePerSecond, burst } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  if (!(ratePerSecond > 0) || !(burst >= 1) || !Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError('createRateLimiter: ratePerSecond must be > 0, burst ≥ 1 and maxKeys a positive integer');
  }
  /** key → bucket, least recently used first. */
  const buckets = new Map<string, TokenBucket>();
  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      let bucket = buckets.get(key);
      if (bucket) buckets.delete(key);
      else {
        while (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
        bucket = createTokenBucket({ perSecond: ratePerSecond, burst, now });
      }
      buckets.set(key, bucket);
      // A refused caller learns when one token will have refilled (an upper bound on the wait).
      return bucket.take() ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(1000 / ratePerSecond) };
    },
  };
}
