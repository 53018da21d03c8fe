import { readOnnxModel } from '../onnx';
import { createPrng } from './create-prng';
import { foldInputScale, mlpToOnnx, roundMlpToFloat32 } from './mlp-to-onnx';
import { runOnnxModel } from './run-onnx-model';
import { predictMlp } from './train-mlp';
import type { Mlp, MlpActivation } from './train-mlp';

function randomMlp(sizes: number[], activation: MlpActivation, seed: number): Mlp {
  const prng = createPrng(seed);
  const layers = sizes.slice(1).map((outputs, l) => {
    const inputs = sizes[l]!;
    return {
      inputs,
      outputs,
      weights: Float64Array.from({ length: inputs * outputs }, () => prng.nextSymmetric(0.5)),
      bias: Float64Array.from({ length: outputs }, () => prng.nextSymmetric(0.1)),
    };
  });
  return roundMlpToFloat32({ layers, activation });
}

const rows = Array.from({ length: 5 }, (_, i) => Float64Array.from({ length: 6 }, (_, j) => ((i * 7 + j * 3) % 11) / 5 - 1));

describe('mlpToOnnx', () => {
  test.each<[string, MlpActivation, string[]]>([
    ['pure square', { kind: 'poly2', a: 1, b: 0 }, ['Gemm', 'Mul', 'Gemm']],
    ['a·z² + b·z', { kind: 'poly2', a: 0.125, b: 0.5 }, ['Gemm', 'Mul', 'Mul', 'Mul', 'Add', 'Gemm']],
    ['relu', { kind: 'relu' }, ['Gemm', 'Relu', 'Gemm']],
  ])('%s: onnxruntime agrees with predictMlp', async (_, activation, ops) => {
    const mlp = randomMlp([6, 4, 3], activation, 3);
    const bytes = mlpToOnnx(mlp, { graphName: 'g', docString: '' });
    expect(readOnnxModel(bytes).graph.nodes.map((n) => n.opType)).toEqual(ops);
    const outputs = await runOnnxModel(bytes, 'x', 'logits', rows);
    outputs.forEach((out, i) => {
      const expected = predictMlp(mlp, rows[i]!);
      out.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
    });
  });

  test('foldInputScale: the folded MLP on x equals the original on x·scale', () => {
    const mlp = randomMlp([6, 4, 3], { kind: 'poly2', a: 1, b: 0 }, 4);
    const folded = foldInputScale(mlp, 1 / 16);
    const x = rows[2]!;
    expect(Array.from(predictMlp(folded, x))).toEqual(Array.from(predictMlp(mlp, x.map((v) => v / 16))));
  });
});
