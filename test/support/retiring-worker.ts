/**
 * An FHE pool worker for the retirement tests: reports ready like `fhe-task.ts`, then
 * - plan "retire": the first such task in the pool's life (a flag file, VEIL_TEST_RETIRE_FLAG, shared by every thread)
 *   finds its worker retiring, as a task handed to a worker right after another request aborted its SEAL runtime does:
 *   the thread exits with RETIRED_EXIT_CODE before answering. Later attempts answer normally.
 * - plan "crash": the thread dies under the task with an ordinary exit code (a crash the task may have caused).
 * - anything else: answers an empty result, with the thread id so tests can tell which worker served it.
 */
import fs from 'node:fs';
import { parentPort, threadId } from 'node:worker_threads';
import { RETIRED_EXIT_CODE } from '../../workers/fhe/fhe-task-types';
import { okEnvelope } from '../../workers/task-envelope';
import { reportStartupFailure } from '../../workers/wait-for-workers';

async function init() {
  parentPort?.postMessage({ veilFheWorkerReady: threadId });
  return (task: { planKey?: string }) => {
    const flag = process.env.VEIL_TEST_RETIRE_FLAG;
    if (task.planKey === 'retire' && flag && !fs.existsSync(flag)) {
      fs.writeFileSync(flag, String(threadId));
      process.exit(RETIRED_EXIT_CODE);
    }
    if (task.planKey === 'crash') process.exit(3);
    return okEnvelope({ outputs: { buffer: new ArrayBuffer(0), lengths: [], perGroup: 1 }, evalMicros: threadId });
  };
}

module.exports = reportStartupFailure(init());
