/**
 * A pool worker for crash tests: starts and reports ready (under both pools' ready keys) unless
 * VEIL_TEST_FAIL_WORKER_START is set in the environment it inherits, so a replacement started after the test sets it
 * fails. A task naming model or plan "crash" ends the thread.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { okEnvelope } from '../../workers/task-envelope';
import { reportStartupFailure } from '../../workers/wait-for-workers';

async function init() {
  if (process.env.VEIL_TEST_FAIL_WORKER_START === '1') throw new Error('this replacement worker cannot start (test)');
  parentPort?.postMessage({ veilFheWorkerReady: threadId });
  parentPort?.postMessage({ veilTeeWorkerReady: threadId });
  return (task: { modelId?: string; planKey?: string }) => {
    if (task.modelId === 'crash' || task.planKey === 'crash') process.exit(3);
    return okEnvelope({ outputs: [], computeMicros: 0 });
  };
}

module.exports = reportStartupFailure(init());
