import { createCkksRuntime } from './create-ckks-runtime';
import { createFheClientKeys } from './create-fhe-client-keys';
import { createPlanEvaluator } from './create-plan-evaluator';
import type { FhePlan } from './fhe-plan';
import { loadCiphertext } from './load-ciphertext';
import { loadEvaluationKeys } from './load-evaluation-keys';
import { loadSeal } from './load-seal';
import { packInputs } from './pack-inputs';

export type MeasureBarePlanOptions = {
  /** Timed evaluations per case (after one warm-up). Default 10. */
  iterations?: number;
  /** Inputs to evaluate; default: uniform random features in [−1, 1). */
  samples?: number[][];
};

export type LatencySummary = { p50Ms: number; p95Ms: number; meanMs: number; runs: number };

export type MeasureBarePlanResult = {
  polyModulusDegree: number;
  batchCapacity: number;
  /** One batch group holding one sample: loadArray(seeded upload) → evaluate → saveArray(none). */
  single: LatencySummary;
  /** Same for a ciphertext holding batchCapacity samples (the work is identical; only the useful payload differs). */
  fullBatch: LatencySummary;
  samplesPerSecond: number;
  rotations: number;
  minRotations: number;
  keyBytes: { galois: number; relin: number; total: number; perGaloisStep: number; powerOfTwoSetEstimate: number };
  /** Bytes of one batch group: seeded upload (all input ciphertexts) and uncompressed result. */
  ciphertextBytes: { upload: number; download: number };
  setupMs: { context: number; keygen: number; loadKeys: number; encodePlan: number };
};

function summarise(times: number[]): LatencySummary {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50Ms: q(0.5), p95Ms: q(0.95), meanMs: s.reduce((a, b) => a + b, 0) / s.length, runs: s.length };
}

/**
 * Bare single-thread cost of a plan in node-seal, measured the way a worker pays it (including deserialising the
 * client's seeded ciphertext and serialising the result). Shared by `bench/fhe-plan.ts`, `veil fhe check` and the
 * gateway bench (serving-overhead ratio = end-to-end latency / `single.p50Ms`).
 *
 * @example
 * const r = await measureBarePlan(compileOnnx(bytes), { iterations: 20 });
 * console.log(r.single.p50Ms, r.samplesPerSecond);
 */
export async function measureBarePlan(plan: FhePlan, options: MeasureBarePlanOptions = {}): Promise<MeasureBarePlanResult> {
  const { spec } = plan;
  const iterations = options.iterations ?? 10;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const samples = options.samples ?? Array.from({ length: Math.min(spec.batchCapacity, 256) }, () => Array.from({ length: spec.inputSize }, rand));
  const seal = await loadSeal();
  let t = performance.now();
  const runtime = createCkksRuntime(seal, spec.params);
  const contextMs = performance.now() - t;
  t = performance.now();
  const keys = createFheClientKeys(runtime, spec);
  const keyBytes = keys.evaluationKeys();
  const keygenMs = performance.now() - t;
  t = performance.now();
  const evalKeys = loadEvaluationKeys(runtime, keyBytes, spec);
  const loadKeysMs = performance.now() - t;
  t = performance.now();
  const evaluator = createPlanEvaluator(runtime, plan);
  const encodePlanMs = performance.now() - t;
  try {
    const encryptGroup = (group: number[][]) => packInputs(spec, group)[0]!.map((slots) => keys.encrypt(slots));
    const single = encryptGroup(samples.slice(0, 1));
    const full = encryptGroup(Array.from({ length: spec.batchCapacity }, (_, i) => samples[i % samples.length]!));
    let download = 0;
    const run = (bytes: Uint8Array[]) => {
      const start = performance.now();
      const cts = bytes.map((b) => loadCiphertext(runtime, b));
      const outs = evaluator.evaluate(cts, evalKeys);
      download = 0;
      for (const out of outs) {
        download += out.saveArray(seal.ComprModeType.none).length;
        out.delete();
      }
      for (const ct of cts) ct.delete();
      return performance.now() - start;
    };
    const time = (bytes: Uint8Array[]) => {
      run(bytes);
      return summarise(Array.from({ length: iterations }, () => run(bytes)));
    };
    const singleStats = time(single);
    const fullStats = time(full);
    const galois = keyBytes.galoisKeys?.length ?? 0;
    const relin = keyBytes.relinKeys?.length ?? 0;
    const perStep = spec.galoisSteps.length ? galois / spec.galoisSteps.length : 0;
    const slots = spec.params.polyModulusDegree / 2;
    // SEAL's default createGaloisKeys(): ±2^i for i < log2(slots), minus the duplicate at slots/2 → 2·log2(slots) − 1 keys.
    const powerOfTwoKeys = 2 * Math.log2(slots) - 1;
    return {
      polyModulusDegree: spec.params.polyModulusDegree,
      batchCapacity: spec.batchCapacity,
      single: singleStats,
      fullBatch: fullStats,
      samplesPerSecond: (spec.batchCapacity * 1000) / fullStats.p50Ms,
      rotations: spec.stats.rotations,
      minRotations: spec.stats.minRotations,
      keyBytes: { galois, relin, total: galois + relin, perGaloisStep: Math.round(perStep), powerOfTwoSetEstimate: Math.round(perStep * powerOfTwoKeys) },
      ciphertextBytes: { upload: single.reduce((a, b) => a + b.length, 0), download },
      setupMs: { context: contextMs, keygen: keygenMs, loadKeys: loadKeysMs, encodePlan: encodePlanMs },
    };
  } finally {
    evaluator.delete();
    evalKeys.delete();
    keys.delete();
    runtime.delete();
  }
}
