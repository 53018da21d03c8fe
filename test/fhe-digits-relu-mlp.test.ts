/**
 * digits-relu-mlp (Relu hidden layers) served in FHE mode end to end: the gateway compiles it against its committed
 * calibration; the SDK predicts the whole digits test split over gRPC and a few rows over HTTP on one stack; the
 * encrypted accuracy must be within 0.5 points of plaintext onnxruntime's (issue #13).
 */
import fs from 'node:fs';
import { connectFheModel, createHttpFheClient, createVeilClient, type FheModelClient, type VeilClient } from '../client';
import { argmax, BUNDLED_MODELS, loadDigits, runOnnxModel } from '../models';
import { startFheHttpStack, type FheHttpStack } from './support/start-fhe-http-stack';

const MODEL = 'digits-relu-mlp';
const MiB = 1024 * 1024;
let stack: FheHttpStack;
let grpcClient: VeilClient;
let overGrpc: FheModelClient;

beforeAll(async () => {
  stack = await startFheHttpStack({
    models: [MODEL], variants: ['blocks'], threads: 2, keyCacheBytes: 2048 * MiB,
    bodyLimit: 512 * MiB, maxPredictBytes: 128 * MiB, fhe: { maxGroupsPerRequest: 32 },
  });
  grpcClient = createVeilClient({ target: stack.grpc.address });
  overGrpc = await connectFheModel({ client: grpcClient, modelId: MODEL, variant: 'blocks' });
}, 300_000);

afterAll(async () => {
  await overGrpc?.close();
  grpcClient?.close();
  await stack?.close();
});

test('ListModels serves digits-relu-mlp in FHE mode, compiled with its two Relus approximated', async () => {
  const { models } = await grpcClient.listModels();
  expect(models.find((m) => m.id === MODEL)).toMatchObject({ modes: expect.arrayContaining(['fhe']), inputSize: 64, outputSize: 10, fheVariants: ['blocks'] });
  const plan = stack.models.get(MODEL)!.primary.plan;
  expect(plan.approximations!.map((a) => [a.name, a.op])).toEqual([['act1_relu', 'Relu'], ['act2_relu', 'Relu']]);
  expect(plan.spec.stats.depth).toBeLessThanOrEqual(11);
});

test('FHE accuracy on the digits test split (gRPC, SDK) is within 0.5 points of plaintext onnxruntime; HTTP agrees', async () => {
  const { test: split } = loadDigits();
  const plain = await runOnnxModel(fs.readFileSync(BUNDLED_MODELS[MODEL].file), 'x', 'logits', split.features);
  const encrypted = await overGrpc.predict(split.features);
  const accuracy = (logits: ArrayLike<number>[]) => logits.filter((l, i) => argmax(l) === split.labels[i]).length / split.labels.length;
  const plainAccuracy = accuracy(plain);
  const fheAccuracy = accuracy(encrypted.logits);
  const agreement = encrypted.logits.filter((l, i) => argmax(l) === argmax(plain[i]!)).length / split.labels.length;
  console.log(`digits-relu-mlp on ${split.labels.length} test rows: plaintext ${(plainAccuracy * 100).toFixed(2)} %, FHE ${(fheAccuracy * 100).toFixed(2)} %, top-1 agreement ${(agreement * 100).toFixed(2)} %`);
  expect(Math.abs(fheAccuracy - plainAccuracy)).toBeLessThanOrEqual(0.005);
  expect(agreement).toBeGreaterThanOrEqual(0.99);

  const overHttp = await connectFheModel({ client: createHttpFheClient({ baseUrl: stack.baseUrl }), modelId: MODEL, variant: 'blocks' });
  try {
    const rows = split.features.slice(0, 8);
    const viaHttp = await overHttp.predict(rows);
    expect(viaHttp.logits.map((l) => argmax(l))).toEqual(encrypted.logits.slice(0, 8).map((l) => argmax(l)));
  } finally {
    await overHttp.close();
  }
}, 600_000);
