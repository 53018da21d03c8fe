/** A seeded pseudo-random source; every draw is a pure function of the seed and the number of earlier draws. */
export type Prng = {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, n). */
  nextInt(n: number): number;
  /** Uniform float in [-limit, limit). */
  nextSymmetric(limit: number): number;
};

/**
 * mulberry32: integer-only arithmetic, so the sequence is bit-identical on every JavaScript engine and platform.
 * Splits, weight initialisation and shuffles all draw from it, which is what makes the committed models rebuildable.
 *
 * @example
 * const prng = createPrng(42);
 * prng.nextInt(10); // same value on every run
 */
export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new RangeError(`PRNG seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    nextInt: (n) => Math.floor(next() * n),
    nextSymmetric: (limit) => (2 * next() - 1) * limit,
  };
}

/** Fisher–Yates shuffle in place, drawing from `prng`. */
export function shuffleInPlace<T>(items: T[], prng: Prng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
