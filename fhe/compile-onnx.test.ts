import { writeOnnxModel } from '../onnx';
import { compileOnnx } from './compile-onnx';
import { FheCompileError } from './errors';
import type { FhePlan } from './fhe-plan';
import { packInputs } from './pack-inputs';
import { simulatePlan } from './simulate-plan';
import { buildMlpModel, randomLayer, referenceMlp, seededRandom } from './test-models';
import type { Activation, DenseLayer } from './test-models';
import { unpackOutputs } from './unpack-outputs';

const rand = seededRandom(7);

/** Plan output for the samples (float32 weights in the ONNX file vs the float64 reference: compare to ~1e-5), via the slot-level simulator (exact arithmetic, same rotations as the evaluator). */
function simulate(plan: FhePlan, samples: number[][], steps?: Set<number>): Float64Array[] {
  return packInputs(plan.spec, samples).flatMap((group, gi) => {
    const count = Math.min(plan.spec.batchCapacity, samples.length - gi * plan.spec.batchCapacity);
    return unpackOutputs(plan.spec, simulatePlan(plan, group, (s) => steps?.add(s)), count);
  });
}

function expectMatches(plan: FhePlan, layers: DenseLayer[], activation: Activation | undefined, count = 40) {
  const n = layers[0]!.weights[0]!.length;
  const samples = Array.from({ length: count }, () => Array.from({ length: n }, () => rand()));
  const used = new Set<number>();
  const got = simulate(plan, samples, used);
  samples.forEach((x, i) => {
    const ref = referenceMlp(layers, activation, x);
    ref.forEach((r, j) => expect(got[i]![j]!).toBeCloseTo(r, 4));
  });
  // galoisSteps is exactly the set of rotations the evaluator performs.
  expect([...used].sort((a, b) => a - b)).toEqual(plan.spec.galoisSteps);
}

function model(nodes: Parameters<typeof writeOnnxModel>[0]['graph']['nodes'], initializers: Parameters<typeof writeOnnxModel>[0]['graph']['initializers'], n = 4, out = 'y', outShape: (number | string)[] = ['batch', 2]) {
  return writeOnnxModel({ producerName: 't', graph: { name: 'g', nodes, initializers, inputs: [{ name: 'x', shape: ['batch', n] }], outputs: [{ name: out, shape: outShape }] } });
}

describe('compileOnnx', () => {
  test('error: Relu without a calibration is refused at load (calibration_missing), naming node, op and the fix', () => {
    const bytes = buildMlpModel([randomLayer(rand, 8, 4), randomLayer(rand, 2, 8)], { activation: 'relu' });
    expect(() => compileOnnx(bytes)).toThrow(FheCompileError);
    try {
      compileOnnx(bytes);
    } catch (err) {
      const e = err as FheCompileError;
      expect(e).toMatchObject({ code: 'calibration_missing', node: 'act0', op: 'Relu' });
      expect(e.message).toMatch(/node "act0" \(Relu\): is not a polynomial; it needs a calibrated approximation: .*--calibrate/);
    }
  });

  test('error: unsupported op, non-final Softmax, products of two tensors, degree > 3, unreadable bytes', () => {
    const W = { name: 'W', dims: [2, 4], values: Array.from({ length: 8 }, () => rand()) };
    expect(() => compileOnnx(model([{ name: 'e', opType: 'Exp', inputs: ['x'], outputs: ['y'] }], [], 4, 'y', ['batch', 4])))
      .toThrow(/node "e" \(Exp\): operator Exp is not supported/);
    expect(() => compileOnnx(model([
      { name: 's', opType: 'Softmax', inputs: ['x'], outputs: ['s'] },
      { name: 'fc', opType: 'Gemm', inputs: ['s', 'W'], outputs: ['y'], attributes: { transB: { int: 1 } } },
    ], [W]))).toThrow(/node "s" \(Softmax\): .*only supported as the final node/);
    expect(() => compileOnnx(model([
      { name: 'fc', opType: 'Gemm', inputs: ['x', 'W'], outputs: ['h'], attributes: { transB: { int: 1 } } },
      { name: 'fc2', opType: 'Gemm', inputs: ['x', 'W'], outputs: ['h2'], attributes: { transB: { int: 1 } } },
      { name: 'm', opType: 'Mul', inputs: ['h', 'h2'], outputs: ['y'] },
    ], [W]))).toThrow(/node "m" \(Mul\): multiplies two different intermediate tensors/);
    expect(() => compileOnnx(model([
      { name: 'a', opType: 'Mul', inputs: ['x', 'x'], outputs: ['a'] },
      { name: 'b', opType: 'Mul', inputs: ['a', 'a'], outputs: ['y'] },
    ], [], 4, 'y', ['batch', 4]))).toThrow(/node "b" \(Mul\): polynomial activation of degree 4 exceeds/);
    expect(() => compileOnnx(new Uint8Array([1, 2, 3]))).toThrow(FheCompileError);
  });

  test('error: a model deeper than N=32768 allows is refused with the depth it needs', () => {
    const layers = Array.from({ length: 16 }, () => randomLayer(rand, 4, 4, 0.3));
    expect(() => compileOnnx(buildMlpModel(layers, { activation: 'square' }))).toThrow(/needs multiplicative depth 31, .* at most depth 2\d/);
  });

  test('parameter selection picks the smallest ring: LR → 4096, 2-layer square MLP → 8192, deeper → 16384', () => {
    expect(compileOnnx(buildMlpModel([randomLayer(rand, 1, 30)])).spec.params.polyModulusDegree).toBe(4096);
    const mlp = compileOnnx(buildMlpModel([randomLayer(rand, 32, 64), randomLayer(rand, 10, 32)], { activation: 'square' }));
    expect(mlp.spec.params).toEqual({ polyModulusDegree: 8192, coeffModulusBits: [49, 39, 39, 39, 52], scaleBits: 39 });
    expect(mlp.spec.stats.depth).toBe(3);
    const deep = compileOnnx(buildMlpModel([randomLayer(rand, 8, 8), randomLayer(rand, 8, 8), randomLayer(rand, 8, 8)], { activation: 'square' }));
    expect(deep.spec.stats.depth).toBe(5);
    expect(deep.spec.params.polyModulusDegree).toBe(16384);
  });

  test('BSGS rotation counts equal the documented minimum; outputs match the plaintext MLP; galoisSteps exact', () => {
    for (const [sizes, activation] of [
      [[64, 32, 10], 'square'],
      [[64, 64, 10], 'square'],
      [[30, 1], undefined],
      [[16, 40, 3], { poly: [0.1, 0.5, 0.25] }],
      [[8, 16, 16, 4], { poly: [0.2, -0.3, 0.1, 0.05] }],
      [[100, 20, 5], 'square'],
    ] as [number[], Activation | undefined][]) {
      const layers = sizes.slice(1).map((m, i) => randomLayer(rand, m, sizes[i]!, 0.5));
      const plan = compileOnnx(buildMlpModel(layers, { activation }));
      expect(plan.spec.stats.rotations).toBe(plan.spec.stats.minRotations);
      for (const l of plan.spec.stats.layers) expect(l.rotations).toBe(l.minRotations);
      expectMatches(plan, layers, activation);
      const expanded = compileOnnx(buildMlpModel(layers, { activation }), { expandInput: true });
      expect(expanded.spec.stats.rotations).toBe(expanded.spec.stats.minRotations);
      expectMatches(expanded, layers, activation, 5);
      const featureMajor = compileOnnx(buildMlpModel(layers, { activation }), { layout: 'feature-major' });
      expect(featureMajor.spec.galoisSteps).toEqual([]);
      expectMatches(featureMajor, layers, activation, 5);
    }
  });

  test('digits-like 64→32→10: 18 rotations (10+1 and 6+1), 48 products, 32 samples per ciphertext', () => {
    const plan = compileOnnx(buildMlpModel([randomLayer(rand, 32, 64), randomLayer(rand, 10, 32)], { activation: 'square' }));
    expect(plan.spec.stats.layers.map((l) => [l.op, l.rotations, l.plainMultiplies, l.levels])).toEqual([
      ['Gemm', 11, 32, 1], ['Square', 0, 0, 1], ['Gemm', 7, 16, 1],
    ]);
    expect(plan.spec.batchCapacity).toBe(32);
    expect(plan.spec.needsRelinKeys).toBe(true);
    // Client-expanded input: the first layer is one product + log2(64) = 6 rotations one level down; 1 sample/ciphertext.
    const expanded = compileOnnx(buildMlpModel([randomLayer(rand, 32, 64), randomLayer(rand, 10, 32)], { activation: 'square' }), { expandInput: true });
    expect(expanded.spec.stats.layers.map((l) => [l.op, l.rotations, l.plainMultiplies])).toEqual([['Gemm', 6, 1], ['Square', 0, 0], ['Gemm', 7, 16]]);
    expect(expanded.spec.batchCapacity).toBe(1);
  });

  test('a·x² + b·x + c before a dense layer folds into (x + β)² (depth 1); degree 3 costs 2 levels', () => {
    const l = [randomLayer(rand, 8, 8), randomLayer(rand, 2, 8)];
    const quad = compileOnnx(buildMlpModel(l, { activation: { poly: [0.5, 0.3, 0.2] } }));
    expect(quad.ops.map((o) => o.kind)).toEqual(['linear', 'square', 'linear']);
    expect(quad.spec.stats.depth).toBe(3);
    const cubic = compileOnnx(buildMlpModel(l, { activation: { poly: [0.5, 0.3, 0.2, 0.1] } }));
    expect(cubic.ops.map((o) => o.kind)).toEqual(['linear', 'poly', 'linear']);
    expect(cubic.spec.stats.depth).toBe(4);
    expect(cubic.spec.stats.ciphertextMultiplies).toBe(2);
  });

  test('supported ops: Gemm alpha/beta/transB=0, MatMul+Add, Sub/Div/Neg by constants, Pow, Flatten/Reshape/Identity, Constant, final Softmax/ArgMax', () => {
    const W = Array.from({ length: 8 }, () => rand()); // [4, 2] (transB = 0)
    const b = [0.3, -0.2];
    const s = [2, 0.5, -1, 4];
    const bytes = model([
      { name: 'id', opType: 'Identity', inputs: ['x'], outputs: ['x1'] },
      { name: 'fl', opType: 'Flatten', inputs: ['x1'], outputs: ['x2'], attributes: { axis: { int: 1 } } },
      { name: 'sub', opType: 'Sub', inputs: ['x2', 'mean'], outputs: ['x3'] },
      { name: 'div', opType: 'Div', inputs: ['x3', 'std'], outputs: ['x4'] },
      { name: 'k', opType: 'Constant', inputs: [], outputs: ['two'], attributes: { value: { tensor: { name: 'two', dims: [], values: [2] } } } },
      { name: 'pow', opType: 'Pow', inputs: ['x4', 'two'], outputs: ['x5'] },
      { name: 'neg', opType: 'Neg', inputs: ['x5'], outputs: ['x6'] },
      { name: 'mm', opType: 'MatMul', inputs: ['x6', 'W'], outputs: ['h'] },
      { name: 'add', opType: 'Add', inputs: ['h', 'b'], outputs: ['h1'] },
      { name: 'rs', opType: 'Reshape', inputs: ['h1', 'shape'], outputs: ['h2'] },
      { name: 'g', opType: 'Gemm', inputs: ['h2', 'W2', 'b'], outputs: ['logits'], attributes: { alpha: { float: 0.5 }, beta: { float: 2 } } },
      { name: 'sm', opType: 'Softmax', inputs: ['logits'], outputs: ['y'], attributes: { axis: { int: -1 } } },
    ], [
      { name: 'mean', dims: [4], values: s.map((v) => v / 10) },
      { name: 'std', dims: [1, 4], values: s },
      { name: 'W', dims: [4, 2], values: W },
      { name: 'b', dims: [2], values: b },
      { name: 'W2', dims: [2, 2], values: [1, 2, 3, 4] },
      { name: 'shape', dims: [2], dataType: 'int64', values: [-1, 2] },
    ]);
    const plan = compileOnnx(bytes);
    expect(plan.spec.postprocess).toBe('softmax');
    const x = [0.4, -0.7, 0.2, 0.9];
    const x6 = x.map((v, i) => -(((v - s[i]! / 10) / s[i]!) ** 2));
    const h = [0, 1].map((j) => x6.reduce((acc, v, i) => acc + v * W[i * 2 + j]!, b[j]!));
    const logits = [0, 1].map((j) => 0.5 * (h[0]! * [1, 2, 3, 4][j]! + h[1]! * [1, 2, 3, 4][2 + j]!) + 2 * b[j]!);
    const got = simulate(plan, [x])[0]!;
    logits.forEach((v, j) => expect(got[j]!).toBeCloseTo(v, 5)); // float32 weights in the file

    const argmax = compileOnnx(buildMlpModel([randomLayer(rand, 3, 4)], { final: 'ArgMax' }));
    expect(argmax.spec.postprocess).toBe('argmax');
  });
});
