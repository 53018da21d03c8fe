/**
 * Calibrated non-polynomial activations under CKKS: `node bin/run-ts.cjs bench/fhe-activations.ts`.
 * Writes bench/results/fhe-activations.json and .md.
 *
 * For digits-relu-mlp (two Relus, compiled against its committed calibration, blocks layout): every digits test row
 * encrypted, evaluated in-process on one thread and decrypted; accuracy vs plaintext onnxruntime and vs the plan's
 * plaintext simulation; per activation the ranges, degree, levels, approximation error and inputs outside the
 * calibrated range on the test split; single-sample and full-group latency; key and ciphertext bytes. Then the
 * depth budget sweep: degrees, ring and simulated accuracy per budget (plaintext only, cheap).
 * Through-the-gateway numbers (gRPC, SDK, 2 workers) come from test/fhe-digits-relu-mlp.test.ts.
 */
import fs from 'node:fs';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, loadCiphertext, loadEvaluationKeys, loadSeal,
  measureApproximations, packInputs, simulatePlan, unpackOutputs, type FhePlan,
} from '../fhe';
import { argmax, BUNDLED_MODELS, loadDigits, readModelCalibration, runOnnxModel } from '../models';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const MODEL = 'digits-relu-mlp';

function simulate(plan: FhePlan, rows: ArrayLike<number>[]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const [g, group] of packInputs(plan.spec, rows).entries()) {
    out.push(...unpackOutputs(plan.spec, simulatePlan(plan, group), Math.min(plan.spec.batchCapacity, rows.length - g * plan.spec.batchCapacity)));
  }
  return out;
}

async function main(): Promise<void> {
  const entry = BUNDLED_MODELS[MODEL];
  const bytes = fs.readFileSync(entry.file);
  const calibration = readModelCalibration(entry.calibration, bytes)!;
  const { train, test } = loadDigits();
  const plan = compileOnnx(bytes, { name: MODEL, calibration });
  const { spec } = plan;
  const accuracy = (logits: ArrayLike<number>[]) => logits.filter((l, i) => argmax(l) === test.labels[i]).length / test.labels.length;

  const plain = await runOnnxModel(bytes, 'x', 'logits', test.features);
  const simulated = simulate(plan, test.features);

  const seal = await loadSeal();
  let t = performance.now();
  const runtime = createCkksRuntime(seal, spec.params);
  const client = createFheClientKeys(runtime, spec);
  const keyBytes = client.evaluationKeys();
  const keys = loadEvaluationKeys(runtime, keyBytes, spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const setupMs = performance.now() - t;
  const serve = (ct: Uint8Array[]) => {
    const start = performance.now();
    const inputs = ct.map((b) => loadCiphertext(runtime, b));
    const outputs = evaluator.evaluate(inputs, keys);
    const result = outputs.map((o) => o.saveArray(seal.ComprModeType.none));
    for (const c of [...inputs, ...outputs]) c.delete();
    return { ms: performance.now() - start, result };
  };
  const encrypted: Float64Array[] = [];
  const groupMs: number[] = [];
  let uploadBytes = 0;
  let resultBytes = 0;
  try {
    for (const [g, group] of packInputs(spec, test.features).entries()) {
      const upload = group.map((slots) => client.encrypt(slots));
      uploadBytes = upload.reduce((a, b) => a + b.length, 0);
      const { ms, result } = serve(upload);
      resultBytes = result.reduce((a, b) => a + b.length, 0);
      groupMs.push(ms);
      encrypted.push(...unpackOutputs(spec, result.map((r) => client.decrypt(r)), Math.min(spec.batchCapacity, test.features.length - g * spec.batchCapacity)));
      console.error(`group ${g + 1}: ${ms.toFixed(0)} ms`);
    }
    const single = packInputs(spec, test.features.slice(0, 1))[0]!.map((slots) => client.encrypt(slots));
    const singleMs = Array.from({ length: 5 }, () => serve(single).ms);

    let maxVsPlan = 0;
    encrypted.forEach((e, i) => e.forEach((v, j) => (maxVsPlan = Math.max(maxVsPlan, Math.abs(v - simulated[i]![j]!)))));
    const agreement = encrypted.filter((e, i) => argmax(e) === argmax(plain[i]!)).length / test.labels.length;
    const onTest = measureApproximations(bytes, plan, test.features);
    const onTrain = measureApproximations(bytes, plan, train.features);

    // Depth budget sweep (plaintext simulation only).
    const sweep = [7, 9, 11, 13, 15].map((maxDepth) => {
      const p = compileOnnx(bytes, { name: MODEL, calibration, maxDepth });
      return {
        maxDepth, depth: p.spec.stats.depth, N: p.spec.params.polyModulusDegree, degrees: p.approximations!.map((a) => a.degree).join(' / '),
        simulatedAccuracy: accuracy(simulate(p, test.features)), keyMB: (p.spec.stats.keyBytes ?? 0) / 1e6,
      };
    });

    const result = {
      machine: machineInfo(),
      model: MODEL,
      calibration: { rows: calibration.rows, source: calibration.source, margin: calibration.margin },
      params: spec.params, depth: spec.stats.depth, batchCapacity: spec.batchCapacity, rotations: spec.stats.rotations, ciphertextMultiplies: spec.stats.ciphertextMultiplies,
      testRows: test.labels.length,
      plaintextAccuracy: accuracy(plain), simulatedAccuracy: accuracy(simulated), fheAccuracy: accuracy(encrypted), fheTop1AgreementWithOnnx: agreement,
      maxAbsEncryptedVsPlan: maxVsPlan,
      activations: onTest.map((a, i) => ({ ...a, calibrationMaxError: onTrain[i]!.maxError, calibrationMeanError: onTrain[i]!.meanError })),
      latencyMs: { singleP50: percentile(singleMs, 0.5), groupP50: percentile(groupMs, 0.5), samplesPerSecondOneThread: (spec.batchCapacity * 1000) / percentile(groupMs, 0.5) },
      setupMs,
      keyBytes: { galois: keyBytes.galoisKeys?.length ?? 0, relin: keyBytes.relinKeys?.length ?? 0 },
      ciphertextBytes: { uploadPerGroup: uploadBytes, resultPerGroup: resultBytes },
      sweep,
    };
    const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
    const m = result.machine;
    const md = [
      '# FHE: calibrated non-polynomial activations (digits-relu-mlp)',
      '',
      `${m.date}, ${m.cpu} ×${m.cores}, Node ${m.node}. In-process, one thread; ${MODEL} compiled (blocks layout) against its committed calibration (${calibration.source}, margin ${calibration.margin * 100} %).`,
      '',
      markdownTable([{
        'test rows': result.testRows, 'plaintext onnxruntime': pct(result.plaintextAccuracy), 'approximated plan (simulated)': pct(result.simulatedAccuracy),
        'FHE (encrypted)': pct(result.fheAccuracy), 'Δ FHE − plaintext': `${round((result.fheAccuracy - result.plaintextAccuracy) * 100, 2)} points`,
        'FHE top-1 agreement with onnxruntime': pct(agreement), 'max |encrypted − plan|': maxVsPlan.toExponential(2),
      }]),
      '',
      markdownTable(result.activations.map((a) => ({
        activation: `${a.name} (${a.op})`, observed: `[${round(a.observed[0], 3)}, ${round(a.observed[1], 3)}]`, fitted: `[${round(a.fitted[0], 3)}, ${round(a.fitted[1], 3)}]`,
        degree: a.degree, levels: a.levels, 'max / mean error (calibration rows)': `${a.calibrationMaxError.toExponential(2)} / ${a.calibrationMeanError.toExponential(2)}`,
        'max / mean error (test rows)': `${a.maxError.toExponential(2)} / ${a.meanError.toExponential(2)}`,
        'test inputs outside fitted / in margin': `${a.outsideFitted} / ${a.outsideObserved} of ${a.values}`,
      }))),
      '',
      `CKKS N=${spec.params.polyModulusDegree}, modulus [${spec.params.coeffModulusBits.join(', ')}], scale 2^${spec.params.scaleBits}, depth ${spec.stats.depth}, ${spec.stats.rotations} rotations, ${spec.stats.ciphertextMultiplies} ct×ct per group, ${spec.batchCapacity} samples per ciphertext.`,
      `Latency (load + plan + save): single sample p50 ${round(result.latencyMs.singleP50, 0)} ms, full group p50 ${round(result.latencyMs.groupP50, 0)} ms → ${round(result.latencyMs.samplesPerSecondOneThread, 1)} samples/s/thread.`,
      `Keys ${round(result.keyBytes.galois / 1e6, 1)} MB Galois + ${round(result.keyBytes.relin / 1e6, 1)} MB relin (seeded); upload ${round(uploadBytes / 1e6, 2)} MB / result ${round(resultBytes / 1e3, 1)} KB per group; keygen + plan encode ${round(setupMs / 1e3, 1)} s.`,
      '',
      '## Depth budget sweep (plaintext simulation of the approximated plan)',
      '',
      markdownTable(sweep.map((s) => ({ 'max depth': s.maxDepth, depth: s.depth, N: s.N, 'Relu degrees': s.degrees, 'simulated test accuracy': pct(s.simulatedAccuracy), 'key MB (estimate)': round(s.keyMB, 0) }))),
      '',
    ].join('\n');
    writeBenchReport('fhe-activations', result, md);
  } finally {
    evaluator.delete();
    keys.delete();
    client.delete();
    runtime.delete();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
