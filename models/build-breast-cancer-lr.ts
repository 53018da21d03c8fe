import { writeOnnxModel } from '../onnx';
import { fitStandardiser, standardise } from './fit-standardiser';
import { loadBreastCancer } from './load-breast-cancer';
import { sigmoid, trainLogisticRegression } from './train-logistic-regression';
import type { DatasetSplit } from './dataset';

/** L2 strength on standardised features: chosen for small logits (CKKS-friendly) at ~1 point of accuracy cost versus λ = 1. */
export const BREAST_CANCER_LR_L2 = 10;

export type BreastCancerLrBuild = {
  /** The ONNX file: Gemm(x[batch,30], W[30,1], b[1]) → logit → Sigmoid → probability[batch,1]. */
  bytes: Uint8Array;
  /** Exported parameters on raw features (standardisation folded in), already rounded to float32. */
  weights: Float32Array;
  bias: number;
  report: BreastCancerLrReport;
};

export type BreastCancerLrReport = {
  l2: number;
  newtonIterations: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Largest |logit| over all 569 rows, with the exported float32 weights. */
  maxAbsLogit: number;
  maxAbsWeight: number;
  /** Largest single |w_j·x_j| and |b| over all rows: the folded bias cancels large per-feature terms, so CKKS needs headroom for these, not just for the logit. */
  maxAbsTerm: number;
  absBias: number;
  /** Largest |w| in standardised coordinates (before folding), i.e. per-σ sensitivity. */
  maxAbsStandardisedWeight: number;
};

/**
 * Trains the breast cancer logistic regression from the bundled data and encodes it as ONNX. Pure and deterministic:
 * the committed `breast-cancer-lr.onnx` must equal `buildBreastCancerLr().bytes` byte for byte.
 *
 * @example
 * const { bytes, report } = buildBreastCancerLr();
 * report.testAccuracy; // ≈ 0.95
 */
export function buildBreastCancerLr(data: DatasetSplit = loadBreastCancer()): BreastCancerLrBuild {
  const { train, test } = data;
  const standardiser = fitStandardiser(train.features);
  const model = trainLogisticRegression({ features: standardise(train.features, standardiser), labels: train.labels, l2: BREAST_CANCER_LR_L2 });

  // Fold the standardisation into the weights so the ONNX model takes raw features:
  // w·(x − μ)/σ + b = (w/σ)·x + (b − Σ w μ/σ).
  const d = model.weights.length;
  const weights = new Float32Array(d);
  let bias = model.bias;
  for (let j = 0; j < d; j++) {
    const w = model.weights[j]! / standardiser.scale[j]!;
    weights[j] = w;
    bias -= w * standardiser.mean[j]!;
  }
  bias = Math.fround(bias);

  const logit = (x: Float64Array): number => {
    let z = bias;
    for (let j = 0; j < d; j++) z += weights[j]! * Math.fround(x[j]!);
    return z;
  };
  const accuracy = (rows: Float64Array[], labels: number[]): number =>
    rows.filter((x, i) => (sigmoid(logit(x)) >= 0.5 ? 1 : 0) === labels[i]).length / rows.length;
  const rows = [...train.features, ...test.features];
  const maxAbsLogit = Math.max(...rows.map((x) => Math.abs(logit(x))));
  const maxAbsTerm = Math.max(...rows.map((x) => Math.max(...Array.from(weights, (w, j) => Math.abs(w * Math.fround(x[j]!))))));

  const bytes = writeOnnxModel({
    producerName: 'veil-models',
    producerVersion: '1',
    docString: 'Breast cancer (Wisconsin diagnostic) logistic regression; input x = the 30 raw features in scikit-learn column order; '
      + 'output probability = P(benign). Trained by models/train-breast-cancer-lr.ts (Newton/IRLS, L2 on standardised features, folded).',
    graph: {
      name: 'breast_cancer_lr',
      nodes: [
        { name: 'linear', opType: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['logit'], attributes: { alpha: { float: 1 }, beta: { float: 1 }, transA: { int: 0 }, transB: { int: 0 } } },
        { name: 'sigmoid', opType: 'Sigmoid', inputs: ['logit'], outputs: ['probability'] },
      ],
      initializers: [
        { name: 'W', dims: [d, 1], values: weights },
        { name: 'b', dims: [1], values: [bias] },
      ],
      inputs: [{ name: 'x', shape: ['batch', d] }],
      outputs: [{ name: 'probability', shape: ['batch', 1] }],
    },
  });

  return {
    bytes,
    weights,
    bias,
    report: {
      l2: BREAST_CANCER_LR_L2,
      newtonIterations: model.iterations,
      trainAccuracy: accuracy(train.features, train.labels),
      testAccuracy: accuracy(test.features, test.labels),
      maxAbsLogit,
      maxAbsWeight: Math.max(...Array.from(weights, Math.abs)),
      maxAbsTerm,
      absBias: Math.abs(bias),
      maxAbsStandardisedWeight: Math.max(...Array.from(model.weights, Math.abs)),
    },
  };
}
