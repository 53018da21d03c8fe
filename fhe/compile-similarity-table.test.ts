import {
  compileSimilarityTable, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FheCompileError, FheInputError,
  loadCiphertext, loadEvaluationKeys, loadSeal, packInputs, protectDecryptedOutputs, topK, unpackOutputs,
} from './index';
import type { CkksRuntime, FhePlan } from './index';
import { seededRandom } from './test-models';

const rand = seededRandom(7);
// seededRandom is uniform on [-1, 1); Box–Muller needs u in (0, 1].
const unit = () => 1 - (rand() + 1) / 2;
const gauss = () => Math.sqrt(-2 * Math.log(unit())) * Math.cos(2 * Math.PI * unit());
const ROWS = 5000; // two result ciphertexts at N=8192 (4,096 rows each), the last one partial
const DIMS = 48; // padded to a period of 64: the zero gap must not leak into scores
const values = Float64Array.from({ length: ROWS * DIMS }, gauss);

function plainScores(query: ArrayLike<number>, rows: Float64Array, dims: number): Float64Array {
  return Float64Array.from({ length: rows.length / dims }, (_, r) => {
    let norm = 0;
    let dot = 0;
    for (let j = 0; j < dims; j++) {
      norm += rows[r * dims + j]! ** 2;
      dot += rows[r * dims + j]! * query[j]!;
    }
    return dot / Math.sqrt(norm);
  });
}

let plan: FhePlan;
let runtime: CkksRuntime;
beforeAll(async () => {
  plan = compileSimilarityTable({ values, rows: ROWS, dims: DIMS }, { normalize: true });
  runtime = createCkksRuntime(await loadSeal(), plan.spec.params);
});
afterAll(() => runtime.delete());

describe('compileSimilarityTable', () => {
  test('packs rows over ⌈rows / (N/2)⌉ ciphertexts with one Galois key and p − 1 rotations', () => {
    const { spec } = plan;
    const S = spec.params.polyModulusDegree / 2;
    expect(spec.stats.depth).toBe(1);
    expect(spec.layout).toEqual({ kind: 'table-rows', inputPeriod: 64, rowsPerCiphertext: S });
    expect(spec.outputCiphertexts).toBe(Math.ceil(ROWS / S));
    expect(spec.outputCiphertexts).toBeGreaterThan(1);
    expect(spec.galoisSteps).toEqual([1]);
    expect(spec.stats.rotations).toBe(63);
  });

  test('encrypted scores match plaintext within 1e-3: same top-1, top-10 up to near-ties', () => {
    const keys = createFheClientKeys(runtime, plan.spec);
    const ek = loadEvaluationKeys(runtime, keys.evaluationKeys(), plan.spec);
    const ev = createPlanEvaluator(runtime, plan);
    try {
      for (let q = 0; q < 4; q++) {
        const raw = Array.from({ length: DIMS }, gauss);
        const n = Math.hypot(...raw);
        const query = raw.map((v) => v / n);
        const [group] = packInputs(plan.spec, [query]);
        const input = loadCiphertext(runtime, keys.encrypt(group![0]!));
        const outs = ev.evaluate([input], ek);
        input.delete();
        const slots = outs.map((ct) => {
          const bytes = ct.saveArray(runtime.seal.ComprModeType.none);
          ct.delete();
          return protectDecryptedOutputs(keys.decrypt(bytes));
        });
        const [scores] = unpackOutputs(plan.spec, slots, 1);
        const expected = plainScores(query, values, DIMS);
        let maxErr = 0;
        for (let r = 0; r < ROWS; r++) maxErr = Math.max(maxErr, Math.abs(scores![r]! - expected[r]!));
        expect(maxErr).toBeLessThan(1e-3);
        expect(topK(scores!, 1)).toEqual(topK(expected, 1));
        // Scores are flooded and rounded to 2^-12 on decryption, so rows whose true scores differ by less than that
        // may swap at rank 10; anything returned must be within 2·maxErr of the true 10th score.
        const truth = topK(expected, 10);
        const tenth = expected[truth[9]!]!;
        const got = topK(scores!, 10);
        expect(got.filter((i) => truth.includes(i)).length).toBeGreaterThanOrEqual(9);
        for (const i of got) expect(expected[i]!).toBeGreaterThanOrEqual(tenth - 2 * maxErr);
      }
    } finally {
      ev.delete();
      ek.delete();
      keys.delete();
    }
  });

  test('a query of the wrong dimension is refused, naming both counts', () => {
    expect(() => packInputs(plan.spec, [new Float64Array(DIMS + 1)])).toThrow(new FheInputError('invalid_input', `sample 0 has ${DIMS + 1} features; the model expects ${DIMS}`));
  });

  test('evaluation without the Galois key is refused as invalid_keys', () => {
    const ev = createPlanEvaluator(runtime, plan);
    const keys = createFheClientKeys(runtime, plan.spec);
    const input = loadCiphertext(runtime, keys.encrypt(packInputs(plan.spec, [new Float64Array(DIMS).fill(0.1)])[0]![0]!));
    try {
      expect(() => ev.evaluate([input], {})).toThrow(FheInputError);
    } finally {
      input.delete();
      keys.delete();
      ev.delete();
    }
  });

  test.each([
    [{ values: new Float64Array(10), rows: 3, dims: 4 }, {}, 'the table has 10 values; 3 rows × 4 dims need 12'],
    [{ values: [1, Number.NaN, 0, 1], rows: 2, dims: 2 }, {}, 'row 0 dimension 1 is not a finite number'],
    [{ values: [1, 0, 0, 0], rows: 2, dims: 2 }, { normalize: true }, 'row 1 is all zeros and has no direction to normalise'],
    [{ values: [], rows: 0, dims: 2 }, {}, 'the table needs at least one row (got 0)'],
    [{ values: new Float64Array(65536), rows: 1, dims: 65536 }, {}, /^65536 dimensions exceed the \d+ slots of a ciphertext$/],
  ])('malformed table %#: clear error', (table, options, message) => {
    const run = () => compileSimilarityTable(table, options);
    expect(run).toThrow(FheCompileError);
    expect(run).toThrow(message);
  });
});

describe('topK', () => {
  test('best first, ties by lower index, k larger than the list', () => {
    expect(topK([0.1, 0.9, 0.5, 0.9, -1], 3)).toEqual([1, 3, 2]);
    expect(topK([2, 1], 5)).toEqual([0, 1]);
    expect(() => topK([1], 0)).toThrow(RangeError);
  });
});
