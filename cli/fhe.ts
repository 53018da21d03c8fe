/**
 * `veil fhe check MODEL.onnx [--samples N | --input FILE.csv] [--calibrate F.csv | --calibration C.json] [--json]`:
 * compile an ONNX model to a CKKS plan, print the plan, run encrypted inference in-process and compare it with
 * plaintext onnxruntime on the logits model. Models with non-polynomial activations (Relu, GELU…) are compiled
 * against a calibration (measured from --calibrate rows, read from --calibration, or MODEL.calibration.json beside
 * the model) and the report adds, per activation, ranges, degree, depth, approximation error and out-of-range inputs.
 *
 * CSV input: one sample per row, exactly `inputSize` numeric columns (the model's features, in order), comma-separated,
 * an optional header line of column names; read by Veil's one CSV rule (`readNumericCsv` in models/).
 *
 * Exit codes: 0 ok, 1 the model cannot compile, 2 usage error (flags, unreadable files, bad CSV),
 * 3 compiled but the encrypted result differs from plaintext by more than --tolerance (default 1e-3; for approximated
 * models the comparison is with the plan's own plaintext simulation, the approximation error is reported separately).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { writeFileSync } from 'node:fs';
import {
  calibrateActivations, compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FheCompileError, loadCiphertext, loadEvaluationKeys,
  FHE_VARIANTS, isFheVariant, loadSeal, logitsModel, measureApproximations, packInputs, parseCalibration, simulatePlan, unpackOutputs,
} from '../fhe';
import type { ActivationCheck, FheCalibration, FhePlan } from '../fhe';
import { calibrationBeside, DatasetError, formatCalibration, readModelCalibration, readNumericCsv } from '../models';
import { readOnnxModel } from '../onnx';

export const summary = 'FHE model tools (veil fhe check MODEL.onnx)';

const USAGE = `usage: veil fhe check MODEL.onnx [--samples N | --input FILE.csv] [--layout L] [--expand-input] [--json]

Compiles the model to a CKKS plan, prints it (layers, depth, parameters, rotations vs minimum, key sizes, batch
capacity), then encrypts N random inputs (default 16, features uniform in [-1, 1)) or the CSV rows, evaluates the
plan in-process and compares the decrypted logits with onnxruntime on the same model minus its final
Sigmoid/Softmax/ArgMax.

options:
  --samples N        random inputs to check (default 16)
  --input FILE.csv   inputs from a CSV file: one row per sample, exactly inputSize numeric columns, optional
                     header line of column names; no quotes, no empty cells
  --variant V        a gateway variant: blocks (default), expanded or feature-major (same as the layout flags below)
  --layout L         replicated-blocks (default: one ciphertext per group of samples, lowest latency) or
                     feature-major (one ciphertext per feature over N/2 samples, no rotations, highest throughput)
  --expand-input     replicated-blocks: the client also sends the first layer's input shifts (fewer samples per
                     ciphertext, no top-level rotation: lowest single-sample latency)
  --calibrate F.csv  measure the input range of every non-polynomial activation (Relu, Sigmoid, Tanh, GELU, SiLU,
                     LeakyRelu, Softplus) on these rows (same format as --input), fit the approximations, and report
                     them on all rows; without --input the encrypted check runs on the first --samples of these rows
  --calibration C    a stored calibration JSON (default: MODEL.calibration.json beside the model, if present)
  --write-calibration  with --calibrate: save the calibration as MODEL.calibration.json beside the model
  --labels L.csv     one integer class per row of the checked rows (--input, else --calibrate): adds accuracy
  --max-depth D      depth budget for the activation approximations (default 11: N=16384)
  --repeat N         timed single-sample evaluations for the latency (default 5)
  --tolerance X      max |encrypted − plaintext| accepted (default 1e-3)
  --json             print one JSON object
  -h, --help         show this help

Exit codes: 0 ok, 1 cannot compile, 2 usage error, 3 error above tolerance.`;

export type FheCheckResult = {
  compiled: boolean;
  error?: string;
  model?: string;
  inputSize?: number;
  outputSize?: number;
  postprocess?: string;
  depth?: number;
  polyModulusDegree?: number;
  coeffModulusBits?: number[];
  scaleBits?: number;
  rotations?: number;
  minRotations?: number;
  galoisSteps?: number[];
  keyBytes?: number;
  galoisKeyBytes?: number;
  relinKeyBytes?: number;
  batchCapacity?: number;
  /** Seeded upload / uncompressed result bytes of one batch group (all its ciphertexts). */
  uploadBytesPerGroup?: number;
  resultBytesPerGroup?: number;
  layers?: FhePlan['spec']['stats']['layers'];
  samples?: number;
  maxAbsError?: number;
  top1Agreement?: number;
  p50Ms?: number;
  p95Ms?: number;
  groupP50Ms?: number;
  samplesPerSecond?: number;
  /** Calibrated activations, measured on the checked rows (all of them, in plaintext). */
  activations?: ActivationCheck[];
  /** Rows the plaintext comparisons below ran on. */
  plaintextRows?: number;
  /** Top-1 agreement of the approximated plan (plaintext simulation) with onnxruntime, over plaintextRows. */
  planTop1Agreement?: number;
  /** With --labels: accuracy of onnxruntime, of the approximated plan (over plaintextRows) and of the encrypted rows. */
  plaintextAccuracy?: number;
  planAccuracy?: number;
  encryptedAccuracy?: number;
  /** Max |encrypted − onnxruntime| (for approximated models `maxAbsError` is against the plan's simulation). */
  maxAbsErrorVsOnnx?: number;
  calibrationRows?: number;
};

class UsageError extends Error {}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        samples: { type: 'string' },
        input: { type: 'string' },
        repeat: { type: 'string' },
        tolerance: { type: 'string' },
        layout: { type: 'string' },
        variant: { type: 'string' },
        'expand-input': { type: 'boolean', default: false },
        calibrate: { type: 'string' },
        calibration: { type: 'string' },
        'write-calibration': { type: 'boolean', default: false },
        labels: { type: 'string' },
        'max-depth': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`veil fhe: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [sub, modelPath, ...extra] = positionals;
  if (sub !== 'check' || !modelPath || extra.length > 0) {
    console.error(`veil fhe: expected "check MODEL.onnx"\n\n${USAGE}`);
    return 2;
  }
  const json = values.json;
  try {
    const count = positiveInt(values.samples, 16, '--samples');
    const repeat = positiveInt(values.repeat, 5, '--repeat');
    const tolerance = values.tolerance === undefined ? 1e-3 : Number(values.tolerance);
    if (!(tolerance > 0)) throw new UsageError('--tolerance must be a positive number');
    if (values.input && values.samples) throw new UsageError('use either --samples or --input, not both');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(modelPath);
    } catch {
      throw new UsageError(`cannot read ${modelPath}`);
    }
    if (values.calibrate && values.calibration) throw new UsageError('use either --calibrate or --calibration, not both');
    if (values['write-calibration'] && !values.calibrate) throw new UsageError('--write-calibration needs --calibrate');
    const maxDepth = values['max-depth'] === undefined ? undefined : positiveInt(values['max-depth'], 0, '--max-depth');
    let plan: FhePlan;
    let calibrationRows: number[][] | undefined;
    try {
      let calibration: FheCalibration | undefined;
      if (values.calibrate) {
        calibrationRows = readCsv(values.calibrate, modelInputSize(bytes));
        calibration = calibrateActivations(bytes, calibrationRows, { source: values.calibrate });
        if (values['write-calibration']) writeFileSync(calibrationBeside(modelPath), formatCalibration(calibration));
      } else if (values.calibration) {
        let text: string;
        try {
          text = readFileSync(values.calibration, 'utf8');
        } catch {
          throw new UsageError(`cannot read ${values.calibration}`);
        }
        calibration = parseCalibration(text, bytes, values.calibration);
      } else calibration = readModelCalibration(calibrationBeside(modelPath), bytes);
      const common = { calibration, maxDepth };
      if (values.variant !== undefined) {
        if (values.layout !== undefined || values['expand-input']) throw new UsageError('give --variant or --layout/--expand-input, not both');
        if (!isFheVariant(values.variant)) throw new UsageError(`--variant must be one of ${Object.keys(FHE_VARIANTS).join(', ')}`);
        plan = compileOnnx(bytes, { ...FHE_VARIANTS[values.variant], ...common });
      } else {
        const layout = values.layout ?? 'replicated-blocks';
        if (layout !== 'replicated-blocks' && layout !== 'feature-major') throw new UsageError('--layout must be replicated-blocks or feature-major');
        plan = compileOnnx(bytes, { layout, expandInput: values['expand-input'], ...common });
      }
    } catch (err) {
      if (!(err instanceof FheCompileError)) throw err;
      if (json) console.log(JSON.stringify({ compiled: false, error: err.message, model: modelPath }));
      else console.error(`veil fhe check: ${modelPath} cannot be compiled to a CKKS plan: ${err.message}`);
      return 1;
    }
    const { spec } = plan;
    // Plaintext comparisons use every checked row; the encrypted check the first --samples of the calibration rows.
    const checked = values.input ? readCsv(values.input, spec.inputSize) : calibrationRows;
    const samples = checked ? (values.input ? checked : checked.slice(0, count)) : randomSamples(count, spec.inputSize);
    const labels = values.labels ? readLabels(values.labels, checked?.length ?? -1) : undefined;
    if (!json) printPlan(modelPath, plan);
    const result = await check(bytes, plan, samples, repeat, checked ?? samples, labels);
    if (calibrationRows) result.calibrationRows = calibrationRows.length;
    const out: FheCheckResult = {
      compiled: true,
      model: modelPath,
      inputSize: spec.inputSize,
      outputSize: spec.outputSize,
      postprocess: spec.postprocess,
      depth: spec.stats.depth,
      polyModulusDegree: spec.params.polyModulusDegree,
      coeffModulusBits: spec.params.coeffModulusBits,
      scaleBits: spec.params.scaleBits,
      rotations: spec.stats.rotations,
      minRotations: spec.stats.minRotations,
      galoisSteps: spec.galoisSteps,
      batchCapacity: spec.batchCapacity,
      layers: spec.stats.layers,
      ...result,
    };
    if (json) console.log(JSON.stringify(out));
    else printCheck(out, values.input ? `${samples.length} CSV rows` : calibrationRows ? `the first ${samples.length} calibration rows` : `${samples.length} random samples`);
    return out.maxAbsError! <= tolerance ? 0 : 3;
  } catch (err) {
    if (err instanceof UsageError) {
      if (json) console.log(JSON.stringify({ compiled: false, error: err.message }));
      else console.error(`veil fhe: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

function positiveInt(v: string | undefined, fallback: number, flag: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

function randomSamples(count: number, size: number): number[][] {
  let seed = 2024;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: count }, () => Array.from({ length: size }, rand));
}

function readCsv(file: string, size: number): number[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  try {
    return readNumericCsv({ source: file, text, header: 'auto', columns: size }).rows;
  } catch (err) {
    if (err instanceof DatasetError) throw new UsageError(err.message);
    throw err;
  }
}

/** The model input's feature count (for reading --calibrate rows before compiling). */
function modelInputSize(bytes: Uint8Array): number {
  try {
    const last = readOnnxModel(bytes).graph.inputs[0]?.shape?.at(-1);
    if (typeof last === 'number' && last > 0) return last;
  } catch {
    // The compiler reports an unreadable model with its own message.
  }
  throw new FheCompileError('the model input must have a fixed feature count');
}

function readLabels(file: string, rows: number): number[] {
  if (rows < 0) throw new UsageError('--labels needs --input or --calibrate rows to label');
  const labels = readCsv(file, 1).map((r) => r[0]!);
  if (labels.length !== rows) throw new UsageError(`${file} has ${labels.length} labels for ${rows} rows`);
  if (labels.some((l) => !Number.isInteger(l) || l < 0)) throw new UsageError(`${file}: every label must be a non-negative integer class`);
  return labels;
}

async function check(bytes: Uint8Array, plan: FhePlan, samples: number[][], repeat: number, allRows: number[][], labels?: number[]): Promise<Partial<FheCheckResult>> {
  const { spec } = plan;
  const seal = await loadSeal();
  const runtime = createCkksRuntime(seal, spec.params);
  const keys = createFheClientKeys(runtime, spec);
  const keyBytes = keys.evaluationKeys();
  const evalKeys = loadEvaluationKeys(runtime, keyBytes, spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  let upload = 0;
  let download = 0;
  const serve = (ctBytes: Uint8Array[]): { ms: number; results: Uint8Array[] } => {
    const t = performance.now();
    const cts = ctBytes.map((b) => loadCiphertext(runtime, b));
    const outs = evaluator.evaluate(cts, evalKeys);
    const results = outs.map((o) => o.saveArray(seal.ComprModeType.none));
    for (const o of outs) o.delete();
    for (const ct of cts) ct.delete();
    return { ms: performance.now() - t, results };
  };
  const encryptGroup = (group: Float64Array[]) => group.map((slots) => keys.encrypt(slots));
  try {
    const got: Float64Array[] = [];
    const groupTimes: number[] = [];
    packInputs(spec, samples).forEach((group, gi) => {
      const ctBytes = encryptGroup(group);
      upload = ctBytes.reduce((a, b) => a + b.length, 0);
      const { ms, results } = serve(ctBytes);
      download = results.reduce((a, b) => a + b.length, 0);
      groupTimes.push(ms);
      const n = Math.min(spec.batchCapacity, samples.length - gi * spec.batchCapacity);
      got.push(...unpackOutputs(spec, results.map((r) => keys.decrypt(r)), n));
    });
    const single = encryptGroup(packInputs(spec, samples.slice(0, 1))[0]!);
    serve(single); // warm-up
    const singleTimes = Array.from({ length: repeat }, () => serve(single).ms).sort((a, b) => a - b);
    const full = encryptGroup(packInputs(spec, Array.from({ length: spec.batchCapacity }, (_, i) => samples[i % samples.length]!))[0]!);
    const fullTimes = Array.from({ length: repeat }, () => serve(full).ms).sort((a, b) => a - b);

    const want = await plaintextLogits(bytes, samples, spec.outputSize);
    // An approximated plan is held to its own plaintext simulation (the CKKS error); onnxruntime is reported beside it.
    const approximated = (plan.approximations?.length ?? 0) > 0;
    const reference = approximated ? simulateRows(plan, samples) : want;
    let maxAbsError = 0;
    let maxAbsErrorVsOnnx = 0;
    let agree = 0;
    got.forEach((g, i) => {
      const w = want[i]!;
      for (let j = 0; j < spec.outputSize; j++) {
        maxAbsError = Math.max(maxAbsError, Math.abs(g[j]! - reference[i]![j]!));
        maxAbsErrorVsOnnx = Math.max(maxAbsErrorVsOnnx, Math.abs(g[j]! - w[j]!));
      }
      if (top1(g, spec.outputSize) === top1(w, spec.outputSize)) agree++;
    });
    const extra: Partial<FheCheckResult> = {};
    if (approximated || labels) {
      const plain = allRows === samples ? want : await plaintextLogits(bytes, allRows, spec.outputSize);
      const simulated = simulateRows(plan, allRows);
      const accuracy = (out: ArrayLike<number>[], ls: number[]) => out.filter((o, i) => top1(o, spec.outputSize) === ls[i]).length / out.length;
      extra.plaintextRows = allRows.length;
      extra.planTop1Agreement = simulated.filter((o, i) => top1(o, spec.outputSize) === top1(plain[i]!, spec.outputSize)).length / allRows.length;
      if (approximated) extra.activations = measureApproximations(bytes, plan, allRows);
      if (labels) {
        extra.plaintextAccuracy = accuracy(plain, labels);
        extra.planAccuracy = accuracy(simulated, labels);
        extra.encryptedAccuracy = accuracy(got, labels.slice(0, got.length));
      }
    }
    const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return {
      keyBytes: (keyBytes.galoisKeys?.length ?? 0) + (keyBytes.relinKeys?.length ?? 0),
      galoisKeyBytes: keyBytes.galoisKeys?.length ?? 0,
      relinKeyBytes: keyBytes.relinKeys?.length ?? 0,
      uploadBytesPerGroup: upload,
      resultBytesPerGroup: download,
      samples: samples.length,
      maxAbsError,
      maxAbsErrorVsOnnx,
      top1Agreement: agree / samples.length,
      ...extra,
      p50Ms: q(singleTimes, 0.5),
      p95Ms: q(singleTimes, 0.95),
      groupP50Ms: q(fullTimes, 0.5),
      samplesPerSecond: (spec.batchCapacity * 1000) / q(fullTimes, 0.5),
    };
  } finally {
    evaluator.delete();
    evalKeys.delete();
    keys.delete();
    runtime.delete();
  }
}

/** The plan's plaintext simulation (exactly the evaluator's operations, no noise), one output row per sample. */
function simulateRows(plan: FhePlan, rows: number[][]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const [g, group] of packInputs(plan.spec, rows).entries()) {
    out.push(...unpackOutputs(plan.spec, simulatePlan(plan, group), Math.min(plan.spec.batchCapacity, rows.length - g * plan.spec.batchCapacity)));
  }
  return out;
}

/** One output: the sign of the logit decides the class; several: the argmax. */
function top1(v: ArrayLike<number>, size: number): number {
  if (size === 1) return v[0]! > 0 ? 1 : 0;
  let best = 0;
  for (let i = 1; i < size; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

async function plaintextLogits(bytes: Uint8Array, samples: number[][], outputSize: number): Promise<Float32Array[]> {
  const model = readOnnxModel(bytes);
  const inputName = model.graph.inputs[0]!.name;
  const session = await ort.InferenceSession.create(logitsModel(bytes));
  try {
    const n = samples[0]!.length;
    const res = await session.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(samples.flat()), [samples.length, n]) });
    const data = res[session.outputNames[0]!]!.data as Float32Array;
    return samples.map((_, i) => data.slice(i * outputSize, (i + 1) * outputSize));
  } finally {
    await session.release();
  }
}

const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} KB`);

function printPlan(modelPath: string, plan: FhePlan): void {
  const { spec } = plan;
  const p = spec.params;
  const opWidth = Math.max(8, ...spec.stats.layers.map((l) => l.op.length));
  const lines = [
    `model       ${modelPath}: ${spec.inputSize} features → ${spec.outputSize} output(s), client postprocess: ${spec.postprocess}`,
    `parameters  CKKS N=${p.polyModulusDegree}, coeff modulus [${p.coeffModulusBits.join(', ')}] = ${p.coeffModulusBits.reduce((a, b) => a + b, 0)} bits, scale 2^${p.scaleBits}, 128-bit security`,
    spec.layout.kind === 'feature-major'
      ? `layout      feature-major: one ciphertext per feature (${spec.inputCiphertexts} in, ${spec.outputCiphertexts} out), batch capacity ${spec.batchCapacity} samples`
      : spec.layout.kind === 'table-rows'
      ? `layout      table-rows: one query repeated every ${spec.layout.inputPeriod} slots, ${spec.outputCiphertexts} result ciphertext(s) of ${spec.layout.rowsPerCiphertext} scores`
      : `layout      ${spec.layout.kind}: ${spec.layout.blockSize * spec.layout.inputCopies} slots per sample (${spec.layout.inputCopies} block(s) of ${spec.layout.blockSize}, input period ${spec.layout.inputPeriod}), batch capacity ${spec.batchCapacity} samples per ciphertext`,
    `plan        depth ${spec.stats.depth}, rotations ${spec.stats.rotations} (minimum for the layout ${spec.stats.minRotations}), ct×pt ${spec.stats.plainMultiplies}, ct×ct ${spec.stats.ciphertextMultiplies}`,
    `            ${'layer'.padEnd(24)} ${'op'.padEnd(opWidth)} ${'rot'.padStart(4)} ${'min'.padStart(4)} ${'ct×pt'.padStart(6)} ${'levels'.padStart(6)}`,
    ...spec.stats.layers.map((l) => `            ${l.name.padEnd(24)} ${l.op.padEnd(opWidth)} ${String(l.rotations).padStart(4)} ${String(l.minRotations).padStart(4)} ${String(l.plainMultiplies).padStart(6)} ${String(l.levels).padStart(6)}`),
    `keys        Galois steps [${spec.galoisSteps.join(', ')}]${spec.needsRelinKeys ? ' + relinearization' : ''}`,
  ];
  console.log(lines.join('\n'));
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

function printActivations(r: FheCheckResult): string[] {
  if (!r.activations?.length) return [];
  const f = (v: number) => v.toFixed(3);
  return [
    `activations calibrated on ${r.calibrationRows ?? 'stored'} rows, measured on ${r.plaintextRows} rows (plaintext forward pass)`,
    `            ${'activation'.padEnd(16)} ${'op'.padEnd(10)} ${'observed'.padEnd(18)} ${'fitted'.padEnd(18)} deg levels ${'max err'.padStart(9)} ${'mean err'.padStart(9)}  outside`,
    ...r.activations.map((a) => `            ${a.name.padEnd(16)} ${a.op.padEnd(10)} ${`[${f(a.observed[0])}, ${f(a.observed[1])}]`.padEnd(18)} ${`[${f(a.fitted[0])}, ${f(a.fitted[1])}]`.padEnd(18)} ${String(a.degree).padStart(3)} ${String(a.levels).padStart(6)} ${a.maxError.toExponential(2).padStart(9)} ${a.meanError.toExponential(2).padStart(9)}  ${a.outsideFitted} of ${a.values} outside the fitted range${a.outsideFitted > 0 ? ' (RISK: results for those rows are unreliable)' : ''}, ${a.outsideObserved} in the margin`),
    `            the server cannot see out-of-range inputs (they are encrypted): this count exists only here, at calibration/check time`,
    `plan        top-1 agreement with onnxruntime ${pct(r.planTop1Agreement!)} over ${r.plaintextRows} rows${r.planAccuracy !== undefined ? `; accuracy: onnxruntime ${pct(r.plaintextAccuracy!)}, approximated plan ${pct(r.planAccuracy)}, encrypted ${pct(r.encryptedAccuracy!)} (on ${r.samples} rows)` : ''}`,
  ];
}

function printCheck(r: FheCheckResult, what: string): void {
  console.log([
    ...printActivations(r),
    `key bytes   ${kb(r.keyBytes!)} seeded (Galois ${kb(r.galoisKeyBytes!)}, relin ${kb(r.relinKeyBytes!)})`,
    `ciphertext  upload ${kb(r.uploadBytesPerGroup!)} (seeded), result ${kb(r.resultBytesPerGroup!)} per group of ≤ ${r.batchCapacity} samples`,
    r.activations?.length
      ? `check       ${what}: max |encrypted − plan simulation| ${r.maxAbsError!.toExponential(2)}, max |encrypted − onnxruntime| ${r.maxAbsErrorVsOnnx!.toExponential(2)}, top-1 agreement with onnxruntime ${(r.top1Agreement! * 100).toFixed(1)}%`
      : `check       ${what}: max |encrypted − plaintext| ${r.maxAbsError!.toExponential(2)}, top-1 agreement ${(r.top1Agreement! * 100).toFixed(1)}%`,
    `latency     server evaluation (load + plan + save), one thread: single sample p50 ${r.p50Ms!.toFixed(1)} ms (p95 ${r.p95Ms!.toFixed(1)}), full group p50 ${r.groupP50Ms!.toFixed(1)} ms → ${r.samplesPerSecond!.toFixed(0)} samples/s`,
  ].join('\n'));
}
