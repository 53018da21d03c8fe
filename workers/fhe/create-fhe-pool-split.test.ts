/**
 * createFhePool with one ciphertext group and two idle workers: both evaluate it (fhe/split-linear-terms.ts), and the
 * client decrypts the same logits as from one worker's unsplit evaluation; a bad input still fails as the client's.
 */
import fs from 'node:fs';
import { compileOnnx, createCkksRuntime, createFheClientKeys, FHE_VARIANTS, loadSeal, packInputs, unpackOutputs, type FheClientKeys, type FhePlan } from '../../fhe';
import { toVeilError } from '../../gateway/errors';
import { BUNDLED_MODELS, loadDataset } from '../../models';
import { createFhePool, type FhePool } from './create-fhe-pool';
import type { SharedSessionKeys } from './fhe-task-types';

let pool: FhePool;
let plan: FhePlan;
let client: FheClientKeys;
let keys: SharedSessionKeys;
let group: Uint8Array[];
const release: (() => void)[] = [];

beforeAll(async () => {
  plan = compileOnnx(fs.readFileSync(BUNDLED_MODELS['digits-mlp'].file), { name: 'digits-mlp', ...FHE_VARIANTS.blocks });
  pool = await createFhePool({ plans: { mlp: plan }, threads: 2, maxQueue: 8, keyCacheBytes: 256 * 1024 * 1024, splitSingleGroups: 'always' });
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  client = createFheClientKeys(runtime, plan.spec);
  release.push(() => client.delete(), () => runtime.delete());
  const evaluation = client.evaluationKeys();
  keys = {};
  for (const kind of ['galoisKeys', 'relinKeys'] as const) {
    const bytes = evaluation[kind];
    if (!bytes) continue;
    keys[kind] = new SharedArrayBuffer(bytes.byteLength);
    new Uint8Array(keys[kind]!).set(bytes);
  }
  const { test } = loadDataset('digits');
  group = packInputs(plan.spec, test.features.slice(0, 3))[0]!.map((slots) => client.encrypt(slots));
}, 120_000);

afterAll(async () => {
  await pool?.close();
  for (const r of release) r();
});

const logits = (bytes: Uint8Array) => unpackOutputs(plan.spec, [client.decrypt(bytes)], 3);

test('one group on two idle workers is split between them and decrypts to the unsplit logits', async () => {
  const split = await pool.predict({ planKey: 'mlp', session: 1, keys, groups: [group] });
  expect(split.splitInto).toBe(2);
  // Two groups: one per worker, each evaluated whole.
  const whole = await pool.predict({ planKey: 'mlp', session: 1, keys, groups: [group, group] });
  expect(whole.splitInto).toBeUndefined();
  const got = logits(split.groups[0]![0]!);
  const want = logits(whole.groups[0]![0]!);
  let maxAbs = 0;
  got.forEach((g, i) => g.forEach((v, j) => {
    expect(Math.abs(v - want[i]![j]!)).toBeLessThan(2 ** -12);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }));
  expect(maxAbs).toBeGreaterThan(1);
}, 60_000);

test('error: a malformed ciphertext in a split call is refused as the client\'s (invalid_ciphertext), and the pool keeps serving', async () => {
  const err = await pool.predict({ planKey: 'mlp', session: 1, keys, groups: [[group[0]!.subarray(0, 100)]] }).catch((e: unknown) => e);
  expect(toVeilError(err).code).toBe('invalid_ciphertext');
  expect((await pool.predict({ planKey: 'mlp', session: 1, keys, groups: [group] })).groups).toHaveLength(1);
}, 60_000);

test('error: a cancelled split call stops (cancelled)', async () => {
  const controller = new AbortController();
  const call = pool.predict({ planKey: 'mlp', session: 1, keys, groups: [group], signal: controller.signal });
  controller.abort();
  expect(toVeilError(await call.catch((e: unknown) => e)).code).toBe('cancelled');
}, 60_000);
