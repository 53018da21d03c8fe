/**
 * The FHE pool against real node-seal workers: deadlines and cancellation reach the running task (and the
 * warm worker survives them), a failing chunk stops its siblings, closed sessions leave every worker's key cache,
 * and a full queue is refused at once rather than growing without bound.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { compileOnnx, createCkksRuntime, createFheClientKeys, loadSeal, packInputs, type FhePlan } from '../../fhe';
import { toVeilError } from '../../gateway/errors';
import { BUNDLED_MODELS, loadDataset } from '../../models';
import { createFhePool, type FhePool } from './create-fhe-pool';
import type { SharedSessionKeys } from './fhe-task-types';

let pool: FhePool;
let plan: FhePlan;
let keys: SharedSessionKeys;
let group: Uint8Array[];
const release: (() => void)[] = [];

beforeAll(async () => {
  plan = compileOnnx(fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file), { name: 'lr' });
  pool = await createFhePool({ plans: { lr: plan }, threads: 1, maxQueue: 1, keyCacheBytes: 64 * 1024 * 1024 });
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  const client = createFheClientKeys(runtime, plan.spec);
  release.push(() => client.delete(), () => runtime.delete());
  const evaluation = client.evaluationKeys();
  keys = {};
  for (const kind of ['galoisKeys', 'relinKeys'] as const) {
    const bytes = evaluation[kind];
    if (!bytes) continue;
    keys[kind] = new SharedArrayBuffer(bytes.byteLength);
    new Uint8Array(keys[kind]!).set(bytes);
  }
  const { test } = loadDataset('breast-cancer');
  group = packInputs(plan.spec, test.features.slice(0, 10))[0]!.map((slots) => client.encrypt(slots));
});

afterAll(async () => {
  await pool?.close();
  for (const r of release) r();
});

const run = (groups: number, extra: { signal?: AbortSignal; deadline?: number; session?: number } = {}, on = pool) =>
  on.predict({ planKey: 'lr', session: 1, keys, groups: Array.from({ length: groups }, () => group), ...extra });

test('evaluates ciphertext groups and returns one output group per input group', async () => {
  const result = await run(3);
  expect(result.groups).toHaveLength(3);
  expect(result.groups[0]![0]!.byteLength).toBeGreaterThan(0);
  expect(result.evalMicros).toBeGreaterThan(0);
});

test('error: a deadline that has passed stops the task in the worker (deadline_exceeded)', async () => {
  const err = await run(1, { deadline: Date.now() - 1 }).catch((e: unknown) => e);
  expect(toVeilError(err).code).toBe('deadline_exceeded');
});

test('error: cancelling a running task stops it at the next checkpoint, and the warm worker keeps serving', async () => {
  const controller = new AbortController();
  const started = performance.now();
  const pending = run(400, { signal: controller.signal }).catch((e: unknown) => e);
  setTimeout(() => controller.abort(), 30);
  const err = await pending;
  expect(toVeilError(err).code).toBe('cancelled');
  // 400 groups take seconds; stopping at a checkpoint returns long before that.
  expect(performance.now() - started).toBeLessThan(2_000);
  const after = performance.now();
  await run(1);
  expect(performance.now() - after).toBeLessThan(500); // no cold start: the worker was not terminated
});

test('error: cancelling a task the worker has only just been handed does not terminate that warm worker', async () => {
  const starts = pool.workerStarts;
  const controller = new AbortController();
  const pending = run(1, { signal: controller.signal }).catch((e: unknown) => e);
  controller.abort(); // piscina has already posted the task to the idle worker, which may or may not have begun it
  const outcome = await pending;
  // Either the worker saw the flag (cancelled) or it had already passed its last checkpoint (a result): both are fine.
  if (outcome instanceof Error) expect(toVeilError(outcome).code).toBe('cancelled');
  const after = performance.now();
  await run(1);
  expect(performance.now() - after).toBeLessThan(500);
  expect(pool.workerStarts).toBe(starts); // no replacement worker was started
});

test('a forgotten session leaves the worker key cache before its next task; other sessions stay', async () => {
  const a = pool.newSessionKey();
  const b = pool.newSessionKey();
  expect(b).not.toBe(a);
  await pool.loadKeys({ planKey: 'lr', session: a, keys });
  await pool.loadKeys({ planKey: 'lr', session: b, keys });
  const before = await pool.workerStats();
  pool.forgetSession(a);
  const after = await pool.workerStats();
  expect(after.cachedSessions).toBe(before.cachedSessions - 1);
  expect(after.cachedBytes).toBeLessThan(before.cachedBytes);
  pool.forgetSession(b);
  expect((await pool.workerStats()).cachedSessions).toBe(before.cachedSessions - 2);
});

test('error: a full queue is refused at once as overloaded', async () => {
  const busy = run(100); // occupies the only worker
  const queued = run(1); // fills the queue (maxQueue 1)
  expect(pool.queueSize).toBe(1);
  const refused = await run(1).catch((e: unknown) => e);
  expect(toVeilError(refused).code).toBe('overloaded');
  await Promise.all([busy, queued]);
});

test('a request handed to a worker that is retiring after a SEAL abort runs on a fresh worker, never on the broken runtime', async () => {
  // A valid ciphertext cut short aborts SEAL's WASM runtime inside loadCiphertext (fuzz: Fhe.Predict, bench/results/fuzz.md).
  const truncated = group.map((ct) => ct.subarray(0, Math.floor(ct.byteLength * 0.7)));
  for (let round = 0; round < 3; round++) {
    const starts = pool.workerStarts;
    // Submitted together: the innocent request is queued behind the aborting one and handed to the same worker the
    // moment the abort has been answered, before that worker has exited.
    const aborting = pool.predict({ planKey: 'lr', session: 1, keys, groups: [truncated] }).catch((e: unknown) => e);
    const innocent = run(1).then((r) => ({ result: r, startsAtAnswer: pool.workerStarts }), (e: unknown) => ({ error: toVeilError(e).code }));
    expect(toVeilError(await aborting).code).toBe('invalid_ciphertext');
    const outcome = await innocent;
    // Answered, and by a worker started after the abort (the retiring one never evaluates again).
    expect(outcome).toEqual({ result: expect.objectContaining({ groups: [expect.any(Array)] }), startsAtAnswer: starts + 1 });
  }
});

describe('two workers', () => {
  let pair: FhePool;
  beforeAll(async () => {
    pair = await createFhePool({ plans: { lr: plan }, threads: 2, maxQueue: 8, keyCacheBytes: 64 * 1024 * 1024 });
  });
  afterAll(() => pair?.close());

  test('error: when one chunk of a split request fails, its sibling stops too instead of running on', async () => {
    const junk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff);
    // 2 × 400 groups: the first chunk fails on its first group; the second would take seconds to finish.
    const groups = Array.from({ length: 800 }, (_, i) => (i === 0 ? [junk] : group));
    const err = await pair.predict({ planKey: 'lr', session: 1, keys, groups }).catch((e: unknown) => e);
    expect(toVeilError(err).code).toBe('invalid_ciphertext'); // the real failure, not the sibling's "cancelled"
    // The answer comes only once the sibling has stopped: both workers are free at once, not seconds later.
    expect(pair.idleThreads).toBe(2);
    await run(2, {}, pair);
  });
});

describe('a worker that dies under a task', () => {
  let seam: FhePool;
  let dir: string;
  let flag: string;
  // Worker threads copy the real process's environment; under jest the `process` global is a per-test stand-in.
  const realEnv = (vm.runInThisContext('process') as NodeJS.Process).env;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-retire-'));
    flag = path.join(dir, 'retired');
    realEnv.VEIL_TEST_RETIRE_FLAG = flag;
    const workerFile = path.join(__dirname, '..', '..', 'test', 'support', 'retiring-worker.ts');
    seam = await createFhePool({ plans: {}, threads: 1, maxQueue: 4, keyCacheBytes: 1 << 20, workerFile });
  });
  afterAll(async () => {
    await seam?.close();
    delete realEnv.VEIL_TEST_RETIRE_FLAG;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const on = (planKey: string) => seam.predict({ planKey, session: 1, keys: {}, groups: [[new Uint8Array(1)]] });

  test('a task its worker retired under (another request\'s SEAL abort) runs again on the replacement, and succeeds', async () => {
    const starts = seam.workerStarts;
    const result = await on('retire');
    expect(result.groups).toEqual([]);
    expect(fs.existsSync(flag)).toBe(true); // the first attempt really met a retiring worker
    expect(seam.workerStarts).toBe(starts + 1);
  });

  test('error: a worker crash under a task is unavailable (retryable), not internal, and is not retried', async () => {
    const starts = seam.workerStarts;
    const err = await on('crash').catch((e: unknown) => e);
    expect(toVeilError(err).code).toBe('unavailable');
    expect((await on('ok')).groups).toEqual([]); // the replacement serves
    expect(seam.workerStarts).toBe(starts + 1); // one replacement: the crashing task was not run a second time
  });
});

