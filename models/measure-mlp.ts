import { argmax } from './run-onnx-model';
import { hiddenPreActivations, predictMlp } from './train-mlp';
import type { DatasetSplit } from './dataset';
import type { Mlp } from './train-mlp';

/** Accuracy and value ranges of an exported MLP on raw features: the numbers the README and the FHE encoder care about. */
export type MlpReport = {
  trainAccuracy: number;
  testAccuracy: number;
  /** Largest |logit| over train ∪ test. */
  maxAbsLogit: number;
  /** Largest |pre-activation| per hidden layer over train ∪ test (the input range the activation must handle). */
  maxAbsPreActivation: number[];
  /** Largest |weight| and |bias| per layer. */
  maxAbsWeight: number[];
  maxAbsBias: number[];
};

/** Evaluates `mlp` (already float32-rounded, on raw features) in float64 arithmetic with float32-rounded inputs. */
export function measureMlp(mlp: Mlp, { train, test }: DatasetSplit): MlpReport {
  const f32 = (x: Float64Array) => x.map(Math.fround);
  const accuracy = (rows: Float64Array[], labels: number[]) =>
    rows.filter((x, i) => argmax(predictMlp(mlp, f32(x))) === labels[i]).length / rows.length;
  const rows = [...train.features, ...test.features].map(f32);
  let maxAbsLogit = 0;
  const maxAbsPreActivation = mlp.layers.slice(0, -1).map(() => 0);
  for (const x of rows) {
    for (const v of predictMlp(mlp, x)) maxAbsLogit = Math.max(maxAbsLogit, Math.abs(v));
    hiddenPreActivations(mlp, x).forEach((z, l) => {
      for (const v of z) maxAbsPreActivation[l] = Math.max(maxAbsPreActivation[l]!, Math.abs(v));
    });
  }
  const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return {
    trainAccuracy: accuracy(train.features, train.labels),
    testAccuracy: accuracy(test.features, test.labels),
    maxAbsLogit,
    maxAbsPreActivation,
    maxAbsWeight: mlp.layers.map((l) => maxAbs(l.weights)),
    maxAbsBias: mlp.layers.map((l) => maxAbs(l.bias)),
  };
}
