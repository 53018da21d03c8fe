import type { FheActivationApproximation, FhePlan } from './fhe-plan';
import { evaluateChebyshev } from './fit-chebyshev';
import { runTracedStages } from './run-traced-stages';
import { traceOnnxBytes } from './trace-onnx-bytes';

/** One activation's approximation measured on concrete rows (exact inputs from the plaintext forward pass). */
export type ActivationCheck = Pick<FheActivationApproximation, 'name' | 'op' | 'observed' | 'fitted' | 'degree' | 'levels'> & {
  /** max / mean |f(u) − p(u)| over every feature of every row. */
  maxError: number;
  meanError: number;
  values: number;
  /**
   * Inputs outside the fitted range: there the polynomial diverges from the activation quickly (T_d grows like
   * cosh(d·arccosh|t|)), so these rows' results are unreliable. Counted here, on the client or at calibration time:
   * a server evaluating ciphertexts cannot see them.
   */
  outsideFitted: number;
  /** Inputs outside the observed (calibrated) range but inside the margin. */
  outsideObserved: number;
};

/**
 * Measures each calibrated activation of `plan` on `rows`: approximation error at the exact activation inputs, and
 * how many inputs fall outside the calibrated and fitted ranges. Plaintext only (for `veil fhe check` and benches).
 */
export function measureApproximations(bytes: Uint8Array, plan: FhePlan, rows: readonly ArrayLike<number>[]): ActivationCheck[] {
  const approximations = plan.approximations ?? [];
  if (approximations.length === 0) return [];
  const { stages } = traceOnnxBytes(bytes);
  const checks = approximations.map((a): ActivationCheck => ({
    name: a.name, op: a.op, observed: a.observed, fitted: a.fitted, degree: a.degree, levels: a.levels,
    maxError: 0, meanError: 0, values: 0, outsideFitted: 0, outsideObserved: 0,
  }));
  const byStage = new Map<number, number>();
  stages.forEach((st, s) => {
    if (st.kind === 'activation') byStage.set(s, approximations.findIndex((a) => a.name === st.name));
  });
  for (const row of rows) {
    runTracedStages(stages, row, (s, input) => {
      const idx = byStage.get(s);
      if (idx === undefined || idx < 0) return;
      const a = approximations[idx]!;
      const c = checks[idx]!;
      const st = stages[s]!;
      if (st.kind !== 'activation') return;
      const [lo, hi] = a.fitted;
      input.forEach((u, i) => {
        const t = (2 * u - lo - hi) / (hi - lo);
        const err = Math.abs(st.f(u, i) - evaluateChebyshev(a.coeffs.map((k) => k[i]!), t));
        c.maxError = Math.max(c.maxError, err);
        c.meanError += err;
        c.values++;
        if (u < lo || u > hi) c.outsideFitted++;
        else if (u < a.observed[0] || u > a.observed[1]) c.outsideObserved++;
      });
    });
  }
  for (const c of checks) c.meanError = c.values > 0 ? c.meanError / c.values : 0;
  return checks;
}
