/**
 * Error paths free every SEAL object they made (issue #9 point 14). Live objects are counted by wrapping node-seal
 * (test/support/track-seal-objects.ts): every object any node-seal call or getter returns is recorded until its
 * `.delete()`. Failures are real SEAL refusals (a ciphertext at the wrong level) or injected into one SEAL call.
 */
import fs from 'node:fs';
import type { CipherText } from 'node-seal/implementation/cipher-text';
import { BUNDLED_MODELS } from '../models';
import { trackSealObjects, type SealTracker } from '../test/support/track-seal-objects';
import { compileOnnx } from './compile-onnx';
import { createCkksRuntime, type CkksRuntime } from './create-ckks-runtime';
import { createFheClientKeys } from './create-fhe-client-keys';
import { createPlanEvaluator } from './create-plan-evaluator';
import { loadCiphertext } from './load-ciphertext';
import { loadEvaluationKeys } from './load-evaluation-keys';
import { loadSeal } from './load-seal';
import { packInputs } from './pack-inputs';
import { buildMlpModel, randomLayer, seededRandom } from './test-models';
import type { FhePlan } from './fhe-plan';

async function setUp(plan: FhePlan) {
  const tracker = trackSealObjects(await loadSeal());
  const runtime = createCkksRuntime(tracker.seal, plan.spec.params);
  const client = createFheClientKeys(runtime, plan.spec);
  const keys = loadEvaluationKeys(runtime, client.evaluationKeys(), plan.spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const samples = Array.from({ length: 2 }, (_, i) => Float64Array.from({ length: plan.spec.inputSize }, (_, j) => ((i + j) % 7) / 7));
  const inputs = packInputs(plan.spec, samples)[0]!.map((slots) => loadCiphertext(runtime, client.encrypt(slots)));
  const release = () => {
    for (const ct of inputs) ct.delete();
    evaluator.delete();
    keys.delete();
    client.delete();
    runtime.delete();
  };
  return { tracker, runtime, keys, evaluator, inputs, release };
}

/** Runs `fn`, which must throw, and returns the SEAL objects it left alive. */
function leakedBy(tracker: SealTracker, fn: () => unknown): string[] {
  const before = tracker.live().length;
  expect(fn).toThrow();
  return tracker.live().slice(before);
}

/** A ciphertext one level below the top: SEAL refuses to multiply it by a top-level plaintext. */
function lowered(runtime: CkksRuntime, ct: CipherText): CipherText {
  return runtime.evaluator.cipherModSwitchToNext(ct)!;
}

const lr = (options = {}) => compileOnnx(fs.readFileSync(BUNDLED_MODELS['breast-cancer-lr'].file), { name: 'lr', ...options });

test('a successful evaluation leaves only its outputs alive (the harness sees real frees)', async () => {
  const { tracker, keys, evaluator, inputs, release } = await setUp(lr());
  const before = tracker.live().length;
  const outputs = evaluator.evaluate(inputs, keys);
  expect(tracker.live().length).toBe(before + outputs.length);
  for (const o of outputs) o.delete();
  expect(tracker.live().length).toBe(before);
  release();
  expect(tracker.live()).toEqual([]);
});

test('createCkksRuntime frees every wrapper it walks the modulus chain with; delete() frees the rest', async () => {
  const tracker = trackSealObjects(await loadSeal());
  const runtime = createCkksRuntime(tracker.seal, { polyModulusDegree: 4096, coeffModulusBits: [38, 30, 41], scaleBits: 30 });
  // Held on purpose while the runtime lives: context, encoder, evaluator and one parms id per level.
  expect(tracker.live().sort()).toEqual(['CKKSEncoder', 'Context', 'Evaluator', 'parmsId', 'parmsId']);
  runtime.delete();
  expect(tracker.live()).toEqual([]);
});

test('error: blocks evaluator — a later input that fails does not strand the earlier input\'s result', async () => {
  const base = lr();
  const plan: FhePlan = { ...base, spec: { ...base.spec, inputCiphertexts: 2 } }; // two independent inputs per group
  const { tracker, runtime, keys, inputs, release } = await setUp(base);
  const bad = lowered(runtime, inputs[0]!);
  const twoInputs = createPlanEvaluator(runtime, plan);
  expect(leakedBy(tracker, () => twoInputs.evaluate([inputs[0]!, bad], keys))).toEqual([]);
  twoInputs.delete();
  bad.delete();
  release();
});

test('error: blocks evaluator — a failure inside an activation frees that step\'s ciphertext', async () => {
  const rand = seededRandom(5);
  const plan = compileOnnx(buildMlpModel([randomLayer(rand, 3, 4), randomLayer(rand, 2, 3)], { activation: 'square' }), { name: 'square' });
  expect(plan.ops.some((op) => op.kind === 'square')).toBe(true);
  const { tracker, keys, evaluator, inputs, release } = await setUp(plan);
  tracker.failNext('relinearize');
  expect(leakedBy(tracker, () => evaluator.evaluate(inputs, keys))).toEqual([]);
  release();
});

test('error: feature-major evaluator — a failure inside a cubic activation frees its intermediates', async () => {
  const rand = seededRandom(9);
  const bytes = buildMlpModel([randomLayer(rand, 3, 4), randomLayer(rand, 2, 3)], { activation: { poly: [0.1, 0.5, 0.2, 0.05] } });
  const plan = compileOnnx(bytes, { name: 'cubic', layout: 'feature-major' });
  expect(plan.ops.some((op) => op.kind === 'poly' && op.coeffs.length === 4)).toBe(true);
  const { tracker, keys, evaluator, inputs, release } = await setUp(plan);

  tracker.failNext('multiply');
  expect(leakedBy(tracker, () => evaluator.evaluate(inputs, keys))).toEqual([]);
  release();
}, 60_000);
