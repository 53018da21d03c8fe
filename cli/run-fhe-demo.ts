import fs from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { connectFheModel, createVeilClient, payingInterceptor, type ChannelPayer, type FheModelClient } from '../client';
import { logitsModel } from '../fhe';
import { readOnnxModel } from '../onnx';
import { argmax, BUNDLED_MODELS, isBundledModelId, loadDataset, runOnnxModel } from '../models';
import type { Progress } from './progress';

export type FheDemoReport = {
  model: string;
  target: string;
  samples: number;
  encryptedAccuracy: number;
  plaintextAccuracy: number;
  /** Largest |encrypted − plaintext| over all logits of the test split (onnxruntime-node on the same file). */
  maxAbsError: number;
  /** Samples whose predicted class differs between encrypted and plaintext inference. */
  disagreements: number;
  /** Single-sample end-to-end latency (encrypt → gRPC → evaluate → decrypt), over `latencySamples` calls after 4 untimed warm-up calls. */
  p50Ms: number;
  p95Ms: number;
  latencySamples: number;
  /** Whole test split in one batched call: samples per second, end to end. */
  batchSamplesPerSecond: number;
  batchMs: number;
  /** Evaluation keys plus every ciphertext sent, in bytes. */
  bytesUploaded: number;
  /** Evaluation keys of every variant the demo used (each uploaded the first time it was used). */
  keyBytes: number;
  ciphertextBytes: number;
  ciphertextBytesPerSample: number;
  polyModulusDegree: number;
  batchCapacity: number;
  /** FHE variants the SDK chose (by batch size) for the single-sample calls and for the batched call. */
  singleVariant: string;
  batchVariant: string;
  /** The class each test row was given, encrypted and by plaintext onnxruntime-node (for `--mode both`'s cross-check). */
  classes: number[];
  plaintextClasses: number[];
};

export type RunFheDemoParameters = {
  target: string;
  /** API key (auth.mode = api-keys) and channel credentials (a TLS gateway). */
  apiKey?: string;
  credentials?: grpc.ChannelCredentials;
  /** Pays a charging gateway (issue #11): `veil demo` passes its dev payer (connectDemoPayer). */
  payer?: ChannelPayer;
  modelId: string;
  /** How many single-sample calls to time (default: up to 100). */
  latencySamples?: number;
  progress?: Progress;
};

/**
 * The demo behind `veil demo`: encrypts the model's test split, predicts through a running gateway,
 * decrypts, and compares with plaintext onnxruntime-node inference of the same ONNX file.
 */
export async function runFheDemo(params: RunFheDemoParameters): Promise<FheDemoReport> {
  const { target, modelId, progress } = params;
  if (!isBundledModelId(modelId)) {
    throw new Error(`unknown demo model "${modelId}"; bundled models: ${Object.keys(BUNDLED_MODELS).join(', ')}`);
  }
  const bundled = BUNDLED_MODELS[modelId];
  const { test } = loadDataset(bundled.dataset);
  const onnx = fs.readFileSync(bundled.file);

  progress?.step('plaintext inference (onnxruntime-node)');
  // The FHE path returns pre-activation outputs; compare them with the same graph minus its final activation.
  const logitsOnnx = logitsModel(onnx);
  const logitsName = readOnnxModel(logitsOnnx).graph.outputs[0]!.name;
  const plainLogits = await runOnnxModel(logitsOnnx, bundled.input.name, logitsName, test.features);
  const plainOutputs = await runOnnxModel(onnx, bundled.input.name, bundled.output.name, test.features);
  const predictClass = (scores: ArrayLike<number>, logits: boolean) =>
    scores.length === 1 ? (scores[0]! >= (logits ? 0 : 0.5) ? 1 : 0) : argmax(scores);
  const plainClasses = plainOutputs.map((o) => predictClass(o, bundled.output.kind === 'logits'));
  const plaintextAccuracy = accuracy(plainClasses, test.labels);
  progress?.done();

  const client = createVeilClient({ target, apiKey: params.apiKey, credentials: params.credentials, interceptors: params.payer ? [payingInterceptor(params.payer)] : [] });
  let model: FheModelClient | undefined;
  try {
    progress?.step('fetching the FHE specs (keys are generated and uploaded per variant on first use)');
    model = await connectFheModel({ client, modelId, deadlineMs: 120_000 });
    progress?.done(model.variants.join(', '));

    // Ciphertexts only: key bytes are added at the end, once every variant the calls chose has uploaded its keys.
    let bytesUploaded = 0;
    const latencyCount = Math.min(params.latencySamples ?? 100, test.features.length);
    progress?.step('single-sample encrypted predictions');
    // Untimed warm-up: the first calls JIT the client's code paths and make each gateway worker load this session's
    // keys; the timed calls below then measure steady state. Their bytes still count as uploaded.
    for (let i = 0; i < 4; i++) bytesUploaded += (await model.predict([test.features[i % test.features.length]!])).bytesUploaded;
    const latencies: number[] = [];
    let singleVariant = '';
    for (let i = 0; i < latencyCount; i++) {
      const t0 = performance.now();
      const r = await model.predict([test.features[i]!]);
      singleVariant = r.variant;
      latencies.push(performance.now() - t0);
      bytesUploaded += r.bytesUploaded;
      progress?.update(i + 1, latencyCount);
    }
    progress?.done();

    progress?.step(`batched encrypted prediction of ${test.features.length} samples`);
    const t0 = performance.now();
    const batch = await model.predict(test.features);
    const batchMs = performance.now() - t0;
    bytesUploaded += batch.bytesUploaded;
    progress?.done();

    let maxAbsError = 0;
    batch.logits.forEach((logits, i) => {
      const plain = plainLogits[i]!;
      for (let j = 0; j < logits.length; j++) maxAbsError = Math.max(maxAbsError, Math.abs(logits[j]! - plain[j]!));
    });
    const encClasses = batch.logits.map((l) => predictClass(l, true));
    latencies.sort((a, b) => a - b);
    return {
      model: modelId,
      target,
      samples: test.features.length,
      encryptedAccuracy: accuracy(encClasses, test.labels),
      plaintextAccuracy,
      maxAbsError,
      disagreements: encClasses.filter((c, i) => c !== plainClasses[i]).length,
      p50Ms: round(quantile(latencies, 0.5)),
      p95Ms: round(quantile(latencies, 0.95)),
      latencySamples: latencyCount,
      batchSamplesPerSecond: Math.round(test.features.length / (batchMs / 1000)),
      batchMs: round(batchMs),
      bytesUploaded: bytesUploaded + model.keyBytes,
      keyBytes: model.keyBytes,
      ciphertextBytes: bytesUploaded,
      ciphertextBytesPerSample: Math.round(batch.bytesUploaded / test.features.length),
      polyModulusDegree: model.spec.params.polyModulusDegree,
      batchCapacity: model.spec.batchCapacity,
      singleVariant,
      batchVariant: batch.variant,
      classes: encClasses,
      plaintextClasses: plainClasses,
    };
  } finally {
    await model?.close().catch(() => undefined);
    client.close();
  }
}

function accuracy(predicted: number[], labels: number[]): number {
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
