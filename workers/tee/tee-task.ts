/**
 * Piscina worker entry for TEE inference. Every model's onnxruntime session is created when the worker
 * starts, before it reports ready, so no request pays for model loading. A task validates the inputs
 * against the session, runs it, and moves the output buffers back inside an envelope: errors never
 * cross the thread boundary as thrown objects, and their messages name shapes, never values.
 */
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { reportStartupFailure } from '../wait-for-workers';
import { errorEnvelope, type TaskEnvelope } from '../task-envelope';
import { runTeeTask } from './run-tee-task';
import type { TeeRunResult, TeeRunTask, TeeWorkerData, TeeWorkerMessage } from './tee-task-types';

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
    return runTeeTask(session, task);
  };
}

module.exports = reportStartupFailure(init());
