import type { FhePlan, PlanStage } from '../../fhe';
import type { TracingSettings } from '../../tracing';
import type { PackedGroups } from './packed-buffers';

/**
 * Given once to every FHE worker at start: the compiled plans it serves, by plan key (`model/variant`), its key-cache
 * bound, and the revocation log through which closed and evicted sessions reach it (`revocation-log.ts`).
 */
export type FheWorkerData = {
  plans: Record<string, FhePlan>; keyCacheBytes: number; revocations: SharedArrayBuffer;
  /** The gateway's tracing settings (issue #12): each worker thread exports its own spans. Absent: tracing is off. */
  tracing?: TracingSettings;
};

/**
 * The submitting request's W3C trace context (`traceparent`, `tracestate`) and when the task was queued (epoch ms),
 * so the worker's queue and evaluation spans are children of the request's span. Never anything of the payload.
 */
export type FheTaskTrace = { carrier: Record<string, string>; queuedAt: number };

/** A session's evaluation keys, shared (not copied) with every worker via SharedArrayBuffers. */
export type SharedSessionKeys = { galoisKeys?: SharedArrayBuffer; relinKeys?: SharedArrayBuffer };

/**
 * Cancellation shared by every task of one request (Int32Array over a SharedArrayBuffer): slot 0 = 1 once the client
 * cancelled or a sibling task failed. A worker checks it between ciphertext groups; piscina's own abort is never used,
 * because aborting a task a worker has already taken terminates that warm worker.
 */
export const CONTROL_CANCEL = 0;
export const CONTROL_BYTES = 4;

/**
 * The exit code of a worker that retired itself after SEAL's WASM runtime aborted (EX_TEMPFAIL). It answered the task
 * that caused the abort; a task it was handed afterwards was never started, so the pool runs it again on a fresh worker.
 * Any other exit under a task is a crash the task may have caused, and is not retried.
 */
export const RETIRED_EXIT_CODE = 75;

export type FhePredictTask = {
  kind: 'predict';
  planKey: string;
  /** The session's number in this pool (`FhePool.newSessionKey`): what worker key caches and revocations name. */
  session: number;
  keys: SharedSessionKeys;
  inputs: PackedGroups;
  control: SharedArrayBuffer;
  /** Epoch milliseconds after which the result is useless (0 = none). */
  deadline: number;
  trace?: FheTaskTrace;
  /**
   * One stage of a single group split across workers (`FhePool.predict`): the one group's ciphertexts are the client's
   * input, or (with `resumeAfter`) the previous stage's partial sums, which only this pool's workers produced.
   */
  stage?: PlanStage;
};

export type FhePredictResult = { outputs: PackedGroups; evalMicros: number };

/** Loads (and so validates) a new session's keys in one worker before the session is handed out. */
export type FheLoadKeysTask = { kind: 'loadKeys'; planKey: string; session: number; keys: SharedSessionKeys; trace?: FheTaskTrace };

/** What one worker's key cache holds right now (operations and tests). */
export type FheWorkerStats = { cachedSessions: number; cachedBytes: number };
export type FheStatsTask = { kind: 'stats' };

export type FheTask = FhePredictTask | FheLoadKeysTask | FheStatsTask;
