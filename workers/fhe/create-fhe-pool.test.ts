/**
 * The FHE pool against real node-seal workers: deadlines and cancellation reach the running task (and the
 * warm worker survives them), a failing chunk stops its siblings, closed sessions leave every worker's key cache,
 * and a full queue is refused at once rather than growing without bound.
 */
import fs from 'node:fs';
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
