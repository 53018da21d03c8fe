/**
 * The SDK's connectFheModel over both transports against ONE stack (one pool, one set of Fhe handlers): HTTP
 * (createHttpFheClient) and gRPC (createVeilClient) give the same predictions for a bundled model, share the upload
 * slots, and an HTTP error reaches the SDK as the same VeilClientError code as over gRPC. Prints one single-sample
 * predict latency over each transport, measured in the same run.
 */
import fs from 'node:fs';
import { connectFheModel, createHttpFheClient, createVeilClient, VeilClientError, type FheGatewayClient, type FheModelClient, type VeilClient } from '../client';
import * as grpc from '@grpc/grpc-js';
import { createCkksRuntime, createFheClientKeys, evaluationKeySizes, loadSeal, logitsModel, packInputs } from '../fhe';
import { BUNDLED_MODELS, loadDataset, runOnnxModel } from '../models';
import { readOnnxModel } from '../onnx';
import { loadVeilProto, type CreateSessionRequest } from '../proto';
import { startFheHttpStack, type FheHttpStack } from './support/start-fhe-http-stack';

const MODEL = 'breast-cancer-lr';
let stack: FheHttpStack;
let grpcClient: VeilClient;
let overGrpc: FheModelClient;
let overHttp: FheModelClient;
let httpClient: FheGatewayClient;

beforeAll(async () => {
  // One upload slot in all: the upload test below shows the two surfaces share it.
  stack = await startFheHttpStack({
    variants: ['blocks', 'expanded', 'feature-major'], maxPredictBytes: 32 * 1024 * 1024, fhe: { maxConcurrentUploads: 1, maxUploadsPerCaller: 1 },
  });
  grpcClient = createVeilClient({ target: stack.grpc.address });
  overGrpc = await connectFheModel({ client: grpcClient, modelId: MODEL, variant: 'blocks' });
  httpClient = createHttpFheClient({ baseUrl: stack.baseUrl });
  overHttp = await connectFheModel({ client: httpClient, modelId: MODEL, variant: 'blocks' });
});

afterAll(async () => {
  await overHttp?.close();
  await overGrpc?.close();
  grpcClient?.close();
  await stack?.close();
});

test('HTTP and gRPC give the same predictions, both matching plaintext onnxruntime', async () => {
  const { test: split } = loadDataset('breast-cancer');
  const samples = split.features.slice(0, 40);
  const onnx = logitsModel(fs.readFileSync(BUNDLED_MODELS[MODEL].file));
  const plain = await runOnnxModel(onnx, 'x', readOnnxModel(onnx).graph.outputs[0]!.name, samples);
  const [viaHttp, viaGrpc] = [await overHttp.predict(samples), await overGrpc.predict(samples)];
  expect(viaHttp.logits).toHaveLength(samples.length);
  samples.forEach((_, i) => {
    expect(Math.abs(viaHttp.logits[i]![0]! - plain[i]![0]!)).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(viaHttp.logits[i]![0]! - viaGrpc.logits[i]![0]!)).toBeLessThanOrEqual(2e-3);
  });
  expect(viaHttp.outputs.map((p) => Math.round((p as Float64Array)[0]!))).toEqual(viaGrpc.outputs.map((p) => Math.round((p as Float64Array)[0]!)));
  expect(viaHttp.bytesDownloaded).toBe(viaGrpc.bytesDownloaded);
});

test('auto variant selection and keyless variants work over HTTP (feature-major uploads no keys)', async () => {
  const model = await connectFheModel({ client: createHttpFheClient({ baseUrl: stack.baseUrl }), modelId: MODEL });
  try {
    const { test: split } = loadDataset('breast-cancer');
    const one = await model.predict([split.features[0]!]);
    expect(model.variants).toContain(one.variant);
    const fm = await model.predict(split.features.slice(0, 4), { variant: 'feature-major' });
    expect(fm.logits).toHaveLength(4);
  } finally {
    await model.close();
  }
});

test('error: a closed session reaches the SDK over HTTP as the same VeilClientError code as over gRPC', async () => {
  const http = createHttpFheClient({ baseUrl: stack.baseUrl });
  const codes: string[] = [];
  for (const client of [http, grpcClient]) {
    const err = await client.predict('no-such-session', [{ ciphertexts: [new Uint8Array(8)] }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VeilClientError);
    codes.push((err as VeilClientError).code);
  }
  expect(codes).toEqual(['session_not_found', 'session_not_found']);
  const unreachable = await createHttpFheClient({ baseUrl: 'http://127.0.0.1:1' }).listModels().catch((e: unknown) => e);
  expect(unreachable).toMatchObject({ code: 'unavailable' });
});

test('error: gRPC and HTTP uploads share one set of upload slots (one implementation of the rule, one count)', async () => {
  const proto = loadVeilProto();
  const fhe = new proto.services.Fhe(stack.grpc.address, grpc.credentials.createInsecure());
  const keyless = () => fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: { 'x-veil-model': MODEL, 'x-veil-fhe-variant': 'feature-major' } });
  try {
    const call = (fhe as unknown as { CreateSession(cb: () => void): grpc.ClientWritableStream<CreateSessionRequest> }).CreateSession(() => undefined);
    const galois = evaluationKeySizes(stack.models.get(MODEL)!.variants.get('blocks')!.plan.spec).galoisKeys;
    call.write({ header: { modelId: MODEL, variant: 'blocks', galoisKeysBytes: galois, relinKeysBytes: 0, specSha256: '' } });
    await new Promise((r) => setTimeout(r, 200)); // the gRPC upload now holds the one slot
    const refused = await keyless();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    call.cancel();
    await new Promise((r) => setTimeout(r, 200));
    const opened = await keyless();
    expect(opened.status).toBe(200);
  } finally {
    fhe.close();
  }
});

test('one single-sample predict over HTTP vs gRPC (same ciphertexts, model, variant and pool; interleaved)', async () => {
  // The SDK's own encrypt and decrypt are the same for both; what differs is the call. Time the call alone, with
  // each transport's session, on ciphertexts encrypted once (an FHE evaluation is deterministic, so the work is equal).
  const { test: split } = loadDataset('breast-cancer');
  const spec = overHttp.spec;
  const runtime = createCkksRuntime(await loadSeal(), spec.params);
  const keys = createFheClientKeys(runtime, spec);
  try {
    const groups = packInputs(spec, [split.features[0]!]).map((g) => ({ ciphertexts: g.map((slots) => keys.encrypt(slots)) }));
    const sessions = { http: await overHttp.session(), grpc: await overGrpc.session() };
    const clients = { http: httpClient, grpc: grpcClient };
    const times = { http: [] as number[], grpc: [] as number[] };
    for (let i = 0; i < 53; i++) {
      for (const name of ['http', 'grpc'] as const) {
        const started = performance.now();
        await clients[name].predict(sessions[name], groups);
        if (i >= 3) times[name].push(performance.now() - started); // the first three warm both paths
      }
    }
    const p50 = (xs: number[]) => +[...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(2);
    const figures = { requestBytes: groups[0]!.ciphertexts.reduce((a, c) => a + c.byteLength, 0), httpP50Ms: p50(times.http), grpcP50Ms: p50(times.grpc), samples: times.http.length };
    console.log(`FHE ${MODEL} blocks, one predict call (1 sample), p50: ${JSON.stringify(figures)}`);
    expect(figures.httpP50Ms).toBeGreaterThan(0);
  } finally {
    keys.delete();
    runtime.delete();
  }
});
