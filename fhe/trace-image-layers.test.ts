/**
 * Image layers (Conv, AveragePool, GlobalAveragePool, BatchNormalization, reshapes, Transpose, residual Add) lowered
 * to dense maps: the traced float64 forward pass and the compiled plan (slot-level simulation) match onnxruntime on
 * graphs written with every attribute the lowering reads.
 */
import * as ort from 'onnxruntime-node';
import { writeOnnxModel } from '../onnx';
import type { WriteOnnxAttribute, WriteOnnxNode, WriteOnnxTensor } from '../onnx';
import { compileOnnx } from './compile-onnx';
import { FheCompileError } from './errors';
import { packInputs } from './pack-inputs';
import { runTracedStages } from './run-traced-stages';
import { simulatePlan } from './simulate-plan';
import { seededRandom } from './test-models';
import { traceOnnxBytes } from './trace-onnx-bytes';
import { unpackOutputs } from './unpack-outputs';

const rand = seededRandom(31);
const tensor = (name: string, dims: number[], scale = 0.5): WriteOnnxTensor => ({ name, dims, values: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() * scale) });

function model(inputDims: number[], nodes: WriteOnnxNode[], initializers: WriteOnnxTensor[], outDims: number[]): Uint8Array {
  return writeOnnxModel({
    producerName: 't', opsetVersion: 17,
    graph: { name: 'g', nodes, initializers, inputs: [{ name: 'x', shape: ['batch', ...inputDims] }], outputs: [{ name: 'y', shape: ['batch', ...outDims] }] },
  });
}

async function onnxruntime(bytes: Uint8Array, inputDims: number[], rows: number[][]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, ...inputDims]) });
    const data = out.y!.data as Float32Array;
    const size = data.length / rows.length;
    return rows.map((_, i) => data.slice(i * size, (i + 1) * size));
  } finally {
    await session.release();
  }
}

async function expectMatchesOnnxruntime(bytes: Uint8Array, inputDims: number[], tolerance = 1e-4): Promise<void> {
  const width = inputDims.reduce((a, b) => a * b, 1);
  const rows = Array.from({ length: 5 }, () => Array.from({ length: width }, () => rand()));
  const want = await onnxruntime(bytes, inputDims, rows);
  const traced = traceOnnxBytes(bytes);
  rows.forEach((r, i) => {
    const got = runTracedStages(traced.stages, r);
    expect(got.length).toBe(want[i]!.length);
    got.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(tolerance));
  });
  // The packed plan (BSGS diagonals of the lowered matrices) computes the same, with the documented minimum rotations.
  const plan = compileOnnx(bytes);
  expect(plan.spec.stats.rotations).toBe(plan.spec.stats.minRotations);
  const sim = packInputs(plan.spec, rows).flatMap((g, gi) => unpackOutputs(plan.spec, simulatePlan(plan, g), Math.min(plan.spec.batchCapacity, rows.length - gi * plan.spec.batchCapacity)));
  sim.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - want[i]![j]!)).toBeLessThan(tolerance)));
}

describe('image layers lowered to dense maps', () => {
  test.each([
    ['3×3, pad 1', { pads: { ints: [1, 1, 1, 1] } }, [2, 6, 6], [3, 2, 3, 3], [3, 6, 6]],
    ['stride 2, asymmetric pads', { strides: { ints: [2, 2] }, pads: { ints: [0, 1, 1, 0] } }, [1, 7, 7], [2, 1, 3, 3], [2, 4, 3]],
    ['dilation 2, groups 2', { dilations: { ints: [2, 2] }, group: { int: 2 } }, [2, 7, 7], [4, 1, 3, 3], [4, 3, 3]],
    ['SAME_UPPER, 2×3 kernel', { auto_pad: { string: 'SAME_UPPER' }, strides: { ints: [2, 1] } }, [1, 5, 5], [2, 1, 2, 3], [2, 3, 5]],
  ] as [string, Record<string, WriteOnnxAttribute>, number[], number[], number[]][])('Conv %s', async (_label, attributes, inDims, kDims, outDims) => {
    const bytes = model(inDims, [{ name: 'conv', opType: 'Conv', inputs: ['x', 'K', 'B'], outputs: ['y'], attributes }], [tensor('K', kDims), tensor('B', [kDims[0]!])], outDims);
    await expectMatchesOnnxruntime(bytes, inDims);
  });

  test('AveragePool (count_include_pad 0 and 1, stride, pads), GlobalAveragePool, Flatten, Gemm', async () => {
    for (const includePad of [0, 1]) {
      const bytes = model([2, 6, 6], [
        { name: 'pool', opType: 'AveragePool', inputs: ['x'], outputs: ['p'], attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { int: includePad } } },
        { name: 'conv', opType: 'Conv', inputs: ['p', 'K'], outputs: ['c'], attributes: { kernel_shape: { ints: [1, 1] } } },
        { name: 'gap', opType: 'GlobalAveragePool', inputs: ['c'], outputs: ['g'] },
        { name: 'flat', opType: 'Flatten', inputs: ['g'], outputs: ['f'], attributes: { axis: { int: 1 } } },
        { name: 'fc', opType: 'Gemm', inputs: ['f', 'W', 'b'], outputs: ['y'], attributes: { transB: { int: 1 } } },
      ], [tensor('K', [3, 2, 1, 1]), tensor('W', [2, 3]), tensor('b', [2])], [2]);
      await expectMatchesOnnxruntime(bytes, [2, 6, 6]);
    }
  });

  test('[batch, 64] → Reshape/Unsqueeze → Conv → BatchNormalization (folded) → x² → AveragePool → Transpose → Flatten → MatMul', async () => {
    const bytes = model([64], [
      { name: 'rs', opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
      { name: 'un', opType: 'Unsqueeze', inputs: ['r', 'axes'], outputs: ['u'] },
      { name: 'conv', opType: 'Conv', inputs: ['u', 'K'], outputs: ['c'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'bn', opType: 'BatchNormalization', inputs: ['c', 'gamma', 'beta', 'mean', 'var'], outputs: ['n'], attributes: { epsilon: { float: 1e-3 } } },
      { name: 'sq', opType: 'Mul', inputs: ['n', 'n'], outputs: ['s'] },
      { name: 'pool', opType: 'AveragePool', inputs: ['s'], outputs: ['p'], attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
      { name: 'tr', opType: 'Transpose', inputs: ['p'], outputs: ['t'], attributes: { perm: { ints: [0, 2, 3, 1] } } },
      { name: 'flat', opType: 'Flatten', inputs: ['t'], outputs: ['f'] },
      { name: 'mm', opType: 'MatMul', inputs: ['f', 'W'], outputs: ['y'] },
    ], [
      { name: 'shape', dims: [3], dataType: 'int64', values: [-1, 8, 8] },
      { name: 'axes', dims: [1], dataType: 'int64', values: [1] },
      tensor('K', [3, 1, 3, 3]), { name: 'gamma', dims: [3], values: [1.5, 0.5, -1] }, tensor('beta', [3]), tensor('mean', [3]),
      { name: 'var', dims: [3], values: [0.5, 2, 1] }, tensor('W', [48, 4], 0.3),
    ], [4]);
    const traced = traceOnnxBytes(bytes);
    // BN is folded into the Conv's rows, the pool, transpose and MatMul into one dense layer: linear, poly, linear.
    expect(traced.stages.map((s) => s.kind)).toEqual(['linear', 'poly', 'linear']);
    await expectMatchesOnnxruntime(bytes, [64]);
  });

  test('residual: h = Relu-free square branch; y = h + Conv(h) is one dense map of h', async () => {
    const bytes = model([1, 4, 4], [
      { name: 'conv1', opType: 'Conv', inputs: ['x', 'K1', 'B1'], outputs: ['c1'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'sq', opType: 'Mul', inputs: ['c1', 'c1'], outputs: ['h'] },
      { name: 'conv2', opType: 'Conv', inputs: ['h', 'K2'], outputs: ['c2'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'add', opType: 'Add', inputs: ['h', 'c2'], outputs: ['r'] },
      { name: 'gap', opType: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
      { name: 'flat', opType: 'Flatten', inputs: ['g'], outputs: ['y'] },
    ], [tensor('K1', [2, 1, 3, 3]), tensor('B1', [2]), tensor('K2', [2, 2, 3, 3])], [2]);
    await expectMatchesOnnxruntime(bytes, [1, 4, 4]);
  });

  test('error: MaxPool is refused with a message suggesting AveragePool; skip connections across an activation are refused', () => {
    const pool = model([1, 4, 4], [{ name: 'mp', opType: 'MaxPool', inputs: ['x'], outputs: ['y'], attributes: { kernel_shape: { ints: [2, 2] } } }], [], [1, 2, 2]);
    expect(() => compileOnnx(pool)).toThrow(FheCompileError);
    expect(() => compileOnnx(pool)).toThrow(/node "mp" \(MaxPool\): .*use AveragePool/);
    const skip = model([1, 4, 4], [
      { name: 'conv1', opType: 'Conv', inputs: ['x', 'K1'], outputs: ['c1'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'sq', opType: 'Mul', inputs: ['c1', 'c1'], outputs: ['h'] },
      { name: 'conv2', opType: 'Conv', inputs: ['h', 'K1'], outputs: ['c2'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'add', opType: 'Add', inputs: ['c2', 'x'], outputs: ['y'] },
    ], [tensor('K1', [1, 1, 3, 3])], [1, 4, 4]);
    expect(() => compileOnnx(skip)).toThrow(/node "add" \(Add\): .*different layers/);
    const polyBranch = model([1, 4, 4], [
      { name: 'conv1', opType: 'Conv', inputs: ['x', 'K1'], outputs: ['c1'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
      { name: 'sq', opType: 'Mul', inputs: ['c1', 'c1'], outputs: ['h'] },
      { name: 'add', opType: 'Add', inputs: ['h', 'x'], outputs: ['y'] },
    ], [tensor('K1', [1, 1, 3, 3])], [1, 4, 4]);
    expect(() => compileOnnx(polyBranch)).toThrow(/node "add" \(Add\): adds a polynomial branch/);
    const batchMix = model([1, 4, 4], [{ name: 'fl', opType: 'Flatten', inputs: ['x'], outputs: ['y'], attributes: { axis: { int: 2 } } }], [], [4, 4]);
    expect(() => compileOnnx(batchMix)).toThrow(/node "fl" \(Flatten\): .*batch axis/);
  });
});
