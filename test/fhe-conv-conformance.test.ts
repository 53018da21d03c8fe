/**
 * Convolutional networks as PyTorch's two exporters and onnx.helper write them (test/fixtures/onnx/generate_conv.py):
 * Conv → ReLU → AvgPool → Flatten → Gemm, the same with BatchNormalization and a [batch, 64] input reshaped to
 * [batch, 1, 8, 8], and a residual block (h + Conv(h)). Calibrated on seeded rows, each compiles, its plan tracks
 * onnxruntime, and encrypted it matches its own simulation; MaxPool is refused with a hint to AveragePool.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { calibrateActivations, compileOnnx, measureApproximations, simulatePlan, FHE_VARIANTS, FheCompileError, logitsModel, packInputs, unpackOutputs, type FhePlan } from '../fhe';
import { encryptedLogits } from '../fhe/test-support/encrypted-logits';
import { readOnnxModel } from '../onnx';

const DIR = path.join(__dirname, 'fixtures', 'onnx');
type Meta = { input: number[][]; output: number[][]; ops: string[] };

async function plaintextLogits(bytes: Uint8Array, rows: number[][]): Promise<Float32Array[]> {
  const logits = logitsModel(bytes);
  const input = readOnnxModel(logits).graph.inputs[0]!;
  const dims = input.shape && input.shape.length > 2 ? (input.shape.slice(1) as number[]) : [rows[0]!.length];
  const session = await ort.InferenceSession.create(logits);
  try {
    const out = await session.run({ [input.name]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, ...dims]) });
    const data = out[session.outputNames[0]!]!.data as Float32Array;
    const size = data.length / rows.length;
    return rows.map((_, i) => data.slice(i * size, (i + 1) * size));
  } finally {
    await session.release();
  }
}

function simulate(plan: FhePlan, rows: number[][]): Float64Array[] {
  return packInputs(plan.spec, rows).flatMap((g, gi) => unpackOutputs(plan.spec, simulatePlan(plan, g), Math.min(plan.spec.batchCapacity, rows.length - gi * plan.spec.batchCapacity)));
}

function seeded(seed: number, width: number): (n: number) => number[][] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return (n) => Array.from({ length: n }, () => Array.from({ length: width }, () => rand()));
}

const top1 = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)));

// [fixture, activations, also run encrypted] — one encrypted run per exporter keeps the suite's time down.
const RELU_CNNS: [string, number, boolean][] = [
  ['torch-cnn', 1, true], ['torch-cnn-bn-flat', 1, false], ['torch-cnn-view', 1, false], ['torch-cnn-residual', 2, false],
  ['torch-dynamo-cnn', 1, false], ['torch-dynamo-cnn-bn-flat', 1, false], ['torch-dynamo-cnn-residual', 2, true],
];

describe.each(RELU_CNNS)('%s', (name, activations, encrypt) => {
  test('calibrated, compiles (blocks and feature-major); the plan tracks onnxruntime (and, encrypted, its simulation)', async () => {
    const bytes = fs.readFileSync(path.join(DIR, `${name}.onnx`));
    const meta = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Meta;
    const random = seeded(2024, meta.input[0]!.length);
    const calibration = calibrateActivations(bytes, [...meta.input, ...random(400)]);
    const rows = [...meta.input, ...random(60)];
    const plain = await plaintextLogits(bytes, rows);
    // The committed outputs are what PyTorch computed; onnxruntime reproduces them.
    meta.output.forEach((o, i) => o.forEach((v, j) => expect(Math.abs(v - plain[i]![j]!)).toBeLessThan(1e-4)));
    const span = Math.max(...plain.flatMap((v) => Array.from(v))) - Math.min(...plain.flatMap((v) => Array.from(v)));
    let blocks: FhePlan | undefined;
    let inRange: boolean[] = [];
    for (const variant of ['blocks', 'feature-major'] as const) {
      const plan = compileOnnx(bytes, { name, calibration, ...FHE_VARIANTS[variant] });
      expect(plan.approximations).toHaveLength(activations);
      expect(plan.spec.stats.rotations).toBe(plan.spec.stats.minRotations);
      // Rows whose activation inputs leave the fitted range are the reported risk; the bounds hold for the rest.
      if (variant === 'blocks') inRange = rows.map((r) => measureApproximations(bytes, plan, [r]).every((a) => a.outsideFitted === 0));
      expect(inRange.filter(Boolean).length).toBeGreaterThanOrEqual(rows.length * 0.9);
      const got = simulate(plan, rows);
      const kept = rows.map((_, i) => i).filter((i) => inRange[i]);
      expect(kept.filter((i) => top1(got[i]!) === top1(plain[i]!)).length).toBeGreaterThanOrEqual(kept.length * 0.95);
      // Each approximation is held to 2 % of its output span; through the pooling and the last layer the logits stay
      // within a few percent of their spread.
      for (const i of kept) got[i]!.forEach((x, j) => expect(Math.abs(x - plain[i]![j]!)).toBeLessThan(0.05 * span));
      if (variant === 'blocks') blocks = plan;
    }
    if (!encrypt) return;
    const encrypted = await encryptedLogits(blocks!, meta.input);
    const simulated = simulate(blocks!, meta.input);
    encrypted.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - simulated[i]![j]!)).toBeLessThanOrEqual(1e-3)));
  }, 300_000);
});

test('helper-conv-transpose ([batch, 64] → Unsqueeze → Reshape → Conv stride 2 → x² → NHWC Transpose → MatMul): encrypted matches onnxruntime within 1e-3', async () => {
  const bytes = fs.readFileSync(path.join(DIR, 'helper-conv-transpose.onnx'));
  const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'helper-conv-transpose.json'), 'utf8')) as Meta;
  const rows = [...meta.input, ...seeded(5, 64)(6)];
  const plain = await plaintextLogits(bytes, rows);
  meta.output.forEach((o, i) => o.forEach((v, j) => expect(Math.abs(v - plain[i]![j]!)).toBeLessThan(1e-4)));
  for (const variant of ['blocks', 'feature-major'] as const) {
    const plan = compileOnnx(bytes, FHE_VARIANTS[variant]);
    expect(plan.spec.stats.depth).toBe(3); // Conv, square, (Transpose ∘ MatMul)
    const got = await encryptedLogits(plan, rows);
    got.forEach((v, i) => v.forEach((x, j) => expect(Math.abs(x - plain[i]![j]!)).toBeLessThanOrEqual(1e-3)));
  }
}, 120_000);

test('error: helper-maxpool is refused, naming the MaxPool node and suggesting AveragePool', () => {
  const bytes = fs.readFileSync(path.join(DIR, 'helper-maxpool.onnx'));
  expect(() => compileOnnx(bytes)).toThrow(FheCompileError);
  expect(() => compileOnnx(bytes)).toThrow(/node "maxpool" \(MaxPool\): .*AveragePool/);
});
