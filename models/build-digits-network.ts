import { foldInputScale, mlpToOnnx, roundMlpToFloat32 } from './mlp-to-onnx';
import { loadDigits } from './load-digits';
import { measureMlp } from './measure-mlp';
import { trainMlp } from './train-mlp';
import type { DatasetSplit } from './dataset';
import type { MlpReport } from './measure-mlp';
import type { Mlp, TrainMlpParameters } from './train-mlp';

/** Hyperparameters of a bundled digits network (everything `trainMlp` takes except the data). */
export type DigitsTraining = Omit<TrainMlpParameters, 'features' | 'labels' | 'classCount'>;

export type DigitsNetworkBuild = { bytes: Uint8Array; mlp: Mlp; report: MlpReport };

/** Pixels are 0..16; training sees x/16 ∈ [0, 1] and the factor is folded into fc1 (exact: a power of two). */
const INPUT_SCALE = 1 / 16;

/**
 * Trains a digits MLP on the fixed split and encodes it as float32 ONNX taking raw pixels. Deterministic for fixed
 * settings, so each bundled model's builder can be checked byte for byte against its committed file.
 */
export function buildDigitsNetwork(
  settings: DigitsTraining,
  onnx: { graphName: string; docString: string },
  data: DatasetSplit = loadDigits(),
  overrides: Partial<TrainMlpParameters> = {},
): DigitsNetworkBuild {
  const trained = trainMlp({
    ...settings,
    hidden: [...settings.hidden],
    activation: { ...settings.activation },
    ...overrides,
    features: data.train.features.map((x) => x.map((v) => v * INPUT_SCALE)),
    labels: data.train.labels,
    classCount: data.train.classNames.length,
  });
  const mlp = roundMlpToFloat32(foldInputScale(trained, INPUT_SCALE));
  return { bytes: mlpToOnnx(mlp, onnx), mlp, report: measureMlp(mlp, data) };
}
