import { writeOnnxModel } from '../onnx';
import { compileOnnx } from './compile-onnx';
import { packInputs } from './pack-inputs';
import { permuteLinearOutputs } from './permute-linear-outputs';
import { simulatePlan } from './simulate-plan';
import { pow2 } from './compile-onnx';
import { seededRandom } from './test-models';
import { traceOnnxBytes } from './trace-onnx-bytes';
import { runTracedStages } from './run-traced-stages';
import { unpackOutputs } from './unpack-outputs';

const rand = seededRandom(5);
const values = (n: number) => Array.from({ length: n }, () => rand() * 0.5);

/** [batch, 1, 8, 8] → Conv 1→8 3×3 stride 2 pad 1 → x² → Flatten → Gemm 128→3, the shape of digits-cnn. */
function stridedCnn(): Uint8Array {
  return writeOnnxModel({
    producerName: 't',
    graph: {
      name: 'g',
      nodes: [
        { name: 'conv', opType: 'Conv', inputs: ['x', 'K', 'B'], outputs: ['c'], attributes: { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [2, 2] } } },
        { name: 'sq', opType: 'Mul', inputs: ['c', 'c'], outputs: ['s'] },
        { name: 'flat', opType: 'Flatten', inputs: ['s'], outputs: ['f'] },
        { name: 'fc', opType: 'Gemm', inputs: ['f', 'W', 'b'], outputs: ['y'], attributes: { transB: { int: 1 } } },
      ],
      initializers: [
        { name: 'K', dims: [8, 1, 3, 3], values: values(72) }, { name: 'B', dims: [8], values: values(8) },
        { name: 'W', dims: [3, 128], values: values(384) }, { name: 'b', dims: [3], values: values(3) },
      ],
      inputs: [{ name: 'x', shape: ['batch', 1, 8, 8] }],
      outputs: [{ name: 'y', shape: ['batch', 3] }],
    },
  });
}

test('a strided convolution\'s outputs are reordered to 16 diagonals (from 64) and the plan still computes the model', () => {
  const bytes = stridedCnn();
  const plan = compileOnnx(bytes);
  const conv = plan.spec.stats.layers[0]!;
  expect([conv.op, conv.plainMultiplies, conv.rotations]).toEqual(['Conv', 16, 6]);
  const { stages } = traceOnnxBytes(bytes);
  const rows = Array.from({ length: 20 }, () => Array.from({ length: 64 }, () => rand()));
  const got = packInputs(plan.spec, rows).flatMap((g, gi) => unpackOutputs(plan.spec, simulatePlan(plan, g), Math.min(plan.spec.batchCapacity, rows.length - gi * plan.spec.batchCapacity)));
  rows.forEach((r, i) => runTracedStages(stages, r).forEach((v, j) => expect(got[i]![j]!).toBeCloseTo(v, 9)));
});

test('dense layers, and the model\'s last layer, keep their order', () => {
  const dense = { kind: 'linear' as const, weights: Float64Array.from(values(64 * 128)), bias: new Float64Array(128), inputSize: 64, outputSize: 128 };
  const last = { kind: 'linear' as const, weights: Float64Array.from(values(10 * 128)), bias: new Float64Array(10), inputSize: 128, outputSize: 10 };
  const stages = [dense, { kind: 'square' as const, shift: new Float64Array(128), size: 128 }, last];
  const out = permuteLinearOutputs(stages, pow2);
  expect(out[0]).toBe(dense);
  expect(out[2]).toBe(last);
});
