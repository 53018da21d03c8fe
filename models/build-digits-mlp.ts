import { buildDigitsNetwork, type DigitsNetworkBuild } from './build-digits-network';
import { loadDigits } from './load-digits';
import type { DatasetSplit } from './dataset';
import type { TrainMlpParameters } from './train-mlp';

/**
 * Hyperparameters of the FHE digits model. Pure square activation (one CKKS multiplication, no constant to fold);
 * hidden = 32 keeps the BSGS matrix products cheap. The large decoupled weight decay is there for CKKS, not accuracy:
 * it bounds the logits (~25 instead of ~50 with 1e-4) at no measurable cost in test accuracy.
 */
export const DIGITS_MLP_TRAINING = Object.freeze({
  hidden: [32],
  activation: { kind: 'poly2', a: 1, b: 0 },
  epochs: 60,
  batchSize: 32,
  learningRate: 0.005,
  weightDecay: 0.3,
  initGain: 0.5,
  seed: 1,
} as const satisfies Omit<TrainMlpParameters, 'features' | 'labels' | 'classCount'>);

export type DigitsMlpBuild = DigitsNetworkBuild;

/**
 * Trains the digits square-activation MLP (64 → 32 → x² → 10) and encodes it as ONNX with ops the FHE compiler accepts
 * (Gemm, Mul). Deterministic: the committed `digits-mlp.onnx` must equal `buildDigitsMlp().bytes` byte for byte.
 *
 * @example
 * const { bytes, report } = buildDigitsMlp();
 */
export function buildDigitsMlp(data: DatasetSplit = loadDigits(), training: Partial<TrainMlpParameters> = {}): DigitsMlpBuild {
  return buildDigitsNetwork(DIGITS_MLP_TRAINING, {
    graphName: 'digits_mlp',
    docString: 'Handwritten digits (8x8, pixels 0..16) MLP for CKKS: Gemm -> x*x -> Gemm, output logits[batch,10]. '
      + 'Trained by models/train-digits-mlp.ts (AdamW, seeded); input scaling 1/16 folded into fc1.',
  }, data, training);
}
