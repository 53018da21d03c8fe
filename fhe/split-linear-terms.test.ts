import fs from 'node:fs';
import path from 'node:path';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FHE_VARIANTS, loadCiphertext, loadEvaluationKeys, loadSeal,
  packInputs, unpackOutputs, type FhePlan,
} from './index';
import { planSplitStages, splitLinearTerms } from './split-linear-terms';
import type { FheLinearOp } from './fhe-plan';
import { seededRandom } from './test-models';

const models = path.join(__dirname, '..', 'models');

function linear(babySteps: number[], groups: number[][]): FheLinearOp {
  return {
    kind: 'linear', name: 'x', op: 'Gemm', babySteps, sumSteps: [], bias: null, rescale: true, plainScaleBits: 20,
    groups: groups.map((bs, g) => ({ giantStep: g * 8, terms: bs.map((babyStep) => ({ babyStep, values: new Float64Array(1) })) })),
  };
}

describe('splitLinearTerms', () => {
  test('every term lands in exactly one part, on the axis with the cheaper slowest part', () => {
    // 8 baby steps × 4 groups: splitting the groups leaves 7 baby rotations per part; splitting the baby steps, 3–4.
    const op = linear([1, 2, 3, 4, 5, 6, 7], Array.from({ length: 4 }, () => [0, 1, 2, 3, 4, 5, 6, 7]));
    const split = splitLinearTerms(op, 2)!;
    expect(split.parts.map((p) => p.axis)).toEqual(['baby', 'baby']);
    const seen = new Map<string, number>();
    op.groups.forEach((g, gi) => g.terms.forEach((t) => {
      for (const p of split.parts) if (p.items.has(p.axis === 'giant' ? gi : t.babyStep)) seen.set(`${gi}/${t.babyStep}`, (seen.get(`${gi}/${t.babyStep}`) ?? 0) + 1);
    }));
    expect(seen.size).toBe(32);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(split.cost).toBeLessThan(split.unsplitCost - 2);
  });

  test('one group with one baby step cannot be split; few baby steps and many groups split by group', () => {
    expect(splitLinearTerms(linear([], [[0]]), 2)).toBeUndefined();
    expect(splitLinearTerms(linear([1], Array.from({ length: 8 }, () => [0, 1])), 2)!.parts[0]!.axis).toBe('giant');
  });
});

/** What the pool does with `parts` workers: every stage's parts evaluated apart, their partial sums serialised and resumed. */
async function compareSplit(plan: FhePlan, parts: number): Promise<{ stages: number[]; maxDiff: number; maxAbs: number }> {
  const runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
  const keys = createFheClientKeys(runtime, plan.spec);
  const evalKeys = loadEvaluationKeys(runtime, keys.evaluationKeys(), plan.spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const none = runtime.seal.ComprModeType.none;
  const load = (bytes: Uint8Array) => {
    const ct = runtime.seal.CipherText();
    ct.loadArray(runtime.context, bytes);
    return ct;
  };
  try {
    // Digit-like images (pixels 0..16), one batch group's worth.
    const rand = seededRandom(5);
    const samples = Array.from({ length: plan.spec.batchCapacity }, () => Array.from({ length: plan.spec.inputSize }, () => Math.round((rand() + 1) * 8)));
    const input = loadCiphertext(runtime, keys.encrypt(packInputs(plan.spec, samples)[0]![0]!));
    const whole = evaluator.evaluate([input], evalKeys)[0]!;
    const want = unpackOutputs(plan.spec, [keys.decrypt(whole.saveArray(none))], samples.length);
    whole.delete();

    const stages = planSplitStages(plan, parts);
    let carried = [input.saveArray(none)];
    let resumeAfter: number | undefined;
    for (const stopAt of stages) {
      carried = Array.from({ length: parts }, (_, index) => {
        const cts = carried.map((b) => (resumeAfter === undefined ? loadCiphertext(runtime, b) : load(b)));
        const out = evaluator.evaluateStage!(cts, evalKeys, { resumeAfter, stopAt, part: { index, count: parts } });
        for (const ct of cts) ct.delete();
        const bytes = out.saveArray(none);
        out.delete();
        return bytes;
      });
      resumeAfter = stopAt;
    }
    const cts = carried.map(load);
    const out = evaluator.evaluateStage!(cts, evalKeys, { resumeAfter });
    for (const ct of cts) ct.delete();
    const got = unpackOutputs(plan.spec, [keys.decrypt(out.saveArray(none))], samples.length);
    out.delete();
    input.delete();
    let maxDiff = 0;
    let maxAbs = 0;
    want.forEach((w, i) => w.forEach((v, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - got[i]![j]!));
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }));
    return { stages, maxDiff, maxAbs };
  } finally {
    evaluator.delete();
    evalKeys.delete();
    keys.delete();
    runtime.delete();
  }
}

describe('a group evaluated in parts decrypts to the unsplit result', () => {
  test.each([
    ['digits-mlp', 'blocks', 2],
    ['digits-mlp', 'expanded', 2],
    ['digits-cnn', 'blocks', 2],
    ['digits-mlp', 'blocks', 3],
  ] as const)('%s / %s over %i parts', async (model, variant, parts) => {
    const plan = compileOnnx(fs.readFileSync(path.join(models, `${model}.onnx`)), { name: model, ...FHE_VARIANTS[variant] });
    const { stages, maxDiff, maxAbs } = await compareSplit(plan, parts);
    expect(stages.length).toBeGreaterThan(0);
    // Logits reach tens; CKKS noise of a different summation order is far below the SDK's 2^-12 output grid.
    expect(maxAbs).toBeGreaterThan(1);
    expect(maxDiff).toBeLessThan(2 ** -12);
  }, 120_000);
});
