import path from 'node:path';
import { Piscina } from 'piscina';
import type { FhePlan } from '../../fhe';
import { unwrapEnvelope, WorkerTaskError, type TaskEnvelope } from '../task-envelope';
import { waitForWorkers } from '../wait-for-workers';
import { packGroups, unpackGroups } from './packed-buffers';
import {
  CONTROL_CANCEL, CONTROL_STATE, STATE_QUEUED,
  type FhePredictResult, type FhePredictTask, type FheTask, type FheWorkerData, type SharedSessionKeys,
} from './fhe-task-types';

export type CreateFhePoolOptions = {
  plans: Record<string, FhePlan>;
  threads: number;
  maxQueue: number;
  keyCacheBytes: number;
  /** How long worker start-up (WASM, contexts, weight encoding) may take before the pool gives up. */
  readyTimeoutMs?: number;
};

export type FhePredictParameters = {
  planKey: string;
  sessionId: string;
  keys: SharedSessionKeys;
  groups: readonly (readonly Uint8Array[])[];
  signal?: AbortSignal;
  /** Epoch milliseconds; 0 or undefined = no deadline. */
  deadline?: number;
};

export type FhePool = {
  predict(params: FhePredictParameters): Promise<{ groups: Uint8Array[][]; evalMicros: number }>;
  /** Loads a new session's keys in a worker: validates them (invalid_keys) and warms that worker's cache. */
  loadKeys(params: { planKey: string; sessionId: string; keys: SharedSessionKeys }): Promise<void>;
  readonly threads: number;
  readonly queueSize: number;
  close(): Promise<void>;
};

const WORKER_FILE = path.join(__dirname, 'fhe-task.ts');

/**
 * Starts the FHE worker pool and resolves once every worker has built its contexts and pre-encoded its
 * plans, so no request ever waits for a worker to be created or warmed. The queue is bounded: when it is
 * full, `predict` rejects at once (classified as `overloaded`) instead of queueing without bound.
 */
export async function createFhePool(options: CreateFhePoolOptions): Promise<FhePool> {
  const workerData: FheWorkerData = { plans: options.plans, keyCacheBytes: options.keyCacheBytes };
  const pool = new Piscina<FheTask, TaskEnvelope<FhePredictResult | null>>({
    filename: WORKER_FILE,
    // Workers are TypeScript; tsx's CommonJS hook compiles them (the main process may not be running under tsx).
    execArgv: ['--require', 'tsx/cjs'],
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    maxQueue: options.maxQueue,
    workerData,
  });

  await waitForWorkers(pool, options.threads, 'veilFheWorkerReady', options.readyTimeoutMs ?? 120_000, 'FHE').catch(async (err) => {
    // Piscina replaces a failed worker to keep minThreads; its replacements fail too and emit 'error' after we
    // stop listening. Absorb those so a refused start-up cannot crash the process later.
    pool.on('error', () => undefined);
    await pool.destroy();
    throw err;
  });

  return {
    threads: options.threads,
    get queueSize() {
      return pool.queueSize;
    },
    async predict(params) {
      if (params.signal?.aborted) throw new WorkerTaskError('cancelled', 'the request was cancelled');
      // Checked here as well as by piscina, whose limit also counts capacity of workers it considers
      // pending; the bound a client sees must be exactly the configured one.
      if (pool.queueSize >= options.maxQueue) {
        throw new WorkerTaskError('overloaded', `the gateway is at capacity (${options.maxQueue} tasks queued); retry with backoff`);
      }
      // Spread one request's groups over the workers so a large batch uses every core.
      const parts = Math.max(1, Math.min(options.threads, params.groups.length));
      const size = Math.ceil(params.groups.length / parts);
      const chunks: (readonly (readonly Uint8Array[])[])[] = [];
      for (let i = 0; i < params.groups.length; i += size) chunks.push(params.groups.slice(i, i + size));
      const results = await Promise.all(chunks.map((groups) => runTask(pool, { ...params, groups })));
      return { groups: results.flatMap((r) => r.groups), evalMicros: results.reduce((a, r) => a + r.evalMicros, 0) };
    },
    async loadKeys(params) {
      unwrapEnvelope(await pool.run({ kind: 'loadKeys', ...params }));
    },
    close: () => pool.close(),
  };
}

async function runTask(
  pool: Piscina<FheTask, TaskEnvelope<FhePredictResult | null>>,
  params: FhePredictParameters,
): Promise<{ groups: Uint8Array[][]; evalMicros: number }> {
  const control = new SharedArrayBuffer(8);
  const flags = new Int32Array(control);
  const inputs = packGroups(params.groups);
  const task: FhePredictTask = {
    kind: 'predict',
    planKey: params.planKey,
    sessionId: params.sessionId,
    keys: params.keys,
    inputs,
    control,
    deadline: params.deadline ?? 0,
  };
  // A queued task is simply dropped from the queue on abort. A running one is asked to stop at its next
  // checkpoint instead: aborting through piscina would terminate the warm worker and force a cold start.
  const queueAbort = new AbortController();
  const onAbort = () => {
    Atomics.store(flags, CONTROL_CANCEL, 1);
    if (Atomics.load(flags, CONTROL_STATE) === STATE_QUEUED) queueAbort.abort();
  };
  params.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const envelope = await pool.run(task, { transferList: [inputs.buffer], signal: queueAbort.signal });
    const result = unwrapEnvelope(envelope as TaskEnvelope<FhePredictResult>);
    return { groups: unpackGroups(result.outputs), evalMicros: result.evalMicros };
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new WorkerTaskError('cancelled', 'the request was cancelled');
    throw err;
  } finally {
    params.signal?.removeEventListener('abort', onAbort);
  }
}
