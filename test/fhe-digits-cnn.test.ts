/**
 * digits-cnn (PyTorch-exported Conv stride 2 → x² → Gemm, models/train_digits_cnn.py) served in FHE mode end to end:
 * the gateway compiles it (no calibration: everything but the square is linear), the SDK predicts the whole digits
 * test split encrypted over gRPC, and the FHE accuracy must reach 98.5 % and agree with plaintext onnxruntime.
 */
import fs from 'node:fs';
import { connectFheModel, createVeilClient, type VeilClient } from '../client';
import { readOnnxModel } from '../onnx';
import { argmax, BUNDLED_MODELS, loadDigits, runOnnxModel } from '../models';
import { createTeePool } from '../workers/tee';
import { startFheHttpStack, type FheHttpStack } from './support/start-fhe-http-stack';

const MODEL = 'digits-cnn';
const MiB = 1024 * 1024;
const entry = BUNDLED_MODELS[MODEL];
let stack: FheHttpStack;
let client: VeilClient;

beforeAll(async () => {
  stack = await startFheHttpStack({ models: [MODEL], variants: ['blocks', 'feature-major'], threads: 2, keyCacheBytes: 1024 * MiB, bodyLimit: 512 * MiB, maxPredictBytes: 256 * MiB, fhe: { maxGroupsPerRequest: 128 } });
  client = createVeilClient({ target: stack.grpc.address });
}, 300_000);

afterAll(async () => {
  client?.close();
  await stack?.close();
});

test('the committed model is what PyTorch exported (ops, split, test accuracy recorded by the training script)', async () => {
  const meta = JSON.parse(fs.readFileSync(entry.file.replace(/\.onnx$/, '.json'), 'utf8')) as { ops: string[]; split: { train: number; test: number }; accuracy: { test: number } };
  expect(readOnnxModel(fs.readFileSync(entry.file)).graph.nodes.map((n) => n.opType)).toEqual(meta.ops);
  const { train, test: split } = loadDigits();
  expect([train.labels.length, split.labels.length]).toEqual([meta.split.train, meta.split.test]);
  // The script re-implements models/split-dataset.ts in Python: the same accuracy on the same rows confirms the split.
  const plain = await runOnnxModel(fs.readFileSync(entry.file), 'x', 'logits', split.features);
  const accuracy = plain.filter((l, i) => argmax(l) === split.labels[i]).length / split.labels.length;
  expect(accuracy).toBeCloseTo(meta.accuracy.test, 5);
  expect(entry.modes).toEqual(['fhe', 'tee']);
});

test('ListModels serves digits-cnn in FHE mode: depth 3, N=8192, 16 images per ciphertext', async () => {
  const { models } = await client.listModels();
  expect(models.find((m) => m.id === MODEL)).toMatchObject({ modes: expect.arrayContaining(['fhe']), inputSize: 64, outputSize: 10 });
  const plan = stack.models.get(MODEL)!.primary.plan;
  expect(plan.spec.stats.depth).toBe(3);
  expect(plan.spec.params.polyModulusDegree).toBe(8192);
  expect(plan.spec.batchCapacity).toBe(16);
  // In PyTorch's (channel, y, x) order the stride-2 Conv touches all 64 diagonals (14 rotations); with its outputs
  // placed next to their taps (permuteLinearOutputs) it needs 16 diagonals and 6 rotations.
  expect(plan.spec.stats.layers.map((l) => [l.op, l.rotations, l.plainMultiplies])).toEqual([['Conv', 6, 16], ['Square', 0, 0], ['Gemm', 9, 16]]);
});

test('FHE accuracy on the digits test split (feature-major, one group) ≥ 98.5 % and equal to plaintext onnxruntime; blocks and the TEE pool agree', async () => {
  const { test: split } = loadDigits();
  const plain = await runOnnxModel(fs.readFileSync(entry.file), 'x', 'logits', split.features);
  const model = await connectFheModel({ client, modelId: MODEL, variant: 'feature-major' });
  try {
    const encrypted = await model.predict(split.features);
    const accuracy = (logits: ArrayLike<number>[]) => logits.filter((l, i) => argmax(l) === split.labels[i]).length / split.labels.length;
    const agreement = encrypted.logits.filter((l, i) => argmax(l) === argmax(plain[i]!)).length / split.labels.length;
    console.log(`digits-cnn on ${split.labels.length} test rows: plaintext ${(accuracy(plain) * 100).toFixed(2)} %, FHE ${(accuracy(encrypted.logits) * 100).toFixed(2)} %, top-1 agreement ${(agreement * 100).toFixed(2)} %`);
    expect(accuracy(encrypted.logits)).toBeGreaterThanOrEqual(0.985);
    expect(agreement).toBe(1);
    encrypted.logits.forEach((l, i) => l.forEach((v, j) => expect(Math.abs(v - plain[i]![j]!)).toBeLessThan(1e-2)));
    // TEE mode runs the same file in onnxruntime workers: the two encrypted paths agree on every test row.
    const tee = await createTeePool({ models: { [MODEL]: entry.file }, threads: 1 });
    try {
      const data = Float32Array.from(split.features.flatMap((f) => Array.from(f)));
      const { outputs } = await tee.run({ modelId: MODEL, inputs: { x: { dims: [split.features.length, 64], data } } });
      const teeLogits = outputs.logits!.data as Float32Array;
      const teeTop1 = split.features.map((_, i) => argmax(teeLogits.subarray(i * 10, (i + 1) * 10)));
      expect(teeTop1).toEqual(encrypted.logits.map((l) => argmax(l)));
    } finally {
      await tee.close();
    }
  } finally {
    await model.close();
  }
  const blocks = await connectFheModel({ client, modelId: MODEL, variant: 'blocks' });
  try {
    const rows = split.features.slice(0, 8);
    const got = await blocks.predict(rows);
    got.logits.forEach((l, i) => l.forEach((v, j) => expect(Math.abs(v - plain[i]![j]!)).toBeLessThan(1e-2)));
  } finally {
    await blocks.close();
  }
}, 600_000);
