/**
 * Non-polynomial hidden activations compile to calibrated Chebyshev approximations: every supported op (and the
 * exporter forms GELU-by-Erf and SiLU = x·Sigmoid(x)) tracks onnxruntime; encrypted evaluation (both layouts) matches
 * the plan simulator; bad calibrations and budgets fail with their own FheCompileError codes.
 */
import * as ort from 'onnxruntime-node';
import { writeOnnxModel } from '../onnx';
import type { WriteOnnxNode, WriteOnnxTensor } from '../onnx';
import { calibrateActivations } from './calibrate-activations';
import { chebyshevDepth } from './chebyshev-schedule';
import { selectCkksParameters } from './ckks-parameters';
import { compileOnnx } from './compile-onnx';
import { FheCompileError } from './errors';
import type { FhePlan } from './fhe-plan';
import { packInputs } from './pack-inputs';
import { parseCalibration } from './parse-calibration';
import { seededRandom } from './test-models';
import { encryptedLogits } from './test-support/encrypted-logits';
import { simulatePlan } from './simulate-plan';
import { unpackOutputs } from './unpack-outputs';

const rand = seededRandom(7);
const IN = 6;
const HIDDEN = 8;
const OUT = 3;
const W0: WriteOnnxTensor = { name: 'W0', dims: [HIDDEN, IN], values: Array.from({ length: HIDDEN * IN }, () => rand()) };
const B0: WriteOnnxTensor = { name: 'b0', dims: [HIDDEN], values: Array.from({ length: HIDDEN }, () => rand() * 0.5) };
const W1: WriteOnnxTensor = { name: 'W1', dims: [OUT, HIDDEN], values: Array.from({ length: OUT * HIDDEN }, () => rand()) };
const B1: WriteOnnxTensor = { name: 'b1', dims: [OUT], values: Array.from({ length: OUT }, () => rand() * 0.5) };
const scalar = (name: string, v: number): WriteOnnxTensor => ({ name, dims: [], values: [v] });

/** Gemm → (activation nodes reading h, writing a) → Gemm, as exporters write it. */
function mlp(activation: WriteOnnxNode[], extra: WriteOnnxTensor[] = [], opsetVersion = 17): Uint8Array {
  return writeOnnxModel({
    producerName: 'test',
    opsetVersion,
    graph: {
      name: 'g',
      nodes: [
        { name: 'fc0', opType: 'Gemm', inputs: ['x', 'W0', 'b0'], outputs: ['h'], attributes: { transB: { int: 1 } } },
        ...activation,
        { name: 'fc1', opType: 'Gemm', inputs: ['a', 'W1', 'b1'], outputs: ['y'], attributes: { transB: { int: 1 } } },
      ],
      initializers: [W0, B0, W1, B1, ...extra],
      inputs: [{ name: 'x', shape: ['batch', IN] }],
      outputs: [{ name: 'y', shape: ['batch', OUT] }],
    },
  });
}

const one = (opType: string, attributes?: WriteOnnxNode['attributes']): WriteOnnxNode[] => [{ name: 'act', opType, inputs: ['h'], outputs: ['a'], attributes }];
const CASES: [string, Uint8Array][] = [
  ['Relu', mlp(one('Relu'))],
  ['LeakyRelu', mlp(one('LeakyRelu', { alpha: { float: 0.1 } }))],
  ['Sigmoid (hidden)', mlp(one('Sigmoid'))],
  ['Tanh', mlp(one('Tanh'))],
  ['Softplus', mlp(one('Softplus'))],
  ['Gelu (opset 20)', mlp(one('Gelu'), [], 20)],
  ['Gelu as exported: 0.5·x·(1 + Erf(x/√2))', mlp([
    { name: 'div', opType: 'Div', inputs: ['h', 'sqrt2'], outputs: ['d'] },
    { name: 'erf', opType: 'Erf', inputs: ['d'], outputs: ['e'] },
    { name: 'add', opType: 'Add', inputs: ['e', 'one'], outputs: ['p'] },
    { name: 'mul', opType: 'Mul', inputs: ['h', 'p'], outputs: ['q'] },
    { name: 'act', opType: 'Mul', inputs: ['q', 'half'], outputs: ['a'] },
  ], [scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)])],
  ['SiLU as exported: x·Sigmoid(x)', mlp([
    { name: 'sig', opType: 'Sigmoid', inputs: ['h'], outputs: ['s'] },
    { name: 'act', opType: 'Mul', inputs: ['h', 's'], outputs: ['a'] },
  ])],
];

const rows = (n: number, seed: number) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: IN }, () => r() * 2));
};

async function onnxruntime(bytes: Uint8Array, xs: number[][]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(xs.flat()), [xs.length, IN]) });
    const data = out.y!.data as Float32Array;
    return xs.map((_, i) => data.slice(i * OUT, (i + 1) * OUT));
  } finally {
    await session.release();
  }
}

function simulated(plan: FhePlan, xs: number[][]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const [g, group] of packInputs(plan.spec, xs).entries()) {
    out.push(...unpackOutputs(plan.spec, simulatePlan(plan, group), Math.min(plan.spec.batchCapacity, xs.length - g * plan.spec.batchCapacity)));
  }
  return out;
}

const argmax = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)));

describe.each(CASES)('%s', (_label, bytes) => {
  test('calibrates, compiles to a Chebyshev approximation and tracks onnxruntime on held-out rows', async () => {
    const calibration = calibrateActivations(bytes, rows(400, 1));
    expect(calibration.activations).toHaveLength(1);
    const plan = compileOnnx(bytes, { calibration });
    const [approx] = plan.approximations!;
    expect(approx!.fitted[0]).toBeLessThan(approx!.observed[0]);
    expect(approx!.fitted[1]).toBeGreaterThan(approx!.observed[1]);
    expect(plan.spec.stats.layers.find((l) => l.op.startsWith('Cheb'))!.levels).toBe(chebyshevDepth(approx!.degree));
    const held = rows(200, 2);
    const want = await onnxruntime(bytes, held);
    const got = simulated(plan, held);
    // The output error is bounded by the activation error times the next layer's row norms (‖W1‖∞ ≤ 8 here).
    const bound = 8 * approx!.maxError + 1e-3;
    let agree = 0;
    got.forEach((g, i) => {
      g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThanOrEqual(bound));
      if (argmax(g) === argmax(want[i]!)) agree++;
    });
    expect(agree / held.length).toBeGreaterThanOrEqual(0.95);
  });
});

test('encrypted Chebyshev evaluation (blocks and feature-major) matches the plan simulator within 1e-3', async () => {
  const bytes = CASES[6]![1];
  const calibration = calibrateActivations(bytes, rows(400, 1));
  const xs = rows(5, 3);
  for (const layout of ['replicated-blocks', 'feature-major'] as const) {
    // Degree 8 (depth 4) keeps the ring at N=16384 while exercising every step kind of the schedule.
    const plan = compileOnnx(bytes, { calibration, layout, maxDepth: 6 });
    expect(plan.approximations![0]!.degree).toBe(8);
    const got = await encryptedLogits(plan, xs);
    const want = simulated(plan, xs);
    got.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThanOrEqual(1e-3)));
  }
}, 120_000);

describe('errors', () => {
  const relu = CASES[0]![1];
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(FheCompileError);
      return { code: (err as FheCompileError).code, message: (err as Error).message };
    }
    throw new Error('did not throw');
  };

  test('activation_range_degenerate: a calibration that never exercises the layer', () => {
    const calibration = calibrateActivations(relu, rows(10, 1));
    const flat = { ...calibration, activations: calibration.activations.map((a) => ({ ...a, min: 0.25, max: 0.25 })) };
    expect(code(() => compileOnnx(relu, { calibration: flat }))).toEqual({
      code: 'activation_range_degenerate', message: expect.stringMatching(/node "act" \(Relu\): the calibrated input range \[0.25, 0.25\] is degenerate/),
    });
  });

  test('depth_exceeded: more depth than the budget allows even at degree 2, and more than any ring holds', () => {
    const calibration = calibrateActivations(relu, rows(50, 1));
    expect(code(() => compileOnnx(relu, { calibration, maxDepth: 3 }))).toEqual({
      code: 'depth_exceeded', message: expect.stringMatching(/needs multiplicative depth 4 even with degree-2 .* budget is 3/),
    });
    // A budget beyond what N=32768 holds reaches the parameter selection, which refuses with the same code.
    expect(code(() => selectCkksParameters({ depth: 40, lastUnrescaled: false }))).toEqual({
      code: 'depth_exceeded', message: expect.stringMatching(/needs multiplicative depth 40, but the largest ring \(N=32768/),
    });
  });

  test('calibration_missing: no calibration, or none for this activation', () => {
    const calibration = calibrateActivations(relu, rows(10, 1));
    expect(code(() => compileOnnx(relu)).code).toBe('calibration_missing');
    expect(code(() => compileOnnx(relu, { calibration: { ...calibration, activations: [] } }))).toEqual({
      code: 'calibration_missing', message: expect.stringMatching(/node "act" \(Relu\): the calibration has no entry for this activation/),
    });
  });

  test('calibration_malformed: not JSON, wrong shape, another model', () => {
    const text = JSON.stringify(calibrateActivations(relu, rows(10, 1)));
    expect(parseCalibration(text, relu).activations[0]!.name).toBe('act');
    expect(code(() => parseCalibration('{', relu, 'm.calibration.json'))).toEqual({ code: 'calibration_malformed', message: 'calibration m.calibration.json: is not valid JSON' });
    const broken = JSON.parse(text) as { activations: { min: unknown }[] };
    broken.activations[0]!.min = 'low';
    expect(code(() => parseCalibration(JSON.stringify(broken), relu)).message).toMatch(/activations\[0\]\.min must be a finite number/);
    expect(code(() => parseCalibration(text, CASES[1]![1])).message).toMatch(/measured on a different model/);
    expect(code(() => calibrateActivations(relu, [[1, 2]])).message).toMatch(/row 1 has 2 features; the model takes 6/);
  });
});
