export type TrainLogisticRegressionParameters = {
  features: Float64Array[];
  /** 0 or 1 per row. */
  labels: number[];
  /** L2 penalty λ in Σ logloss + λ/2·‖w‖² (the bias is not penalised). */
  l2: number;
  /** Newton steps at most; training stops earlier once the step is below `tolerance`. */
  maxIterations?: number;
  tolerance?: number;
};

export type LogisticRegression = { weights: Float64Array; bias: number; iterations: number };

/**
 * Binary logistic regression by Newton's method (IRLS) with an L2 penalty. No randomness: the result is a pure
 * function of the inputs, which the byte-for-byte rebuild test relies on. Newton rather than gradient descent
 * because the problem is tiny (d ≈ 30) and it converges to the exact optimum in ~10 steps, so the committed
 * weights do not depend on a learning-rate schedule.
 *
 * @example
 * const model = trainLogisticRegression({ features, labels, l2: 1 });
 */
export function trainLogisticRegression(params: TrainLogisticRegressionParameters): LogisticRegression {
  const { features, labels, l2 } = params;
  const maxIterations = params.maxIterations ?? 100;
  const tolerance = params.tolerance ?? 1e-10;
  const n = features.length;
  const d = features[0]?.length ?? 0;
  if (n === 0 || labels.length !== n) throw new RangeError(`need one 0/1 label per row: ${n} rows, ${labels.length} labels`);
  // θ = [w_0..w_{d-1}, b]; every row is augmented with a constant 1 for the bias.
  const p = d + 1;
  const theta = new Float64Array(p);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      const x = features[i]!;
      let z = theta[d]!;
      for (let j = 0; j < d; j++) z += theta[j]! * x[j]!;
      const prob = sigmoid(z);
      const r = prob - labels[i]!;
      const s = prob * (1 - prob);
      for (let j = 0; j < p; j++) {
        const xj = j < d ? x[j]! : 1;
        grad[j]! += r * xj;
        for (let k = 0; k <= j; k++) hess[j * p + k]! += s * xj * (k < d ? x[k]! : 1);
      }
    }
    for (let j = 0; j < d; j++) {
      grad[j]! += l2 * theta[j]!;
      hess[j * p + j]! += l2;
    }
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) hess[k * p + j] = hess[j * p + k]!;
    const step = solveSymmetricPositiveDefinite(hess, grad, p);
    let norm = 0;
    for (let j = 0; j < p; j++) {
      theta[j]! -= step[j]!;
      norm = Math.max(norm, Math.abs(step[j]!));
    }
    if (norm < tolerance) { iterations++; break; }
  }
  return { weights: theta.slice(0, d), bias: theta[d]!, iterations };
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Solves A·x = b for symmetric positive definite A (row-major p×p) by Cholesky factorisation. */
function solveSymmetricPositiveDefinite(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let diag = a[j * p + j]!;
    for (let k = 0; k < j; k++) diag -= l[j * p + k]! ** 2;
    // The unpenalised bias makes the Hessian only semi-definite when every prediction saturates; a tiny ridge keeps it solvable.
    const ljj = Math.sqrt(Math.max(diag, 1e-12));
    l[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let v = a[i * p + j]!;
      for (let k = 0; k < j; k++) v -= l[i * p + k]! * l[j * p + k]!;
      l[i * p + j] = v / ljj;
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let v = b[i]!;
    for (let k = 0; k < i; k++) v -= l[i * p + k]! * y[k]!;
    y[i] = v / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let v = y[i]!;
    for (let k = i + 1; k < p; k++) v -= l[k * p + i]! * x[k]!;
    x[i] = v / l[i * p + i]!;
  }
  return x;
}
