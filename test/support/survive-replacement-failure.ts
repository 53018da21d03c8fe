/**
 * Run as a child process by the pool crash tests: starts a one-thread pool ("fhe" or "tee", argv[2]) on a worker that
 * refuses to restart, kills that worker with a task, and prints whether the process outlived its failed replacement.
 * Before the fix the replacement's 'error' event had no listener and ended this process.
 */
import path from 'node:path';
import { createFhePool } from '../../workers/fhe/create-fhe-pool';
import { createTeePool } from '../../workers/tee/create-tee-pool';

const workerFile = path.join(__dirname, 'fails-on-restart-worker.ts');

async function main() {
  const kind = process.argv[2];
  const reported: string[] = [];
  const onWorkerError = (err: Error) => reported.push(err.message);
  let crash: () => Promise<unknown>;
  if (kind === 'fhe') {
    const pool = await createFhePool({ plans: {}, threads: 1, maxQueue: 4, keyCacheBytes: 1 << 20, workerFile, onWorkerError });
    crash = () => pool.predict({ planKey: 'crash', session: 1, keys: {}, groups: [[new Uint8Array(1)]] });
  } else {
    const pool = await createTeePool({ models: { m: 'unused.onnx' }, threads: 1, workerFile, onWorkerError });
    crash = () => pool.run({ modelId: 'crash', inputs: { x: { dims: [1], data: new Float32Array(1) } } });
  }
  process.env.VEIL_TEST_FAIL_WORKER_START = '1';
  const outcome = await crash().then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
  // Give the replacement time to start, fail and be reported.
  for (let i = 0; i < 100 && reported.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  process.stdout.write(`${JSON.stringify({ alive: true, outcome, reported })}\n`);
  process.exit(0);
}

void main();
