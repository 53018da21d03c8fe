/**
 * Piscina worker entry for TEE inference. Every model's onnxruntime session is created when the worker
 * starts, before it reports ready, so no request pays for model loading. A task validates the inputs
 * against the session, runs it, and moves the output buffers back inside an envelope: errors never
 * cross the thread boundary as thrown objects, and their messages name shapes, never values.
 */
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { reportStartupFailure } from '../wait-for-workers';
import { errorEnvelope, okEnvelope, type TaskEnvelope } from '../task-envelope';
import type { TeeRunResult, TeeRunTask, TeeWorkerData, TeeWorkerMessage, WireTensor } from './tee-task-types';

async function init(): Promise<(task: TeeRunTask) => Promise<TaskEnvelope<TeeRunResult>>> {
  const data = workerData as TeeWorkerData;
  const sessions = new Map<string, ort.InferenceSession>();
  for (const [modelId, file] of Object.entries(data.models)) {
    sessions.set(modelId, await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      // The pool already runs one task per thread; ORT's own pools are sized so threads × intraOp ≤ cores.
      intraOpNumThreads: data.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    }));
  }

  // Piscina has no per-worker shutdown hook: the pool broadcasts once and each worker frees its native sessions.
  const release = new BroadcastChannel(data.releaseChannel);
  release.unref();
  release.onmessage = () => {
    void Promise.allSettled([...sessions.values()].map((s) => s.release())).then(() => {
      sessions.clear();
      release.close();
      parentPort?.postMessage({ veilTeeWorkerReleased: threadId } satisfies TeeWorkerMessage);
    });
  };
  parentPort?.postMessage({ veilTeeWorkerReady: threadId } satisfies TeeWorkerMessage);

  return async function run(task: TeeRunTask): Promise<TaskEnvelope<TeeRunResult>> {
    const session = sessions.get(task.modelId);
    if (!session) return errorEnvelope('tee_model_not_found', `model "${task.modelId}" is not served by this node`);
    const given = new Map(task.inputs.map((t) => [t.name, t]));
    for (const name of session.inputNames) {
      if (!given.has(name)) return errorEnvelope('invalid_input', `input "${name}" is missing (the model takes ${session.inputNames.join(', ')})`);
    }
    for (const name of given.keys()) {
      if (!session.inputNames.includes(name)) return errorEnvelope('invalid_input', `the model has no input "${name}" (it takes ${session.inputNames.join(', ')})`);
    }
    const started = process.hrtime.bigint();
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of task.inputs) feeds[t.name] = new ort.Tensor('float32', t.data, t.dims);
      results = await session.run(feeds);
    } catch (err) {
      // ORT's messages name shapes and types; keep them for the log, send a generic one.
      return errorEnvelope('invalid_input', 'the model rejected the inputs (shape or type mismatch)', { reason: err instanceof Error ? err.message : String(err) });
    }
    const computeMicros = Number((process.hrtime.bigint() - started) / 1000n);
    const outputs: WireTensor[] = [];
    for (const name of session.outputNames) {
      const tensor = results[name] as ort.Tensor | undefined;
      if (!tensor || tensor.type !== 'float32') {
        return errorEnvelope('internal', 'a model output is not a float32 tensor', { output: name, type: tensor?.type });
      }
      // Copy into a buffer this thread owns outright so it can be moved, not cloned.
      outputs.push({ name, dims: tensor.dims.map(Number), data: (tensor.data as Float32Array).slice() });
    }
    for (const value of Object.values(results)) (value as ort.Tensor).dispose?.();
    return okEnvelope({ outputs, computeMicros }, outputs.map((o) => o.data.buffer as ArrayBuffer));
  };
}

module.exports = reportStartupFailure(init());
