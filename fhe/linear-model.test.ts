import * as ort from 'onnxruntime-node';
import {
  applyPostprocess, compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FheInputError, loadCiphertext,
  loadEvaluationKeys, loadSeal, logitsModel, packInputs, unpackOutputs,
} from './index';
import type { CkksRuntime, FheClientKeys, FhePlan } from './index';
import { buildMlpModel, randomLayer, referenceMlp, seededRandom } from './test-models';

const rand = seededRandom(42);
const layer = randomLayer(rand, 1, 30, 0.5);
const model = buildMlpModel([layer], { final: 'Sigmoid' });

let plan: FhePlan;
let runtime: CkksRuntime;
let keys: FheClientKeys;

beforeAll(async () => {
  plan = compileOnnx(model);
  runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  keys = createFheClientKeys(runtime, plan.spec);
});
afterAll(() => {
  keys.delete();
  runtime.delete();
});

describe('linear model (logistic regression, 30 → 1)', () => {
  test('compiles to one rotate-and-sum layer at N=4096', () => {
    const { spec } = plan;
    expect(spec.params.polyModulusDegree).toBe(4096);
    expect(spec.postprocess).toBe('sigmoid');
    expect((spec.layout as { blockSize: number }).blockSize).toBe(32);
    expect(spec.batchCapacity).toBe(64);
    expect(spec.galoisSteps).toEqual([1, 2, 4, 8, 16]);
    expect(spec.needsRelinKeys).toBe(false);
    expect(spec.stats).toMatchObject({ depth: 1, rotations: 5, minRotations: 5, plainMultiplies: 1, ciphertextMultiplies: 0 });
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(structuredClone(plan).ops).toHaveLength(1);
  });

  test('encrypted logits match the JS reference and onnxruntime within 1e-3 (full and partial groups)', async () => {
    const samples = Array.from({ length: 100 }, () => Array.from({ length: 30 }, () => rand() * 3));
    const evaluator = createPlanEvaluator(runtime, plan);
    const evalKeys = loadEvaluationKeys(runtime, keys.evaluationKeys(), plan.spec);
    const got: Float64Array[] = [];
    const groups = packInputs(plan.spec, samples);
    expect(groups).toHaveLength(2);
    groups.forEach((group, gi) => {
      const ct = loadCiphertext(runtime, keys.encrypt(group[0]!));
      const [out] = evaluator.evaluate([ct], evalKeys);
      const bytes = out!.saveArray(runtime.seal.ComprModeType.none);
      out!.delete();
      ct.delete();
      const count = Math.min(plan.spec.batchCapacity, samples.length - gi * plan.spec.batchCapacity);
      got.push(...unpackOutputs(plan.spec, [keys.decrypt(bytes)], count));
    });
    evalKeys.delete();
    evaluator.delete();

    const session = await ort.InferenceSession.create(logitsModel(model));
    const input = new ort.Tensor('float32', Float32Array.from(samples.flat()), [samples.length, 30]);
    const result = await session.run({ x: input });
    const ortLogits = Object.values(result)[0]!.data as Float32Array;
    await session.release();

    let maxErr = 0;
    samples.forEach((x, i) => {
      const ref = referenceMlp([layer], undefined, x)[0]!;
      maxErr = Math.max(maxErr, Math.abs(got[i]![0]! - ref));
      expect(Math.abs(got[i]![0]! - ortLogits[i]!)).toBeLessThan(1e-3);
    });
    expect(maxErr).toBeLessThan(1e-3);
    const p = applyPostprocess(plan.spec, got[0]!) as Float64Array;
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-got[0]![0]!)), 12);
  });

  test('error: loadCiphertext refuses random bytes, other parameters and a wrong level', async () => {
    const r = seededRandom(9);
    expect(() => loadCiphertext(runtime, Uint8Array.from({ length: 4096 }, () => (r() + 1) * 128))).toThrow(FheInputError);
    expect(() => loadCiphertext(runtime, new Uint8Array(0))).toThrow(/empty/);

    const other = createCkksRuntime(runtime.seal, { polyModulusDegree: 8192, coeffModulusBits: [60, 40, 60], scaleBits: 30 });
    const otherKeys = createFheClientKeys(other, { ...plan.spec, params: other.params });
    const foreign = otherKeys.encrypt(new Float64Array(8));
    otherKeys.delete();
    other.delete();
    expect(() => loadCiphertext(runtime, foreign)).toThrow(expect.objectContaining({ code: 'invalid_ciphertext' }));

    // LR's chain has a single data level, so check the level rule on a two-level context.
    const deep = createCkksRuntime(runtime.seal, { polyModulusDegree: 4096, coeffModulusBits: [39, 30, 40], scaleBits: 30 });
    const deepKeys = createFheClientKeys(deep, { ...plan.spec, params: deep.params });
    const ct = loadCiphertext(deep, deepKeys.encrypt(new Float64Array(8)));
    deep.evaluator.cipherModSwitchToNext(ct, ct);
    const lowered = ct.saveArray(deep.seal.ComprModeType.none);
    ct.delete();
    deepKeys.delete();
    expect(() => loadCiphertext(deep, lowered)).toThrow(/top level/);
    deep.delete();
  });

  test('error: loadEvaluationKeys refuses keys lacking a needed step', () => {
    const fewer = createFheClientKeys(runtime, { ...plan.spec, galoisSteps: [1, 2, 4] });
    const bytes = fewer.evaluationKeys();
    fewer.delete();
    expect(() => loadEvaluationKeys(runtime, bytes, plan.spec)).toThrow(/lack rotation step\(s\) 8, 16/);
    expect(() => loadEvaluationKeys(runtime, {}, plan.spec)).toThrow(expect.objectContaining({ code: 'invalid_keys' }));
    expect(() => loadEvaluationKeys(runtime, { galoisKeys: new Uint8Array(64) }, plan.spec)).toThrow(expect.objectContaining({ code: 'invalid_keys' }));
    // Keys made for other parameters (N=8192) are refused too.
    const other = createCkksRuntime(runtime.seal, { polyModulusDegree: 8192, coeffModulusBits: [60, 40, 60], scaleBits: 30 });
    const otherKeys = createFheClientKeys(other, { ...plan.spec, params: other.params });
    const foreign = otherKeys.evaluationKeys();
    otherKeys.delete();
    other.delete();
    expect(() => loadEvaluationKeys(runtime, foreign, plan.spec)).toThrow(/not SEAL keys for this model's CKKS parameters/);
  });

  test('packInputs / unpackOutputs round trip, including a partial group', () => {
    const spec = plan.spec;
    const samples = Array.from({ length: 70 }, (_, i) => Array.from({ length: 30 }, (_, j) => i * 100 + j));
    const groups = packInputs(spec, samples);
    expect(groups.map((g) => g.length)).toEqual([1, 1]);
    const block = (spec.layout as { blockSize: number }).blockSize;
    // Each block holds the sample's features (period 32, zero-padded).
    expect(Array.from(groups[1]![0]!.slice(5 * block, 5 * block + 32))).toEqual([...samples[69]!, 0, 0]);
    expect(groups[1]![0]!.slice(6 * block).every((v) => v === 0)).toBe(true);
    const outs = unpackOutputs(spec, [groups[1]![0]!], 6);
    expect(outs.map((o) => o[0])).toEqual([64, 65, 66, 67, 68, 69].map((i) => i * 100));
    expect(() => packInputs(spec, [[1, 2, 3]])).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
});
