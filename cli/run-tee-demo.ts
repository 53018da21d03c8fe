import fs from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { ChannelPayer } from '../client';
import { connectTeeModel, type TeeModelClient, type TeePolicy } from '../client/tee';
import { argmax, BUNDLED_MODELS, isBundledModelId, loadDataset, readNumericCsv, runOnnxModel } from '../models';
import type { Progress } from './progress';
import { quantile } from './run-fhe-demo';

export type TeeDemoReport = {
  mode: 'tee';
  model: string;
  target: string;
  /** The gateway's node the client attested and sealed to. */
  nodeId: string;
  /** The client's own verdict on the node's evidence ('valid'; anything else stops the demo with the reason). */
  evidenceVerdict: 'valid';
  platform: string;
  simulated: boolean;
  measurement: string;
  signingAddress: string;
  /** Every response's EIP-191 receipt verified against the attested signing address. */
  signatureValid: boolean;
  /** Output rows (post-activation, as the model computes them) for the input rows (--input) or the first test rows. */
  outputs: number[][];
  samples: number;
  /** Accuracy of TEE outputs on the model's test split, and of plaintext onnxruntime-node on the same file (bundled models without --input). */
  teeAccuracy: number | null;
  plaintextAccuracy: number | null;
  maxAbsError: number | null;
  /** Single-row end-to-end latency (seal → gateway → node → verify → open). */
  p50Ms: number;
  p95Ms: number;
  latencySamples: number;
  failovers: number;
  /** The class each row was given by the enclave (every row, not only the first five). */
  classes: number[];
};

export type RunTeeDemoParameters = {
  target: string;
  /** API key (auth.mode = api-keys) and channel credentials (a TLS gateway). */
  apiKey?: string;
  credentials?: grpc.ChannelCredentials;
  /** Pays a charging gateway (issue #11): `veil demo` passes its dev payer (connectDemoPayer). */
  payer?: ChannelPayer;
  modelId: string;
  /** Feature rows (e.g. from --input); default: the bundled model's test split. */
  rows?: number[][];
  latencySamples?: number;
  progress?: Progress;
};

// The demo accepts what the gateway's default configuration serves: SIMULATED nodes, any measurement. It says so.
export const DEMO_POLICY: TeePolicy = { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 };

/**
 * The demo behind `veil demo --mode tee`: attests a node through the gateway, seals the rows to it, checks every
 * signed receipt, and compares the outputs with plaintext onnxruntime-node inference of the same file.
 */
export async function runTeeDemo(params: RunTeeDemoParameters): Promise<TeeDemoReport> {
  const { target, modelId, progress } = params;
  if (!isBundledModelId(modelId)) throw new Error(`unknown demo model "${modelId}"; bundled models: ${Object.keys(BUNDLED_MODELS).join(', ')}`);
  const bundled = BUNDLED_MODELS[modelId];
  const width = bundled.input.features;
  const test = params.rows ? undefined : loadDataset(bundled.dataset).test;
  const rows = params.rows ?? test!.features.map((r) => Array.from(r));
  rows.forEach((r, i) => {
    if (r.length !== width) throw new Error(`input row ${i + 1} has ${r.length} values; ${modelId} takes ${width}`);
  });
  if (rows.length === 0) throw new Error('no input rows');

  progress?.step('attesting a TEE node through the gateway');
  let model: TeeModelClient | undefined;
  try {
    // SIMULATED nodes of any gateway, their verifier key unpinned: self-signed evidence, accepted knowingly (the demo says so).
    model = await connectTeeModel({
      gateway: target, apiKey: params.apiKey, credentials: params.credentials, payer: params.payer, modelId, policy: DEMO_POLICY, allowSimulated: true,
      roots: { simulated: 'self-signed' },
    });
    progress?.done(`${model.nodeId} (${model.simulated ? 'SIMULATED' : model.platform})`);

    progress?.step(`sealed inference of ${rows.length} row(s)`);
    const data = new Float32Array(rows.length * width);
    rows.forEach((r, i) => data.set(r, i * width));
    const batch = await model.infer({ [bundled.input.name]: { dims: [rows.length, width], data } });
    const out = batch.outputs[bundled.output.name];
    if (!out) throw new Error(`the node returned no "${bundled.output.name}" output`);
    const size = out.data.length / rows.length;
    const outputs = rows.map((_, i) => Array.from(out.data.subarray(i * size, (i + 1) * size)));
    progress?.done();

    const latencyCount = Math.max(1, Math.min(params.latencySamples ?? 100, rows.length * 10));
    progress?.step('single-row sealed predictions');
    const latencies: number[] = [];
    let signatureValid = batch.signatureValid;
    for (let i = 0; i < latencyCount; i++) {
      const row = rows[i % rows.length]!;
      const t0 = performance.now();
      const r = await model.infer({ [bundled.input.name]: { dims: [1, width], data: Float32Array.from(row) } });
      latencies.push(performance.now() - t0);
      signatureValid &&= r.signatureValid;
      progress?.update(i + 1, latencyCount);
    }
    progress?.done();

    let teeAccuracy: number | null = null;
    let plaintextAccuracy: number | null = null;
    let maxAbsError: number | null = null;
    progress?.step('plaintext inference (onnxruntime-node)');
    const plain = await runOnnxModel(fs.readFileSync(bundled.file), bundled.input.name, bundled.output.name, rows.map((r) => Float64Array.from(r)));
    maxAbsError = 0;
    plain.forEach((p, i) => p.forEach((v, j) => (maxAbsError = Math.max(maxAbsError!, Math.abs(v - outputs[i]![j]!)))));
    const classOf = (scores: ArrayLike<number>) => (scores.length === 1 ? (scores[0]! >= 0.5 ? 1 : 0) : argmax(scores));
    if (test) {
      const acc = (predicted: number[]) => predicted.filter((p, i) => p === test.labels[i]).length / test.labels.length;
      teeAccuracy = acc(outputs.map(classOf));
      plaintextAccuracy = acc(plain.map(classOf));
    }
    progress?.done();

    latencies.sort((a, b) => a - b);
    return {
      mode: 'tee', model: modelId, target, nodeId: model.nodeId, evidenceVerdict: 'valid', platform: model.platform, simulated: model.simulated,
      measurement: model.measurement, signingAddress: model.signingAddress, signatureValid,
      outputs: params.rows ? outputs : outputs.slice(0, 5), samples: rows.length, teeAccuracy, plaintextAccuracy, maxAbsError,
      p50Ms: round(quantile(latencies, 0.5)), p95Ms: round(quantile(latencies, 0.95)), latencySamples: latencyCount, failovers: model.failovers,
      classes: outputs.map(classOf),
    };
  } finally {
    model?.close();
  }
}

/**
 * Reads `--input`: one feature row per line, by Veil's one CSV rule (`readNumericCsv`: optional header line of names,
 * no empty, quoted or non-numeric cells, equal row widths); a bundled model's rows must have its feature count.
 *
 * @throws {DatasetError} `dataset_malformed` naming the line and column (never a cell's content), or `cannot read FILE`.
 */
export function readFeatureCsv(file: string, modelId?: string): number[][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`cannot read ${file}`);
  }
  const columns = modelId !== undefined && isBundledModelId(modelId) ? BUNDLED_MODELS[modelId].input.features : undefined;
  return readNumericCsv({ source: file, text, header: 'auto', columns }).rows;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
