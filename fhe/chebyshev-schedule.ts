/**
 * How a degree-d Chebyshev series Σ c_k T_k(t) is evaluated on a ciphertext t at level ℓ0 and scale s0, shared by both
 * evaluators so levels and scales are computed once, exactly as SEAL computes them.
 *
 * T_k for k ≥ 2 comes from the product rule T_{m+n} = 2·T_m·T_n − T_{m−n} with m = 2^(⌈log2 k⌉−1), n = k − m, so
 * T_k sits ⌈log2 k⌉ levels below t: every T_k up to degree d costs one ct×ct product (d − 1 in all) and the series
 * depth ⌈log2 d⌉. The subtracted T_{m−n} is brought to the product's exact scale by a ct×pt product with the
 * constant 1 at a chosen plaintext scale (it is never deeper than the product's inputs, so this costs no extra level);
 * then every T_k meets its coefficient c_k in one last ct×pt product at level ℓ0 + ⌈log2 d⌉, each at the plaintext
 * scale that lands all terms on s0, so they add without any scale fix-up: total depth ⌈log2 d⌉ + 1.
 *
 * This is the "all powers" evaluation (d − 1 non-scalar products) rather than Paterson–Stockmeyer (≈ √(2d) + log d of
 * them): the same optimal depth, which is what sets the CKKS parameters, and at the degrees the compiler picks (≤ 16
 * for the bundled models) the difference is a handful of products.
 */
export type ChebyshevStep = {
  k: number;
  m: number;
  n: number;
  /** m − n: T_j is subtracted (j = 0: the constant 1). */
  j: number;
  /** Level the product's inputs are brought to (the deeper of T_m, T_n). */
  level: number;
  /** Scale of 2·T_m·T_n after the rescale, and of T_k. */
  scale: number;
  /** Plaintext scale of the constant 1 that aligns T_j (j ≥ 1) with `scale`, or the scale of the constant 1 itself (j = 0). */
  alignScale: number;
};

export type ChebyshevSchedule = {
  degree: number;
  /** Level and scale of T_k (index k; T_0 unused). */
  levels: number[];
  scales: number[];
  steps: ChebyshevStep[];
  /** Level at which every T_k is multiplied by its coefficient, and each coefficient's plaintext scale. */
  coeffLevel: number;
  coeffScales: number[];
  outLevel: number;
  outScale: number;
  /** Levels consumed: ⌈log2 d⌉ + 1. */
  depth: number;
};

/** ⌈log2 k⌉ for k ≥ 1. */
export function ceilLog2(k: number): number {
  let d = 0;
  while (2 ** d < k) d++;
  return d;
}

/** Levels a degree-d series consumes (see above). */
export function chebyshevDepth(degree: number): number {
  return ceilLog2(degree) + 1;
}

export function chebyshevSchedule(degree: number, level0: number, scale0: number, prime: (level: number) => number): ChebyshevSchedule {
  if (!Number.isInteger(degree) || degree < 1) throw new Error(`internal: Chebyshev degree ${degree}`);
  const levels = [level0, level0];
  const scales = [scale0, scale0];
  const steps: ChebyshevStep[] = [];
  for (let k = 2; k <= degree; k++) {
    const m = 2 ** (ceilLog2(k) - 1);
    const n = k - m;
    const j = m - n;
    const level = Math.max(levels[m]!, levels[n]!);
    const scale = (scales[m]! * scales[n]!) / prime(level);
    // T_j (at level ≤ `level`) × 1 at scale σ, rescaled by prime(level): s_j·σ/p = scale.
    const alignScale = j === 0 ? scale : (scale * prime(level)) / scales[j]!;
    steps.push({ k, m, n, j, level, scale, alignScale });
    levels[k] = level + 1;
    scales[k] = scale;
  }
  const depth = chebyshevDepth(degree);
  const coeffLevel = level0 + depth - 1;
  const outScale = scale0;
  const p = prime(coeffLevel);
  const coeffScales = scales.map((s) => (outScale * p) / s);
  return { degree, levels, scales, steps, coeffLevel, coeffScales, outLevel: coeffLevel + 1, outScale, depth };
}
