export type TokenBucket = {
  /** Takes one token if there is one; false means the caller is over its rate. */
  take(): boolean;
};

/**
 * A token bucket: `burst` tokens at most, refilled continuously at `perSecond`. A caller may send `burst` calls at
 * once and `perSecond` on average. The clock is injected so tests and the gateway agree on time.
 */
export function createTokenBucket(options: { perSecond: number; burst: number; now: () => number }): TokenBucket {
  const { perSecond, burst, now } = options;
  let tokens = burst;
  let last = now();
  return {
    take() {
      const t = now();
      // max(0, …): a clock that steps backwards must not drain the bucket.
      tokens = Math.min(burst, tokens + (Math.max(0, t - last) * perSecond) / 1000);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
