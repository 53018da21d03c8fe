import { foldInputScale, mlpToOnnx, roundMlpToFloat32 } from './mlp-to-onnx';
import { loadDigits } from './load-digits';
import { measureMlp } from './measure-mlp';
import { trainMlp } from './train-mlp';
import type { DatasetSplit } from './dataset';
import type { MlpReport } from './measure-mlp';
import type { Mlp, TrainMlpParameters } from './train-mlp';

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

/** Pixels are 0..16; training sees x/16 ∈ [0, 1] and the factor is folded into fc1 (exact: a power of two). */
const INPUT_SCALE = 1 / 16;

export type DigitsMlpBuild = { bytes: Uint8Array; mlp: Mlp; report: MlpReport };

/**
 * Trains the digits square-activation MLP (64 → 32 → x² → 10) and encodes it as ONNX with ops the FHE compiler accepts
 * (Gemm, Mul). Deterministic: the committed `digits-mlp.onnx` must equal `buildDigitsMlp().bytes` byte for byte.
 *
 * @example
 * const { bytes, report } = buildDigitsMlp();
 */
export function buildDigitsMlp(data: DatasetSplit = loadDigits(), training: Partial<TrainMlpParameters> = {}): DigitsMlpBuild {
  const trained = trainMlp({
    ...DIGITS_MLP_TRAINING,
    hidden: [...DIGITS_MLP_TRAINING.hidden],
    activation: { ...DIGITS_MLP_TRAINING.activation },
    ...training,
    features: data.train.features.map((x) => x.map((v) => v * INPUT_SCALE)),
    labels: data.train.labels,
    classCount: data.train.classNames.length,
  });
  const mlp = roundMlpToFloat32(foldInputScale(trained, INPUT_SCALE));
  const bytes = mlpToOnnx(mlp, {
    graphName: 'digits_mlp',
    docString: 'Handwritten digits (8x8, pixels 0..16) MLP for CKKS: Gemm -> x*x -> Gemm, output logits[batch,10]. '
      + 'Trained by models/train-digits-mlp.ts (AdamW, seeded); input scaling 1/16 folded into fc1.',
  });
  return { bytes, mlp, report: measureMlp(mlp, data) };
}
