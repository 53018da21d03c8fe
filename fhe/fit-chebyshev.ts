/** Chebyshev polynomials T_0 … T_degree at t (three-term recurrence; stable on [-1, 1]). */
export function chebyshevBasis(t: number, degree: number): Float64Array {
  const T = new Float64Array(degree + 1);
  T[0] = 1;
  if (degree >= 1) T[1] = t;
  for (let k = 2; k <= degree; k++) T[k] = 2 * t * T[k - 1]! - T[k - 2]!;
  return T;
}

/** Σ c_k T_k(t). */
export function evaluateChebyshev(coeffs: ArrayLike<number>, t: number): number {
  const T = chebyshevBasis(t, coeffs.length - 1);
  let y = 0;
  for (let k = 0; k < coeffs.length; k++) y += coeffs[k]! * T[k]!;
  return y;
}

export type FitChebyshevParameters = {
  /** The function to approximate, of t ∈ [-1, 1] (the caller maps its range onto it). */
  f: (t: number) => number;
  degree: number;
  /** Fit points in [-1, 1] and their (non-negative) weights, e.g. the observed input distribution plus a floor. */
  points: ArrayLike<number>;
  weights: ArrayLike<number>;
};

/**
 * Weighted least-squares fit in the Chebyshev basis: minimises Σ w_j (f(t_j) − Σ c_k T_k(t_j))². Solved through the
 * normal equations with partial pivoting: the Chebyshev basis keeps them well conditioned up to degree ~32 on a dense
 * grid (a numeric fit, nothing cryptographic).
 */
export function fitChebyshev(p: FitChebyshevParameters): Float64Array {
  const n = p.degree + 1;
  const M = Array.from({ length: n }, () => new Float64Array(n + 1));
  for (let j = 0; j < p.points.length; j++) {
    const w = p.weights[j]!;
    if (!(w > 0)) continue;
    const T = chebyshevBasis(p.points[j]!, p.degree);
    const y = p.f(p.points[j]!);
    for (let a = 0; a < n; a++) {
      const wa = w * T[a]!;
      const row = M[a]!;
      for (let b = 0; b < n; b++) row[b]! += wa * T[b]!;
      row[n]! += wa * y;
    }
  }
  for (let i = 0; i < n; i++) {
    let pivot = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(M[r]![i]!) > Math.abs(M[pivot]![i]!)) pivot = r;
    [M[i], M[pivot]] = [M[pivot]!, M[i]!];
    const d = M[i]![i]!;
    if (Math.abs(d) < 1e-300) throw new Error('internal: singular Chebyshev normal equations (too few fit points)');
    for (let r = 0; r < n; r++) {
      if (r === i) continue;
      const factor = M[r]![i]! / d;
      if (factor === 0) continue;
      for (let c = i; c <= n; c++) M[r]![c]! -= factor * M[i]![c]!;
    }
  }
  return Float64Array.from(M, (row, i) => row[n]! / row[i]!);
}
