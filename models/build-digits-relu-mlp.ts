import { foldInputScale, mlpToOnnx, roundMlpToFloat32 } from './mlp-to-onnx';
import { loadDigits } from './load-digits';
import { measureMlp } from './measure-mlp';
import { trainMlp } from './train-mlp';
import type { DatasetSplit } from './dataset';
import type { MlpReport } from './measure-mlp';
import type { Mlp, TrainMlpParameters } from './train-mlp';

/** Hyperparameters of the TEE digits model: two ReLU layers, which CKKS cannot evaluate exactly (the point of the model). */
export const DIGITS_RELU_MLP_TRAINING = Object.freeze({
  hidden: [128, 64],
  activation: { kind: 'relu' },
  epochs: 30,
  batchSize: 32,
  learningRate: 0.002,
  weightDecay: 0.01,
  seed: 1,
} as const satisfies Omit<TrainMlpParameters, 'features' | 'labels' | 'classCount'>);

const INPUT_SCALE = 1 / 16;

export type DigitsReluMlpBuild = { bytes: Uint8Array; mlp: Mlp; report: MlpReport };

/**
 * Trains the digits ReLU MLP (64 → 128 → Relu → 64 → Relu → 10) for TEE mode and encodes it as ONNX. Deterministic:
 * the committed `digits-relu-mlp.onnx` must equal `buildDigitsReluMlp().bytes` byte for byte.
 *
 * @example
 * const { bytes, report } = buildDigitsReluMlp();
 */
export function buildDigitsReluMlp(data: DatasetSplit = loadDigits(), training: Partial<TrainMlpParameters> = {}): DigitsReluMlpBuild {
  const trained = trainMlp({
    ...DIGITS_RELU_MLP_TRAINING,
    hidden: [...DIGITS_RELU_MLP_TRAINING.hidden],
    activation: { ...DIGITS_RELU_MLP_TRAINING.activation },
    ...training,
    features: data.train.features.map((x) => x.map((v) => v * INPUT_SCALE)),
    labels: data.train.labels,
    classCount: data.train.classNames.length,
  });
  const mlp = roundMlpToFloat32(foldInputScale(trained, INPUT_SCALE));
  const bytes = mlpToOnnx(mlp, {
    graphName: 'digits_relu_mlp',
    docString: 'Handwritten digits (8x8, pixels 0..16) ReLU MLP for TEE mode (not FHE-compilable): Gemm -> Relu -> Gemm -> Relu -> Gemm, '
      + 'output logits[batch,10]. Trained by models/train-digits-relu-mlp.ts (AdamW, seeded); input scaling 1/16 folded into fc1.',
  });
  return { bytes, mlp, report: measureMlp(mlp, data) };
}
