/**
 * A TEE pool worker for the worker-death test: reports ready like `tee-task.ts`; a task for model "crash" kills the
 * thread under the task (as a native crash in onnxruntime would), anything else answers an empty result.
 */
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { okEnvelope } from '../../workers/task-envelope';
import { reportStartupFailure } from '../../workers/wait-for-workers';

async function init() {
  // Answers the pool's release broadcast as tee-task.ts does, so close() need not wait for its timeout.
  const release = new BroadcastChannel((workerData as { releaseChannel: string }).releaseChannel);
  release.unref();
  release.onmessage = () => {
    release.close();
    parentPort?.postMessage({ veilTeeWorkerReleased: threadId });
  };
  parentPort?.postMessage({ veilTeeWorkerReady: threadId });
  return (task: { modelId: string }) => {
    if (task.modelId === 'crash') process.exit(3);
    return okEnvelope({ outputs: [], computeMicros: threadId });
  };
}

module.exports = reportStartupFailure(init());
