/**
 * The gateway end to end on a loopback port with a real worker pool: encrypted prediction matches
 * plaintext inference, and every kind of bad input gets its clear error while the server keeps serving.
 */
import { listReflectedServices } from './support/list-reflected-services';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { connectFheModel, createVeilClient, VeilClientError, type FheModelClient, type VeilClient } from '../client';
import { createCkksRuntime, createFheClientKeys, evaluationKeySizes, loadSeal, logitsModel, packInputs, type FheModelSpec } from '../fhe';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { BUNDLED_MODELS, loadDataset, runOnnxModel } from '../models';
import { readOnnxModel } from '../onnx';
import { runFheDemo } from '../cli/run-fhe-demo';
import { loadVeilProto, MIN_KEY_CHUNK_BYTES, type CreateSessionRequest } from '../proto';

const logLines: string[] = [];
let gateway: Gateway;
let client: VeilClient;
let model: FheModelClient;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-gw-'));
  const config = loadConfig({
    env: {},
    overrides: {
      grpc: { port: 0, maxReceiveMessageBytes: 4 * 1024 * 1024 }, http: { port: 0 },
      fhe: { models: ['breast-cancer-lr'], workers: 2, maxQueue: 8, uploadIdleTimeoutMs: 1_000 },
      // Serving, not billing: paid FHE calls are test/paid-fhe*.
      payments: { enabled: false },
      dataDir,
    },
  });
  gateway = await createGateway(config, { logger: createLogger({ level: 'debug', format: 'json', write: (l) => logLines.push(l) }) });
  client = createVeilClient({ target: gateway.address });
  model = await connectFheModel({ client, modelId: 'breast-cancer-lr', deadlineMs: 60_000 });
});

afterAll(async () => {
  await model?.close();
  client?.close();
  await gateway?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function expectServing(): Promise<void> {
  const { test } = loadDataset('breast-cancer');
  const r = await model.predict([test.features[0]!]);
  expect(r.logits).toHaveLength(1);
}

async function expectClientError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<VeilClientError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VeilClientError);
  expect((err as VeilClientError).code).toBe(code);
  if (message) expect((err as VeilClientError).message).toMatch(message);
  return err as VeilClientError;
}

describe('gateway over gRPC (FHE)', () => {
  test('lists models and serves the public FHE spec', async () => {
    const { models } = await client.listModels();
    const lr = models.find((m) => m.id === 'breast-cancer-lr');
    expect(lr).toMatchObject({ modes: ['fhe', 'tee'], inputSize: 30, outputSize: 1, postprocess: 'sigmoid' });
    expect(lr!.fheVariants).toEqual(expect.arrayContaining(['blocks', 'feature-major']));
    // TEE-only models are listed with their mode, and no FHE variants.
    expect(models.find((m) => m.id === 'digits-relu-mlp')).toMatchObject({ modes: ['tee'], fheVariants: [] });
    const spec = await client.getFheSpec('breast-cancer-lr');
    const parsed = JSON.parse(spec.specJson) as FheModelSpec;
    expect(spec.polyModulusDegree).toBe(parsed.params.polyModulusDegree);
    expect(spec.galoisSteps).toEqual(parsed.galoisSteps);
    expect(spec.specSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('encrypted logits match plaintext onnxruntime within 1e-3 over the whole test split, batched', async () => {
    const { test } = loadDataset('breast-cancer');
    const onnx = logitsModel(fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file));
    const plain = await runOnnxModel(onnx, 'x', readOnnxModel(onnx).graph.outputs[0]!.name, test.features);
    const encrypted = await model.predict(test.features);
    expect(encrypted.logits).toHaveLength(test.features.length);
    let maxError = 0;
    encrypted.logits.forEach((l, i) => (maxError = Math.max(maxError, Math.abs(l[0]! - plain[i]![0]!))));
    expect(maxError).toBeLessThanOrEqual(1e-3);
    // The client applied the final Sigmoid after decryption.
    const p = encrypted.outputs[0] as Float64Array;
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-encrypted.logits[0]![0]!)), 12);
  });

  test('every served variant matches plaintext; auto picks the variant by batch size', async () => {
    const { test } = loadDataset('breast-cancer');
    const onnx = logitsModel(fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file));
    const plain = await runOnnxModel(onnx, 'x', readOnnxModel(onnx).graph.outputs[0]!.name, test.features);
    for (const variant of model.variants) {
      const r = await model.predict(test.features.slice(0, 40), { variant });
      expect(r.variant).toBe(variant);
      r.logits.forEach((l, i) => expect(Math.abs(l[0]! - plain[i]![0]!)).toBeLessThanOrEqual(1e-3));
    }
    const fm = JSON.parse((await client.getFheSpec('breast-cancer-lr', {}, 'feature-major')).specJson) as FheModelSpec;
    const big = Array.from({ length: fm.batchCapacity / 4 }, (_, i) => test.features[i % test.features.length]!);
    expect((await model.predict(big)).variant).toBe('feature-major');
    expect((await model.predict(test.features.slice(0, 10))).variant).toBe('blocks');
  });

  test('error: an unknown variant is refused naming the served ones', async () => {
    await expectClientError(client.getFheSpec('breast-cancer-lr', {}, 'turbo'), 'invalid_argument', /served: blocks/);
  });

  test('server reflection lists the veil.v1 services', async () => {
    const names = await listReflectedServices(gateway.address);
    expect(names).toEqual(expect.arrayContaining(['veil.v1.Models', 'veil.v1.Fhe', 'veil.v1.Tee', 'veil.v1.Trust']));
    expect(names).not.toContain('veil.v1.TeeNode'); // defined in the package, served only by TEE nodes
  });

  test('health service reports SERVING', async () => {
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String })) as any;
    const health = new def.grpc.health.v1.Health(gateway.address, grpc.credentials.createInsecure());
    const res = await new Promise<any>((resolve, reject) => health.check({ service: 'veil.v1.Fhe' }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    expect(res.status).toBe('SERVING');
    health.close();
  });

  test('error: random bytes as a ciphertext → invalid_ciphertext, and the server keeps serving', async () => {
    const junk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff);
    await expectClientError(client.predict(await model.session(), [{ ciphertexts: [junk] }]), 'invalid_ciphertext');
    await expectServing();
  });

  test('error: a ciphertext made under other parameters → invalid_ciphertext', async () => {
    const seal = await loadSeal();
    const other = { ...model.spec, params: { polyModulusDegree: 8192, coeffModulusBits: [50, 40, 50], scaleBits: 40 } } as FheModelSpec;
    const runtime = createCkksRuntime(seal, other.params);
    const keys = createFheClientKeys(runtime, other);
    try {
      const slots = packInputs(other, [new Float64Array(30)])[0]!;
      const ct = keys.encrypt(slots[0]!);
      await expectClientError(client.predict(await model.session(), [{ ciphertexts: [ct] }]), 'invalid_ciphertext');
    } finally {
      keys.delete();
      runtime.delete();
    }
    await expectServing();
  });

  test('error: unknown session, unknown model, empty and malformed requests', async () => {
    await expectClientError(client.predict('no-such-session', [{ ciphertexts: [new Uint8Array(8)] }]), 'session_not_found');
    await expectClientError(client.getFheSpec('no-such-model'), 'model_not_found', /served models: breast-cancer-lr/);
    await expectClientError(client.createFheSession({ modelId: 'no-such-model', galoisKeys: new Uint8Array(8) }), 'model_not_found');
    await expectClientError(client.predict(await model.session(), []), 'invalid_argument', /at least one/);
    await expectClientError(client.predict(await model.session(), [{ ciphertexts: [] }]), 'invalid_argument', /groups\[0\]/);
    await expectClientError(client.createFheSession({ modelId: 'breast-cancer-lr' }), 'invalid_keys', /needs Galois keys/);
    await expectClientError(client.createFheSession({ modelId: 'breast-cancer-lr', specSha256: 'ab', galoisKeys: new Uint8Array(8) }), 'invalid_keys', /different spec/);
    await expectServing();
  });

  test('error: garbage evaluation keys are refused when the session is created', async () => {
    await expectClientError(client.createFheSession({ modelId: 'breast-cancer-lr', galoisKeys: new Uint8Array(1000).fill(3) }), 'invalid_keys');
    await expectServing();
  });

  test('error: an oversized message is refused with RESOURCE_EXHAUSTED naming the limit', async () => {
    const big = new Uint8Array(5 * 1024 * 1024);
    const err = await client.predict(await model.session(), [{ ciphertexts: [big] }]).then(() => undefined, (e: VeilClientError) => e);
    expect(err?.grpcStatus).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.message).toMatch(/larger than max/);
    await expectServing();
  });

  test('error: an expired client deadline is reported as deadline_exceeded and the server keeps serving', async () => {
    const { test } = loadDataset('breast-cancer');
    const groups = packInputs(model.spec, test.features).map(() => ({ ciphertexts: [new Uint8Array(16)] }));
    const failure = await client.predict(await model.session(), groups, { deadlineMs: 1 }).then(() => undefined, (e: VeilClientError) => e);
    expect(failure?.grpcStatus).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expectServing();
  });

  test('privacy: decrypted outputs are flooded and rounded to the 2^-12 grid by default; outputPrecision "full" opts out', async () => {
    const { test } = loadDataset('breast-cancer');
    const samples = test.features.slice(0, 20);
    const onGrid = (logits: Float64Array[]) => logits.every((l) => Array.from(l).every((v) => Number.isInteger(v * 2 ** 12)));
    const rounded = await model.predict(samples, { variant: 'blocks' });
    expect(onGrid(rounded.logits)).toBe(true);
    const raw = await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks', outputPrecision: 'full' });
    try {
      const exact = await raw.predict(samples);
      expect(onGrid(exact.logits)).toBe(false); // CKKS noise bits are all there
      exact.logits.forEach((l, i) => expect(Math.abs(l[0]! - rounded.logits[i]![0]!)).toBeLessThan(5e-4));
    } finally {
      await raw.close();
    }
    await expect(connectFheModel({ client, modelId: 'breast-cancer-lr', outputPrecision: { gridBits: 0, noiseBits: 14 } })).rejects.toThrow(RangeError);
  });

  test('veil demo counts the keys of every variant it used, uploaded lazily, in bytes uploaded', async () => {
    const r = await runFheDemo({ target: gateway.address, modelId: 'breast-cancer-lr', latencySamples: 2 });
    const specOf = async (variant: string) => JSON.parse((await client.getFheSpec('breast-cancer-lr', {}, variant)).specJson) as FheModelSpec;
    const used = [...new Set([r.singleVariant, r.batchVariant])];
    let expected = 0;
    for (const v of used) {
      const sizes = evaluationKeySizes(await specOf(v));
      expected += sizes.galoisKeys + sizes.relinKeys;
    }
    expect(expected).toBeGreaterThan(0); // single samples use blocks, which needs Galois keys
    expect(r.keyBytes).toBe(expected);
    expect(r.bytesUploaded).toBe(r.keyBytes + r.ciphertextBytes);
    expect(r.ciphertextBytes).toBeGreaterThan(0);
    expect(r.maxAbsError).toBeLessThanOrEqual(1e-3);
  });

  /** A raw CreateSession stream (the SDK only ever sends complete uploads). */
  function rawUpload(): { call: grpc.ClientWritableStream<CreateSessionRequest>; result: Promise<VeilClientError | undefined> } {
    const fhe = new (loadVeilProto().services.Fhe)(gateway.address, grpc.credentials.createInsecure());
    let call!: grpc.ClientWritableStream<CreateSessionRequest>;
    const result = new Promise<VeilClientError | undefined>((resolve) => {
      call = (fhe as unknown as { CreateSession: Function }).CreateSession((err: grpc.ServiceError | null) => {
        fhe.close();
        resolve(err ? new VeilClientError(String(err.metadata?.get('veil-error-code')[0] ?? grpc.status[err.code]), err.details, err.code) : undefined);
      });
    });
    return { call, result };
  }
  const blocksHeader = (): CreateSessionRequest => ({
    header: { modelId: 'breast-cancer-lr', variant: 'blocks', galoisKeysBytes: evaluationKeySizes(model.spec).galoisKeys, relinKeysBytes: 0, specSha256: '' },
  });

  test('error: a key upload that stalls is refused with upload_timeout (DEADLINE_EXCEEDED), and the server keeps serving', async () => {
    const { call, result } = rawUpload();
    call.write(blocksHeader());
    call.write({ chunk: { kind: 'KIND_GALOIS', data: new Uint8Array(MIN_KEY_CHUNK_BYTES) } });
    const err = await result;
    expect(err?.code).toBe('upload_timeout');
    expect(err?.grpcStatus).toBe(grpc.status.DEADLINE_EXCEEDED);
    call.end();
    await expectServing();
  });

  test('error: a cancelled key upload ends as cancelled on the server, not internal', async () => {
    const { call, result } = rawUpload();
    call.write(blocksHeader());
    call.write({ chunk: { kind: 'KIND_GALOIS', data: new Uint8Array(MIN_KEY_CHUNK_BYTES) } });
    await new Promise((r) => setTimeout(r, 100));
    call.cancel();
    expect((await result)?.grpcStatus).toBe(grpc.status.CANCELLED); // what the client sees locally either way
    // What the server made of it: its log line for this call.
    let line: { code?: string } | undefined;
    // Up to 5 s: on a loaded CI machine the server's handler may see the cancellation late.
    for (let i = 0; i < 250 && !line; i++) {
      line = logLines.map((l) => JSON.parse(l) as { rpc?: string; code?: string }).reverse().find((l) => l.rpc === 'CreateSession' && l.code !== undefined);
      if (!line || line.code === 'upload_timeout') line = undefined;
      if (!line) await new Promise((r) => setTimeout(r, 20));
    }
    expect(line?.code).toBe('cancelled');
    await expectServing();
  });

  test('privacy: logs and on-disk state hold no feature values, ciphertext bytes or keys', async () => {
    const { test } = loadDataset('breast-cancer');
    const canary = Float64Array.from(test.features[0]!, (_, i) => 654.321 + i / 1000);
    canary[0] = 123.456789;
    await model.predict([canary]);
    const log = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(log).not.toContain('123.456');
    // Every feature of the canary carries a distinctive marker value; none may surface anywhere in the log.
    const markers = Array.from(canary, (_, i) => (654.321 + i / 1000).toFixed(3));
    for (const m of markers) expect(log).not.toContain(m);
    for (const line of logLines) expect(line.length).toBeLessThan(1000);
    // No base64 or hex blobs (ciphertexts, keys) anywhere in the log.
    expect(log).not.toMatch(/[A-Za-z0-9+/]{200,}/);
    expect(log).not.toMatch(/[0-9a-f]{200,}/);
    // The only on-disk state is the embedded dev chain's (registry deployment and chain state).
    expect(fs.readdirSync(dataDir)).toEqual(['chain']);
    const marker = Buffer.from(new Float64Array([123.456789]).buffer).toString('hex');
    for (const file of fs.readdirSync(path.join(dataDir, 'chain'))) {
      const text = fs.readFileSync(path.join(dataDir, 'chain', file)).toString('latin1');
      expect(text).not.toContain('123.456');
      expect(text).not.toContain(marker);
    }
  });
});
