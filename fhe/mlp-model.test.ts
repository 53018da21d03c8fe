import * as ort from 'onnxruntime-node';
import { writeOnnxModel } from '../onnx';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, loadCiphertext, loadEvaluationKeys, loadSeal, logitsModel,
  packInputs, unpackOutputs,
} from './index';
import type { FhePlan } from './index';
import { buildMlpModel, randomLayer, referenceMlp, seededRandom } from './test-models';
import type { Activation } from './test-models';

const rand = seededRandom(11);

/** Client → server → client for all samples; returns per-sample logits. */
async function encryptedRun(plan: FhePlan, samples: number[][]): Promise<Float64Array[]> {
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  const keys = createFheClientKeys(runtime, plan.spec);
  const evalKeys = loadEvaluationKeys(runtime, keys.evaluationKeys(), plan.spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const out: Float64Array[] = [];
  try {
    packInputs(plan.spec, samples).forEach((group, gi) => {
      const cts = group.map((slots) => loadCiphertext(runtime, keys.encrypt(slots)));
      const results = evaluator.evaluate(cts, evalKeys);
      for (const ct of cts) ct.delete();
      expect(results).toHaveLength(plan.spec.outputCiphertexts);
      const bytes = results.map((r) => r.saveArray(runtime.seal.ComprModeType.none));
      for (const r of results) r.delete();
      const count = Math.min(plan.spec.batchCapacity, samples.length - gi * plan.spec.batchCapacity);
      out.push(...unpackOutputs(plan.spec, bytes.map((b) => keys.decrypt(b)), count));
    });
  } finally {
    evaluator.delete();
    evalKeys.delete();
    keys.delete();
    runtime.delete();
  }
  return out;
}

function maxError(got: Float64Array[], want: ArrayLike<number>[]): number {
  let e = 0;
  got.forEach((g, i) => g.forEach((v, j) => (e = Math.max(e, Math.abs(v - want[i]![j]!)))));
  return e;
}

describe('encrypted MLPs match plaintext within 1e-3', () => {
  test('64 → 32 → x² → 10 (digits-like), vs JS reference and onnxruntime', async () => {
    const layers = [randomLayer(rand, 32, 64, 0.1), randomLayer(rand, 10, 32, 0.5)];
    const bytes = buildMlpModel(layers, { activation: 'square', final: 'Softmax' });
    const plan = compileOnnx(bytes);
    expect(plan.spec.params.polyModulusDegree).toBe(8192);
    const samples = Array.from({ length: 40 }, () => Array.from({ length: 64 }, () => (rand() + 1) * 8)); // pixels 0..16
    const got = await encryptedRun(plan, samples);
    expect(maxError(got, samples.map((x) => referenceMlp(layers, 'square', x)))).toBeLessThan(1e-3);

    const session = await ort.InferenceSession.create(logitsModel(bytes));
    const res = await session.run({ x: new ort.Tensor('float32', Float32Array.from(samples.flat()), [samples.length, 64]) });
    const data = Object.values(res)[0]!.data as Float32Array;
    await session.release();
    expect(maxError(got, samples.map((_, i) => data.subarray(i * 10, i * 10 + 10)))).toBeLessThan(1e-3);
  });

  test('client-expanded first layer (expandInput): one sample per ciphertext, no top-level rotation', async () => {
    const layers = [randomLayer(rand, 32, 64, 0.1), randomLayer(rand, 10, 32, 0.5)];
    const plan = compileOnnx(buildMlpModel(layers, { activation: 'square' }), { expandInput: true });
    expect(plan.spec.layout).toMatchObject({ kind: 'replicated-blocks', inputCopies: 32 });
    const samples = Array.from({ length: 2 }, () => Array.from({ length: 64 }, () => (rand() + 1) * 8));
    const got = await encryptedRun(plan, samples);
    expect(maxError(got, samples.map((x) => referenceMlp(layers, 'square', x)))).toBeLessThan(1e-3);
  });

  test.each([
    ['degree-3 polynomial', { poly: [0.1, 0.5, 0.2, 0.05] }, [12, 16, 4]],
    ['degree-2 polynomial (folded to a square)', { poly: [0.3, -0.4, 0.25] }, [20, 24, 3]],
  ] as [string, Activation, number[]][])('%s activation', async (_name, activation, sizes) => {
    const layers = sizes.slice(1).map((m, i) => randomLayer(rand, m, sizes[i]!, 0.4));
    const plan = compileOnnx(buildMlpModel(layers, { activation }));
    const samples = Array.from({ length: 10 }, () => Array.from({ length: sizes[0]! }, () => rand()));
    const got = await encryptedRun(plan, samples);
    expect(maxError(got, samples.map((x) => referenceMlp(layers, activation, x)))).toBeLessThan(1e-3);
  });

  test('unfolded polynomials (degree 1–2 with no dense layer after them) and constants on the input', async () => {
    // y = 0.5·(W·((x − 0.1)·3) + b)² − 0.2·(W·… + b) + 1 : affine input folds into W; the output polynomial stays (2 levels).
    const layer = randomLayer(rand, 6, 8, 0.3);
    const bytes = writeOnnxModel({
      producerName: 't',
      graph: {
        name: 'g',
        nodes: [
          { name: 'sub', opType: 'Sub', inputs: ['x', 'c01'], outputs: ['a'] },
          { name: 'mul', opType: 'Mul', inputs: ['a', 'c3'], outputs: ['b'] },
          { name: 'fc', opType: 'Gemm', inputs: ['b', 'W', 'B'], outputs: ['h'], attributes: { transB: { int: 1 } } },
          { name: 'sq', opType: 'Mul', inputs: ['h', 'h'], outputs: ['h2'] },
          { name: 'k2', opType: 'Mul', inputs: ['h2', 'c05'], outputs: ['t2'] },
          { name: 'k1', opType: 'Mul', inputs: ['h', 'cm02'], outputs: ['t1'] },
          { name: 's1', opType: 'Add', inputs: ['t2', 't1'], outputs: ['s'] },
          { name: 's2', opType: 'Add', inputs: ['s', 'c1'], outputs: ['y'] },
        ],
        initializers: [
          { name: 'c01', dims: [1], values: [0.1] }, { name: 'c3', dims: [1], values: [3] }, { name: 'c05', dims: [1], values: [0.5] },
          { name: 'cm02', dims: [1], values: [-0.2] }, { name: 'c1', dims: [1], values: [1] },
          { name: 'W', dims: [6, 8], values: layer.weights.flat() }, { name: 'B', dims: [6], values: layer.bias },
        ],
        inputs: [{ name: 'x', shape: ['batch', 8] }],
        outputs: [{ name: 'y', shape: ['batch', 6] }],
      },
    });
    const plan = compileOnnx(bytes);
    expect(plan.ops.map((o) => o.kind)).toEqual(['linear', 'poly']);
    const samples = Array.from({ length: 5 }, () => Array.from({ length: 8 }, () => rand()));
    const got = await encryptedRun(plan, samples);
    const want = samples.map((x) => referenceMlp([layer], undefined, x.map((v) => (v - 0.1) * 3)).map((h) => 0.5 * h * h - 0.2 * h + 1));
    expect(maxError(got, want)).toBeLessThan(1e-3);

    // Degree 1 on the raw input (no dense layer at all): one ct×pt product.
    const affine = compileOnnx(writeOnnxModel({
      producerName: 't',
      graph: {
        name: 'g',
        nodes: [{ name: 'mul', opType: 'Mul', inputs: ['x', 'c3'], outputs: ['a'] }, { name: 'add', opType: 'Add', inputs: ['a', 'c01'], outputs: ['y'] }],
        initializers: [{ name: 'c01', dims: [1], values: [0.1] }, { name: 'c3', dims: [1], values: [3] }],
        inputs: [{ name: 'x', shape: ['batch', 8] }],
        outputs: [{ name: 'y', shape: ['batch', 8] }],
      },
    }));
    const got2 = await encryptedRun(affine, samples);
    expect(maxError(got2, samples.map((x) => x.map((v) => 3 * v + 0.1)))).toBeLessThan(1e-3);
  });

  test('feature-major layout: same results, no rotations or Galois keys, N/2 samples per group', async () => {
    const layers = [randomLayer(rand, 32, 64, 0.1), randomLayer(rand, 10, 32, 0.5)];
    const bytes = buildMlpModel(layers, { activation: 'square' });
    const plan = compileOnnx(bytes, { layout: 'feature-major' });
    expect(plan.spec).toMatchObject({ batchCapacity: 4096, inputCiphertexts: 64, outputCiphertexts: 10, galoisSteps: [], needsRelinKeys: true });
    expect(plan.spec.stats).toMatchObject({ rotations: 0, minRotations: 0, plainMultiplies: 64 * 32 + 32 * 10, ciphertextMultiplies: 32 });
    const samples = Array.from({ length: 5 }, () => Array.from({ length: 64 }, () => (rand() + 1) * 8));
    const got = await encryptedRun(plan, samples);
    expect(maxError(got, samples.map((x) => referenceMlp(layers, 'square', x)))).toBeLessThan(1e-3);

    const cubicLayers = [randomLayer(rand, 6, 5, 0.4), randomLayer(rand, 3, 6, 0.4)];
    const cubic: Activation = { poly: [0.1, 0, 0.2, 0.05] }; // a zero coefficient exercises the transparent-product guard
    const cubicPlan = compileOnnx(buildMlpModel(cubicLayers, { activation: cubic }), { layout: 'feature-major' });
    const got3 = await encryptedRun(cubicPlan, samples.map((x) => x.slice(0, 5).map((v) => v / 16)));
    expect(maxError(got3, samples.map((x) => referenceMlp(cubicLayers, cubic, x.slice(0, 5).map((v) => v / 16))))).toBeLessThan(1e-3);
  });
});
