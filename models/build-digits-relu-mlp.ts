import { buildDigitsNetwork, type DigitsNetworkBuild } from './build-digits-network';
import { loadDigits } from './load-digits';
import type { DatasetSplit } from './dataset';
import type { TrainMlpParameters } from './train-mlp';

/** Hyperparameters of the digits ReLU model: two ReLU layers, exact in TEE mode, calibrated approximations in FHE mode. */
export const DIGITS_RELU_MLP_TRAINING = Object.freeze({
  hidden: [128, 64],
  activation: { kind: 'relu' },
  epochs: 30,
  batchSize: 32,
  learningRate: 0.002,
  weightDecay: 0.01,
  seed: 1,
} as const satisfies Omit<TrainMlpParameters, 'features' | 'labels' | 'classCount'>);

export type DigitsReluMlpBuild = DigitsNetworkBuild;

/**
 * Trains the digits ReLU MLP (64 → 128 → Relu → 64 → Relu → 10) and encodes it as ONNX. (Its doc string still says
 * TEE-only: changing it would change the bytes the calibration is bound to.) Deterministic:
 * the committed `digits-relu-mlp.onnx` must equal `buildDigitsReluMlp().bytes` byte for byte.
 *
 * @example
 * const { bytes, report } = buildDigitsReluMlp();
 */
export function buildDigitsReluMlp(data: DatasetSplit = loadDigits(), training: Partial<TrainMlpParameters> = {}): DigitsReluMlpBuild {
  return buildDigitsNetwork(DIGITS_RELU_MLP_TRAINING, {
    graphName: 'digits_relu_mlp',
    docString: 'Handwritten digits (8x8, pixels 0..16) ReLU MLP for TEE mode (not FHE-compilable): Gemm -> Relu -> Gemm -> Relu -> Gemm, '
      + 'output logits[batch,10]. Trained by models/train-digits-relu-mlp.ts (AdamW, seeded); input scaling 1/16 folded into fc1.',
  }, data, training);
}
