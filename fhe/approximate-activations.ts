import type { ActivationCalibration, FheCalibration } from './calibrate-activations';
import { chebyshevDepth } from './chebyshev-schedule';
import { FheCompileError } from './errors';
import type { FheActivationApproximation } from './fhe-plan';
import { evaluateChebyshev, fitChebyshev } from './fit-chebyshev';
import type { ActivationStage, LinearStage } from './trace-onnx-model';

/** An activation replaced by Σ coeffs[k][i]·T_k(t_i), t = the preceding dense layer's output mapped onto [-1, 1]. */
export type ChebyshevStage = { kind: 'chebyshev'; name: string; op: string; coeffs: Float64Array[]; size: number };

/** Degrees tried, cheapest first: 2^j uses all of its ⌈log2 d⌉ + 1 levels. */
const DEGREES = [2, 4, 8, 16, 32];
/** Fit grid over the fitted range, and the weight floor spread uniformly over it (so the tails stay bounded). */
const GRID = 512;
const WEIGHT_FLOOR = 0.05;
/** Default accuracy target: max error ≤ 2 % of the activation's output span on the observed range. */
export const DEFAULT_ACTIVATION_TOLERANCE = 0.02;

export type ApproximateActivationsOptions = {
  /** Levels the whole plan may use; the degrees are lowered until it fits. */
  maxDepth: number;
  /** Levels the plan's other stages use. */
  otherDepth: number;
  tolerance?: number;
};

type Candidate = { degree: number; coeffs: Float64Array[]; maxError: number; meanError: number };
type Work = { index: number; stage: ActivationStage; cal: ActivationCalibration; lo: number; hi: number; target: number; candidates: Candidate[]; pick: number };

/**
 * Replaces every activation stage by a calibrated Chebyshev approximation: fitted range = observed range widened by
 * the calibration's margin; weighted least squares on that range (weights = the observed distribution + a 5 % uniform
 * floor); degree = the smallest power of two whose error on the calibration histogram meets the tolerance, lowered
 * (largest first, least error increase) while the plan exceeds `maxDepth`. The map u → t = (2u − lo − hi)/(hi − lo)
 * is folded into the preceding dense layer, so it costs nothing.
 *
 * @throws {FheCompileError} calibration_missing, activation_range_degenerate, depth_exceeded.
 */
export function approximateActivations<S extends { kind: string }>(
  stages: readonly (S | ActivationStage)[],
  calibration: FheCalibration | undefined,
  options: ApproximateActivationsOptions,
): { stages: (S | ChebyshevStage)[]; approximations: FheActivationApproximation[] } {
  const work: Work[] = [];
  stages.forEach((st, index) => {
    if (st.kind !== 'activation') return;
    const stage = st as ActivationStage;
    const fail = (reason: string, code: 'calibration_missing' | 'calibration_malformed' | 'activation_range_degenerate' | 'model_unsupported'): never => {
      throw new FheCompileError(reason, stage.name, stage.op, code);
    };
    if (!calibration) {
      fail('is not a polynomial; it needs a calibrated approximation: give a calibration set (veil fhe check MODEL.onnx --calibrate F.csv) or MODEL.calibration.json beside the model', 'calibration_missing');
    }
    const cal = calibration!.activations.find((a) => a.name === stage.name);
    if (!cal) fail(`the calibration has no entry for this activation (it has: ${calibration!.activations.map((a) => a.name).join(', ') || 'none'})`, 'calibration_missing');
    if (cal!.size !== stage.size) fail(`the calibration measured ${cal!.size} features but the activation has ${stage.size}`, 'calibration_malformed');
    const prev = stages[index - 1];
    if (prev?.kind !== 'linear') fail('a calibrated activation must directly follow a dense layer', 'model_unsupported');
    const { min, max } = cal!;
    if (!(max - min > 1e-6 * Math.max(1, Math.abs(min), Math.abs(max)))) {
      fail(`the calibrated input range [${min}, ${max}] is degenerate (a single point): the calibration set does not exercise this layer`, 'activation_range_degenerate');
    }
    const pad = (max - min) * calibration!.margin;
    const lo = min - pad;
    const hi = max + pad;
    work.push({ index, stage, cal: cal!, lo, hi, target: 0, candidates: fitCandidates(stage, cal!, lo, hi), pick: 0 });
  });

  const tolerance = options.tolerance ?? DEFAULT_ACTIVATION_TOLERANCE;
  for (const w of work) {
    let span = 0;
    const fs: number[] = [];
    for (let b = 0; b < w.cal.histogram.length; b++) if (w.cal.histogram[b]! > 0) fs.push(w.stage.f(binCentre(w.cal, b), 0));
    span = Math.max(...fs) - Math.min(...fs);
    w.target = tolerance * Math.max(span, 1e-9);
    const ok = w.candidates.findIndex((c) => c.maxError <= w.target);
    w.pick = ok === -1 ? w.candidates.length - 1 : ok;
  }
  const depth = () => options.otherDepth + work.reduce((a, w) => a + chebyshevDepth(w.candidates[w.pick]!.degree), 0);
  while (depth() > options.maxDepth) {
    const lowerable = work.filter((w) => w.pick > 0);
    if (lowerable.length === 0) {
      throw new FheCompileError(
        `the model needs multiplicative depth ${depth()} even with degree-2 activation approximations, but the budget is ${options.maxDepth}; ` +
          'use fewer non-polynomial activations or raise the depth budget',
        undefined, undefined, 'depth_exceeded',
      );
    }
    // Lower the activation whose error grows least (relative to its target).
    lowerable.sort((a, b) => a.candidates[a.pick - 1]!.maxError / a.target - b.candidates[b.pick - 1]!.maxError / b.target);
    lowerable[0]!.pick -= 1;
  }

  const out: (S | ChebyshevStage)[] = [...stages] as (S | ChebyshevStage)[];
  const approximations: FheActivationApproximation[] = [];
  for (const w of work) {
    const c = w.candidates[w.pick]!;
    const prev = out[w.index - 1] as unknown as LinearStage;
    const a = 2 / (w.hi - w.lo);
    const b = -(w.lo + w.hi) / (w.hi - w.lo);
    out[w.index - 1] = { ...prev, weights: prev.weights.map((v) => v * a), bias: prev.bias.map((v) => v * a + b) } as unknown as S;
    out[w.index] = { kind: 'chebyshev', name: w.stage.name, op: w.stage.op, coeffs: c.coeffs, size: w.stage.size };
    approximations.push({
      name: w.stage.name, op: w.stage.op, observed: [w.cal.min, w.cal.max], fitted: [w.lo, w.hi], degree: c.degree,
      levels: chebyshevDepth(c.degree), maxError: c.maxError, meanError: c.meanError, target: w.target, coeffs: c.coeffs,
    });
  }
  return { stages: out, approximations };
}

function binCentre(cal: ActivationCalibration, b: number): number {
  return cal.min + ((b + 0.5) / cal.histogram.length) * (cal.max - cal.min);
}

/**
 * Fits every candidate degree. The function is fitted once when it is the same for all features (the usual case:
 * an activation straight on a dense layer's output), else per feature.
 */
function fitCandidates(stage: ActivationStage, cal: ActivationCalibration, lo: number, hi: number): Candidate[] {
  const toU = (t: number) => lo + ((t + 1) / 2) * (hi - lo);
  const probes = [-1, -0.5, -0.1, 0.2, 0.7, 1].map(toU);
  const uniform = Array.from({ length: stage.size }, (_, i) => probes.every((u) => Math.abs(stage.f(u, i) - stage.f(u, 0)) <= 1e-12 * (1 + Math.abs(stage.f(u, 0)))))
    .every(Boolean);
  const total = cal.histogram.reduce((a, b) => a + b, 0);
  const points = new Float64Array(GRID);
  const weights = new Float64Array(GRID);
  for (let g = 0; g < GRID; g++) {
    const t = -1 + (2 * (g + 0.5)) / GRID;
    const u = toU(t);
    points[g] = t;
    const bin = Math.floor(((u - cal.min) / (cal.max - cal.min)) * cal.histogram.length);
    const density = bin >= 0 && bin < cal.histogram.length ? cal.histogram[bin]! / total : 0;
    weights[g] = density * (cal.histogram.length / GRID) * ((hi - lo) / (cal.max - cal.min)) + WEIGHT_FLOOR / GRID;
  }
  const features = uniform ? [0] : Array.from({ length: stage.size }, (_, i) => i);
  return DEGREES.map((degree) => {
    const perFeature = features.map((i) => fitChebyshev({ f: (t) => stage.f(toU(t), i), degree, points, weights }));
    const coeffs = Array.from({ length: degree + 1 }, (_, k) => Float64Array.from({ length: stage.size }, (_, i) => perFeature[uniform ? 0 : i]![k]!));
    let maxError = 0;
    let sum = 0;
    for (let b = 0; b < cal.histogram.length; b++) {
      const count = cal.histogram[b]!;
      if (count === 0) continue;
      const u = binCentre(cal, b);
      const t = (2 * u - lo - hi) / (hi - lo);
      let worst = 0;
      for (const [n, i] of features.entries()) worst = Math.max(worst, Math.abs(stage.f(u, i) - evaluateChebyshev(perFeature[n]!, t)));
      maxError = Math.max(maxError, worst);
      sum += worst * count;
    }
    return { degree, coeffs, maxError, meanError: sum / total };
  });
}
