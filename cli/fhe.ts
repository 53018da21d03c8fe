/**
 * `veil fhe check MODEL.onnx [--samples N | --input FILE.csv] [--json]`: compile an ONNX model to a CKKS plan, print
 * the plan, run encrypted inference in-process and compare it with plaintext onnxruntime on the logits model.
 *
 * CSV input: one sample per row, exactly `inputSize` numeric columns (the model's features, in order), comma-separated,
 * an optional header line of column names; read by Veil's one CSV rule (`readNumericCsv` in models/).
 *
 * Exit codes: 0 ok, 1 the model cannot compile, 2 usage error (flags, unreadable files, bad CSV),
 * 3 compiled but the encrypted result differs from plaintext by more than --tolerance (default 1e-3).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, createPlanEvaluator, FheCompileError, loadCiphertext, loadEvaluationKeys,
  FHE_VARIANTS, isFheVariant, loadSeal, logitsModel, packInputs, unpackOutputs,
} from '../fhe';
import type { FhePlan } from '../fhe';
import { DatasetError, readNumericCsv } from '../models';
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
    let plan: FhePlan;
    try {
      if (values.variant !== undefined) {
        if (values.layout !== undefined || values['expand-input']) throw new UsageError('give --variant or --layout/--expand-input, not both');
        if (!isFheVariant(values.variant)) throw new UsageError(`--variant must be one of ${Object.keys(FHE_VARIANTS).join(', ')}`);
        plan = compileOnnx(bytes, FHE_VARIANTS[values.variant]);
      } else {
        const layout = values.layout ?? 'replicated-blocks';
        if (layout !== 'replicated-blocks' && layout !== 'feature-major') throw new UsageError('--layout must be replicated-blocks or feature-major');
        plan = compileOnnx(bytes, { layout, expandInput: values['expand-input'] });
      }
    } catch (err) {
      if (!(err instanceof FheCompileError)) throw err;
      if (json) console.log(JSON.stringify({ compiled: false, error: err.message, model: modelPath }));
      else console.error(`veil fhe check: ${modelPath} cannot be compiled to a CKKS plan: ${err.message}`);
      return 1;
    }
    const { spec } = plan;
    const samples = values.input ? readCsv(values.input, spec.inputSize) : randomSamples(count, spec.inputSize);
    if (!json) printPlan(modelPath, plan);
    const result = await check(bytes, plan, samples, repeat);
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
    else printCheck(out, values.input ? `${samples.length} CSV rows` : `${samples.length} random samples`);
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

async function check(bytes: Uint8Array, plan: FhePlan, samples: number[][], repeat: number): Promise<Partial<FheCheckResult>> {
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
    let maxAbsError = 0;
    let agree = 0;
    got.forEach((g, i) => {
      const w = want[i]!;
      for (let j = 0; j < spec.outputSize; j++) maxAbsError = Math.max(maxAbsError, Math.abs(g[j]! - w[j]!));
      if (top1(g, spec.outputSize) === top1(w, spec.outputSize)) agree++;
    });
    const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return {
      keyBytes: (keyBytes.galoisKeys?.length ?? 0) + (keyBytes.relinKeys?.length ?? 0),
      galoisKeyBytes: keyBytes.galoisKeys?.length ?? 0,
      relinKeyBytes: keyBytes.relinKeys?.length ?? 0,
      uploadBytesPerGroup: upload,
      resultBytesPerGroup: download,
      samples: samples.length,
      maxAbsError,
      top1Agreement: agree / samples.length,
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
  const lines = [
    `model       ${modelPath}: ${spec.inputSize} features → ${spec.outputSize} output(s), client postprocess: ${spec.postprocess}`,
    `parameters  CKKS N=${p.polyModulusDegree}, coeff modulus [${p.coeffModulusBits.join(', ')}] = ${p.coeffModulusBits.reduce((a, b) => a + b, 0)} bits, scale 2^${p.scaleBits}, 128-bit security`,
    spec.layout.kind === 'feature-major'
      ? `layout      feature-major: one ciphertext per feature (${spec.inputCiphertexts} in, ${spec.outputCiphertexts} out), batch capacity ${spec.batchCapacity} samples`
      : `layout      ${spec.layout.kind}: ${spec.layout.blockSize * spec.layout.inputCopies} slots per sample (${spec.layout.inputCopies} block(s) of ${spec.layout.blockSize}, input period ${spec.layout.inputPeriod}), batch capacity ${spec.batchCapacity} samples per ciphertext`,
    `plan        depth ${spec.stats.depth}, rotations ${spec.stats.rotations} (minimum for the layout ${spec.stats.minRotations}), ct×pt ${spec.stats.plainMultiplies}, ct×ct ${spec.stats.ciphertextMultiplies}`,
    `            ${'layer'.padEnd(24)} ${'op'.padEnd(8)} ${'rot'.padStart(4)} ${'min'.padStart(4)} ${'ct×pt'.padStart(6)} ${'levels'.padStart(6)}`,
    ...spec.stats.layers.map((l) => `            ${l.name.padEnd(24)} ${l.op.padEnd(8)} ${String(l.rotations).padStart(4)} ${String(l.minRotations).padStart(4)} ${String(l.plainMultiplies).padStart(6)} ${String(l.levels).padStart(6)}`),
    `keys        Galois steps [${spec.galoisSteps.join(', ')}]${spec.needsRelinKeys ? ' + relinearization' : ''}`,
  ];
  console.log(lines.join('\n'));
}

function printCheck(r: FheCheckResult, what: string): void {
  console.log([
    `key bytes   ${kb(r.keyBytes!)} seeded (Galois ${kb(r.galoisKeyBytes!)}, relin ${kb(r.relinKeyBytes!)})`,
    `ciphertext  upload ${kb(r.uploadBytesPerGroup!)} (seeded), result ${kb(r.resultBytesPerGroup!)} per group of ≤ ${r.batchCapacity} samples`,
    `check       ${what}: max |encrypted − plaintext| ${r.maxAbsError!.toExponential(2)}, top-1 agreement ${(r.top1Agreement! * 100).toFixed(1)}%`,
    `latency     server evaluation (load + plan + save), one thread: single sample p50 ${r.p50Ms!.toFixed(1)} ms (p95 ${r.p95Ms!.toFixed(1)}), full group p50 ${r.groupP50Ms!.toFixed(1)} ms → ${r.samplesPerSecond!.toFixed(0)} samples/s`,
  ].join('\n'));
}
