import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { BUNDLED_MODELS } from '../../models';
import { createTeePool, type TeePool } from './create-tee-pool';
import { seededRows } from '../../test/support/seeded-rows';

const LR = BUNDLED_MODELS['breast-cancer-lr'].file;
const MLP = BUNDLED_MODELS['digits-relu-mlp'].file;

const rows = (n: number, width: number, seed = 1) => seededRows(n, width, seed);

async function direct(file: string, input: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [input]: new ort.Tensor('float32', data, dims) });
    return (Object.values(out)[0] as ort.Tensor).data as Float32Array;
  } finally {
    await session.release();
  }
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('createTeePool', () => {
  let pool: TeePool;
  beforeAll(async () => {
    pool = await createTeePool({ models: { 'breast-cancer-lr': LR, 'digits-relu-mlp': MLP }, threads: 2, maxQueue: 8 });
  });
  afterAll(() => pool.close());

  test('runs warm sessions and matches onnxruntime-node run directly', async () => {
    const x = rows(5, 30);
    const expected = await direct(LR, 'x', x, [5, 30]);
    const { outputs, computeMicros } = await pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [5, 30], data: x.slice() } } });
    expect(Array.from(outputs.probability!.data)).toEqual(Array.from(expected));
    expect(outputs.probability!.dims).toEqual([5, 1]);
    expect(computeMicros).toBeGreaterThanOrEqual(0);

    const d = rows(3, 64, 7);
    const logits = await direct(MLP, 'x', d, [3, 64]);
    const mlp = await pool.run({ modelId: 'digits-relu-mlp', inputs: { x: { dims: [3, 64], data: d.slice() } } });
    expect(Array.from(mlp.outputs.logits!.data)).toEqual(Array.from(logits));
  });

  test('moves whole-buffer inputs (no copy) and copies views', async () => {
    const whole = rows(1, 30);
    await pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [1, 30], data: whole } } });
    expect(whole.buffer.byteLength).toBe(0);
    const backing = rows(2, 30);
    const view = backing.subarray(30);
    await pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [1, 30], data: view } } });
    expect(backing.length).toBe(60);
  });

  test('error: unknown model, missing/extra inputs and bad shapes come back as coded envelopes', async () => {
    const x = { dims: [1, 30], data: rows(1, 30) };
    expect(await code(pool.run({ modelId: 'nope', inputs: { x } }))).toBe('tee_model_not_found');
    expect(await code(pool.run({ modelId: 'breast-cancer-lr', inputs: { y: { dims: [1, 30], data: rows(1, 30) } } }))).toBe('invalid_input');
    expect(await code(pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [1, 29], data: rows(1, 29) } } }))).toBe('invalid_input');
    expect(await code(pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [2, 30], data: rows(1, 30) } } }))).toBe('invalid_input');
  });
});

describe('createTeePool limits', () => {
  test('error: a full queue is refused at once as overloaded; close releases sessions', async () => {
    const pool = await createTeePool({ models: { 'digits-relu-mlp': MLP }, threads: 1, maxQueue: 1 });
    try {
      const big = () => ({ x: { dims: [4096, 64], data: rows(4096, 64) } });
      const settled = await Promise.allSettled(Array.from({ length: 6 }, () => pool.run({ modelId: 'digits-relu-mlp', inputs: big() })));
      const codes = settled.map((s) => (s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok'));
      expect(codes).toContain('ok');
      expect(codes).toContain('overloaded');
    } finally {
      await pool.close();
    }
    expect(await code(pool.run({ modelId: 'digits-relu-mlp', inputs: { x: { dims: [1, 64], data: rows(1, 64) } } }))).toBe('unavailable');
  });

  test('a worker that dies under a task answers unavailable (retryable), never piscina\'s bare text; its replacement serves', async () => {
    const workerFile = path.join(__dirname, '..', '..', 'test', 'support', 'crashing-tee-worker.ts');
    const pool = await createTeePool({ models: { crash: LR, ok: LR }, threads: 1, workerFile });
    try {
      const input = () => ({ x: { dims: [1, 30], data: rows(1, 30) } }); // inputs are moved to the worker, so one per call
      await expect(pool.run({ modelId: 'crash', inputs: input() })).rejects.toMatchObject({ name: 'WorkerTaskError', code: 'unavailable' });
      await expect(pool.run({ modelId: 'ok', inputs: input() })).resolves.toMatchObject({ outputs: {} });
    } finally {
      await pool.close();
    }
  });

  test('a node with language models only has a pool with no tensor models and no workers', async () => {
    const pool = await createTeePool({ models: {} });
    expect(pool.modelIds).toEqual([]);
    expect(await code(pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [1, 30], data: rows(1, 30) } } }))).toBe('tee_model_not_found');
    await pool.close();
  });

  test('error: invalid options', async () => {
    await expect(createTeePool({ models: { m: LR }, threads: 0 })).rejects.toThrow('threads');
    await expect(createTeePool({ models: { m: '/nonexistent.onnx' }, threads: 1, readyTimeoutMs: 20_000 })).rejects.toThrow('failed to start');
  });
});
