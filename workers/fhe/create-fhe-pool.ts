import path from 'node:path';
import { Piscina } from 'piscina';
import { context, propagation } from '@opentelemetry/api';
import { planSplitStages, type FhePlan, type PlanStage } from '../../fhe';
import type { TracingSettings } from '../../tracing';
import { unwrapEnvelope, workerExitCode, WorkerTaskError, type TaskEnvelope } from '../task-envelope';
import { waitForWorkers } from '../wait-for-workers';
import { packGroups, unpackGroups } from './packed-buffers';
import { createRevocationLog } from './revocation-log';
import { createSplitChooser } from './create-split-chooser';
import {
  CONTROL_BYTES, CONTROL_CANCEL, RETIRED_EXIT_CODE,
  type FhePredictResult, type FhePredictTask, type FheTask, type FheTaskTrace, type FheWorkerData, type FheWorkerStats, type SharedSessionKeys,
} from './fhe-task-types';

export type CreateFhePoolOptions = {
  plans: Record<string, FhePlan>;
  threads: number;
  maxQueue: number;
  keyCacheBytes: number;
  /** How long worker start-up (WASM, contexts, weight encoding) may take before the pool gives up. */
  readyTimeoutMs?: number;
  /**
   * Told about a worker failure no task is waiting on (e.g. a replacement worker that cannot start). Without a
   * listener piscina's 'error' event would be an uncaught exception that ends the process.
   */
  onWorkerError?: (err: Error) => void;
  /**
   * A call with one ciphertext group while at least two workers are idle may be evaluated by them together (its linear
   * layers' terms split between them, fhe/split-linear-terms.ts) instead of by one while the others idle: `auto`
   * (default) when that has been the faster way for this plan lately (create-split-chooser.ts), `always`, or `never`.
   */
  splitSingleGroups?: 'auto' | 'always' | 'never';
  /** Tracing settings for the worker threads (the gateway's, from its OTEL_* variables); absent: no worker spans. */
  tracing?: TracingSettings;
  /** @internal test seam: the worker module (default `fhe-task.ts`). */
  workerFile?: string;
};

export type FhePredictParameters = {
  planKey: string;
  /** The session's number from `newSessionKey`. */
  session: number;
  keys: SharedSessionKeys;
  groups: readonly (readonly Uint8Array[])[];
  signal?: AbortSignal;
  /** Epoch milliseconds; 0 or undefined = no deadline. */
  deadline?: number;
};

export type FhePool = {
  /** `splitInto`: how many workers evaluated the call's one group together (absent when it was not split). */
  predict(params: FhePredictParameters): Promise<{ groups: Uint8Array[][]; evalMicros: number; splitInto?: number }>;
  /** Loads a new session's keys in a worker: validates them (invalid_keys) and warms that worker's cache. */
  loadKeys(params: { planKey: string; session: number; keys: SharedSessionKeys }): Promise<void>;
  /** A number naming a new session in this pool's workers (never reused while the pool lives). */
  newSessionKey(): number;
  /** Every worker frees the session's loaded keys before its next task, and never uses them again. */
  forgetSession(session: number): void;
  /** One worker's key cache (whichever takes the task; with one thread, the only one). */
  workerStats(): Promise<FheWorkerStats>;
  readonly threads: number;
  /** Workers not running a task right now. */
  readonly idleThreads: number;
  readonly queueSize: number;
  /** Workers that finished start-up over the pool's life: more than `threads` means some were replaced. */
  readonly workerStarts: number;
  close(): Promise<void>;
};

const WORKER_FILE = path.join(__dirname, 'fhe-task.ts');
const READY_KEY = 'veilFheWorkerReady';

type Pool = Piscina<FheTask, TaskEnvelope<FhePredictResult | FheWorkerStats | null>>;

/**
 * Starts the FHE worker pool and resolves once every worker has built its contexts and pre-encoded its
 * plans, so no request ever waits for a worker to be created or warmed. The queue is bounded: when it is
 * full, `predict` rejects at once (classified as `overloaded`) instead of queueing without bound.
 */
export async function createFhePool(options: CreateFhePoolOptions): Promise<FhePool> {
  const revocations = createRevocationLog();
  const workerData: FheWorkerData = { plans: options.plans, keyCacheBytes: options.keyCacheBytes, revocations: revocations.buffer, tracing: options.tracing };
  const pool: Pool = new Piscina({
    filename: options.workerFile ?? WORKER_FILE,
    // Workers are TypeScript; tsx's CommonJS hook compiles them (the main process may not be running under tsx).
    execArgv: ['--require', 'tsx/cjs'],
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    maxQueue: options.maxQueue,
    workerData,
    // A traced worker exports its spans between tasks, which needs its event loop: piscina's default ('sync') parks an
    // idle thread in Atomics.wait, where no timer or socket runs. Untraced pools keep the faster default.
    ...(options.tracing ? { atomics: 'async' as const } : {}),
  });
  let workerStarts = 0;
  pool.on('message', (message: unknown) => {
    if (typeof (message as Partial<Record<string, unknown>> | null)?.[READY_KEY] === 'number') workerStarts++;
  });

  await waitForWorkers(pool, options.threads, READY_KEY, options.readyTimeoutMs ?? 120_000, 'FHE').catch(async (err) => {
    // Piscina replaces a failed worker to keep minThreads; its replacements fail too and emit 'error' after we
    // stop listening. Absorb those so a refused start-up cannot crash the process later.
    pool.on('error', () => undefined);
    await pool.destroy();
    throw err;
  });
  // From now on, for the pool's whole life: a worker that dies is replaced by piscina, and a replacement that fails
  // to start is reported here rather than thrown as an unhandled 'error' event.
  pool.on('error', (err: Error) => options.onWorkerError?.(err));

  // The linear ops worth splitting, per plan and part count (the same partition in every worker: fhe/split-linear-terms.ts).
  const stageCache = new Map<string, number[]>();
  const stagesFor = (planKey: string, parts: number): number[] => {
    const key = `${planKey}/${parts}`;
    let stages = stageCache.get(key);
    if (!stages) {
      const plan = options.plans[planKey];
      stages = plan ? planSplitStages(plan, parts) : [];
      stageCache.set(key, stages);
    }
    return stages;
  };

  const splitMode = options.splitSingleGroups ?? 'auto';
  const chooser = createSplitChooser();

  let sessions = 0;
  return {
    threads: options.threads,
    get queueSize() {
      return pool.queueSize;
    },
    get idleThreads() {
      return pool.idleThreads;
    },
    get workerStarts() {
      return workerStarts;
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
      // One flag for the whole request: the client's cancel and the first failing chunk both stop every sibling at
      // its next checkpoint. A queued task still runs, sees the flag and returns at once.
      const control = new SharedArrayBuffer(CONTROL_BYTES);
      const cancel = () => Atomics.store(new Int32Array(control), CONTROL_CANCEL, 1);
      params.signal?.addEventListener('abort', cancel, { once: true });
      let failure: { err: unknown } | undefined;
      const run = (groups: readonly (readonly Uint8Array[])[], stage?: PlanStage) =>
        runTask(pool, { ...params, groups }, control, stage).catch((err: unknown) => {
          failure ??= { err };
          cancel();
          throw err;
        });
      // Idle now means the split parts start at once rather than queue behind other requests' tasks.
      const helpers = Math.min(options.threads, pool.idleThreads);
      const stages = params.groups.length === 1 && splitMode !== 'never' && helpers >= 2 && pool.queueSize === 0
        ? stagesFor(params.planKey, helpers) : [];
      const split = stages.length > 0 && (splitMode === 'always' || chooser.shouldSplit(params.planKey));
      const started = performance.now();
      try {
        if (split) {
          const result = { ...(await runSplit(params.groups[0]!, stages, helpers, run)), splitInto: helpers };
          chooser.record(params.planKey, true, performance.now() - started);
          return result;
        }
        const settled = await Promise.allSettled(chunks.map((groups) => run(groups)));
        if (failure) throw failure.err;
        if (stages.length > 0) chooser.record(params.planKey, false, performance.now() - started);
        const results = settled.map((s) => (s as PromiseFulfilledResult<{ groups: Uint8Array[][]; evalMicros: number }>).value);
        return { groups: results.flatMap((r) => r.groups), evalMicros: results.reduce((a, r) => a + r.evalMicros, 0) };
      } finally {
        params.signal?.removeEventListener('abort', cancel);
      }
    },
    async loadKeys(params) {
      const trace = taskTrace();
      unwrapEnvelope(await runOnLiveWorker(pool, () => ({ task: { kind: 'loadKeys', ...params, trace } })));
    },
    newSessionKey() {
      // Session numbers are int32 in the revocation log; 2^31 sessions outlast any process.
      sessions = (sessions % 0x7fff_ffff) + 1;
      return sessions;
    },
    forgetSession(session) {
      revocations.revoke(session);
    },
    async workerStats() {
      return unwrapEnvelope(await runOnLiveWorker(pool, () => ({ task: { kind: 'stats' } }))) as FheWorkerStats;
    },
    close: () => pool.close(),
  };
}

type TaskResult = { groups: Uint8Array[][]; evalMicros: number };

/**
 * One group by `parts` workers at once: at each split linear op every worker evaluates its share of the terms (after
 * adding the previous stage's partial sums, so each resumes from the same ciphertext), and a last task adds the final
 * partial sums and finishes the plan. evalMicros is the workers' total, as for a batch.
 */
async function runSplit(group: readonly Uint8Array[], stages: readonly number[], parts: number,
  run: (groups: readonly (readonly Uint8Array[])[], stage?: PlanStage) => Promise<TaskResult>): Promise<TaskResult> {
  let carried: readonly Uint8Array[] = group;
  let resumeAfter: number | undefined;
  let evalMicros = 0;
  for (const stopAt of stages) {
    const input = carried;
    const results = await Promise.all(Array.from({ length: parts }, (_, index) => run([input], { resumeAfter, stopAt, part: { index, count: parts } })));
    carried = results.map((r) => r.groups[0]![0]!);
    evalMicros += results.reduce((a, r) => a + r.evalMicros, 0);
    resumeAfter = stopAt;
  }
  const last = await run([carried], { resumeAfter });
  return { groups: last.groups, evalMicros: evalMicros + last.evalMicros };
}

async function runTask(pool: Pool, params: FhePredictParameters, control: SharedArrayBuffer, stage?: PlanStage): Promise<TaskResult> {
  const trace = taskTrace();
  // Packed afresh for every attempt: the buffer is moved to the worker, so a retried task cannot reuse it.
  const envelope = await runOnLiveWorker(pool, () => {
    const inputs = packGroups(params.groups);
    const task: FhePredictTask = {
      kind: 'predict',
      planKey: params.planKey,
      session: params.session,
      keys: params.keys,
      inputs,
      control,
      deadline: params.deadline ?? 0,
      trace,
      ...(stage ? { stage } : {}),
    };
    return { task, transferList: [inputs.buffer] };
  });
  const result = unwrapEnvelope(envelope as TaskEnvelope<FhePredictResult>);
  return { groups: unpackGroups(result.outputs), evalMicros: result.evalMicros };
}

/**
 * The caller's trace context, to re-activate in the worker thread (a thread has its own context and tracer). Empty
 * when nothing is traced: the OpenTelemetry API injects nothing until an SDK is installed.
 */
function taskTrace(): FheTaskTrace | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length === 0 ? undefined : { carrier, queuedAt: performance.timeOrigin + performance.now() };
}

/** How often one task is handed to a worker that then retires before running it (each retirement is another request's abort). */
const MAX_RETIRED_ATTEMPTS = 3;

/**
 * Runs a task, surviving the death of the worker that took it. A worker that retired (RETIRED_EXIT_CODE: another
 * request aborted its SEAL runtime) never started this task, so it runs again on the replacement piscina starts. A
 * worker that died any other way may have died of this very task, so it is not retried: the caller gets `unavailable`
 * (retryable), never piscina's bare error, which the gateway could only classify as `internal`.
 */
async function runOnLiveWorker(pool: Pool, build: () => { task: FheTask; transferList?: ArrayBuffer[] }): Promise<TaskEnvelope<FhePredictResult | FheWorkerStats | null>> {
  for (let attempt = 1; ; attempt++) {
    const { task, transferList } = build();
    try {
      // No `signal` here: piscina aborts a task a worker has already taken by terminating that worker (a cold start of
      // WASM, contexts and weights), and "taken" starts before the worker runs a line of ours. The shared flag is enough.
      return await pool.run(task, transferList ? { transferList } : {});
    } catch (err) {
      const exit = workerExitCode(err);
      if (exit === undefined) throw err;
      if (exit === RETIRED_EXIT_CODE && attempt < MAX_RETIRED_ATTEMPTS) continue;
      throw new WorkerTaskError('unavailable', 'the FHE worker running this request stopped; retry', { reason: (err as Error).message });
    }
  }
}
