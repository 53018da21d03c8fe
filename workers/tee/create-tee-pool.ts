import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { validateTensorMap, type TeeTensorMap } from '../../tee';
import { unwrapEnvelope, workerExitCode, WorkerTaskError, type TaskEnvelope } from '../task-envelope';
import { waitForWorkers } from '../wait-for-workers';
import { createRunGate } from './create-run-gate';
import type { TeeRunResult, TeeRunTask, TeeWorkerData, TeeWorkerMessage, WireTensor } from './tee-task-types';

export type CreateTeePoolOptions = {
  /** Model id → ONNX file path. Every worker loads every model at start. */
  models: Record<string, string>;
  /** Worker threads. Default: ⌊cores / intraOpThreads⌋ (at least 1), so threads × intraOpThreads ≤ cores. */
  threads?: number;
  /** onnxruntime intra-op threads per session. Default 1: small models gain nothing from more, and the pool parallelises requests. */
  intraOpThreads?: number;
  /** Tasks that may wait for a worker; beyond it `run` fails at once with `overloaded`. Default 4 × threads. */
  maxQueue?: number;
  /** How long worker start-up (ORT sessions) may take. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * Told about a worker failure no task is waiting on (e.g. a replacement worker that cannot start). Without a
   * listener piscina's 'error' event would be an uncaught exception that ends the process.
   */
  onWorkerError?: (err: Error) => void;
  /** @internal test seam: the worker module (default `tee-task.ts`). */
  workerFile?: string;
};

export type TeeRunParameters = {
  modelId: string;
  /** Float32 inputs by name. Whole-buffer tensors are moved (their buffers are detached afterwards); views are copied. */
  inputs: TeeTensorMap;
  /** Cancels the task while it waits for a worker; a task that started finishes (a running worker is never killed). */
  signal?: AbortSignal;
};

export type TeeRunOutput = { outputs: TeeTensorMap; computeMicros: number };

export type TeePool = {
  /** @throws {WorkerTaskError} `tee_model_not_found`, `invalid_input`, `overloaded`, `cancelled`, `unavailable`, `internal` */
  run(params: TeeRunParameters): Promise<TeeRunOutput>;
  readonly threads: number;
  readonly intraOpThreads: number;
  readonly modelIds: readonly string[];
  readonly queueSize: number;
  /** Releases every worker's ORT sessions, then stops the workers. */
  close(): Promise<void>;
};

const WORKER_FILE = path.join(__dirname, 'tee-task.ts');

/**
 * Starts the TEE inference pool and resolves once every worker holds a warm session per model.
 * @example
 * const pool = await createTeePool({ models: { 'breast-cancer-lr': file } });
 * const { outputs } = await pool.run({ modelId: 'breast-cancer-lr', inputs: { x: { dims: [1, 30], data } } });
 */
export async function createTeePool(options: CreateTeePoolOptions): Promise<TeePool> {
  const intraOpThreads = options.intraOpThreads ?? 1;
  const threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / intraOpThreads));
  const maxQueue = options.maxQueue ?? 4 * threads;
  if (!Number.isInteger(intraOpThreads) || intraOpThreads < 1) throw new RangeError('createTeePool: intraOpThreads must be a positive integer');
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError('createTeePool: threads must be a positive integer');
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('createTeePool: maxQueue must be a non-negative integer');
  // A node may serve language models only: then there are no tensor models and no workers to start.
  if (Object.keys(options.models).length === 0) return emptyTeePool();

  const releaseChannel = `veil-tee-release-${randomUUID()}`;
  const workerData: TeeWorkerData = { models: { ...options.models }, intraOpThreads, releaseChannel };
  const pool = new Piscina<TeeRunTask, TaskEnvelope<TeeRunResult>>({
    filename: options.workerFile ?? WORKER_FILE,
    execArgv: ['--require', 'tsx/cjs'],
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    maxQueue,
    // 'async' (Atomics.waitAsync) keeps an idle worker's event loop running, so the release broadcast in
    // close() reaches every worker; with 'sync' an idle worker sleeps in Atomics.wait and never sees it.
    atomics: 'async',
    workerData,
  });

  await waitForWorkers(pool, threads, 'veilTeeWorkerReady', options.readyTimeoutMs ?? 60_000, 'TEE').catch(async (err) => {
    // Piscina replaces a failed worker to keep minThreads; its replacements fail too and emit 'error' after we
    // stop listening. Absorb those so a refused start-up cannot crash the process later.
    pool.on('error', () => undefined);
    await pool.destroy();
    throw err;
  });
  // From now on, for the pool's whole life: a worker that dies is replaced by piscina, and a replacement that fails
  // to start is reported here rather than thrown as an unhandled 'error' event.
  pool.on('error', (err: Error) => options.onWorkerError?.(err));

  // Our gate, not piscina's queue, bounds and orders waiting tasks, so cancellation never terminates a warm worker.
  const gate = createRunGate(threads, maxQueue);
  let closing: Promise<void> | undefined;
  return {
    threads,
    intraOpThreads,
    modelIds: Object.freeze(Object.keys(options.models)),
    get queueSize() {
      return gate.waiting;
    },
    async run(params) {
      if (closing) throw new WorkerTaskError('unavailable', 'the TEE pool is closing');
      if (params.signal?.aborted) throw new WorkerTaskError('cancelled', 'the request was cancelled');
      validateTensorMap(params.inputs);
      const release = await gate.acquire(params.signal);
      let envelope: TaskEnvelope<TeeRunResult>;
      try {
        if (closing) throw new WorkerTaskError('unavailable', 'the TEE pool is closing');
        const { inputs, transferList } = toWire(params.inputs);
        envelope = await pool.run({ modelId: params.modelId, inputs }, { transferList });
      } catch (err) {
        if ((err as Error).message === 'Task queue is at limit') throw new WorkerTaskError('overloaded', 'the TEE node is at capacity; retry with backoff');
        // A worker that died under the task (piscina replaces it): retryable, never piscina's bare text, which the
        // gateway could only call `internal`. Not retried here: this very task may be what killed it.
        if (workerExitCode(err) !== undefined) throw new WorkerTaskError('unavailable', 'the TEE worker running this request stopped; retry', { reason: (err as Error).message });
        throw err;
      } finally {
        release();
      }
      const result = unwrapEnvelope(envelope);
      const outputs: TeeTensorMap = {};
      for (const o of result.outputs) outputs[o.name] = { dims: o.dims, data: o.data };
      return { outputs, computeMicros: result.computeMicros };
    },
    close() {
      closing ??= (async () => {
        const released = waitForWorkers(pool, threads, 'veilTeeWorkerReleased', 10_000, 'TEE').catch(() => undefined);
        const channel = new BroadcastChannel(releaseChannel);
        channel.postMessage('release');
        channel.close();
        await released;
        await pool.close();
      })();
      return closing;
    },
  };
}

function toWire(tensors: TeeTensorMap): { inputs: WireTensor[]; transferList: ArrayBuffer[] } {
  const transferList: ArrayBuffer[] = [];
  const inputs = Object.entries(tensors).map(([name, t]) => {
    const whole = t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !(t.data.buffer instanceof SharedArrayBuffer);
    const data = whole && !transferList.includes(t.data.buffer as ArrayBuffer) ? t.data : t.data.slice();
    transferList.push(data.buffer as ArrayBuffer);
    return { name, dims: [...t.dims], data };
  });
  return { inputs, transferList };
}

/** The pool of a node without tensor models: nothing to run, nothing to start. */
function emptyTeePool(): TeePool {
  return {
    threads: 0, intraOpThreads: 0, modelIds: Object.freeze([]), queueSize: 0,
    run: async (params) => {
      throw new WorkerTaskError('tee_model_not_found', `model "${String(params.modelId).slice(0, 64)}" is not served by this node`);
    },
    close: async () => undefined,
  };
}
