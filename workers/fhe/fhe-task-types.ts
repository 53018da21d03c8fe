import type { FhePlan } from '../../fhe';
import type { PackedGroups } from './packed-buffers';

/** Given once to every FHE worker at start: the compiled plans it serves, by plan key (`model/variant`), and its key-cache bound. */
export type FheWorkerData = { plans: Record<string, FhePlan>; keyCacheBytes: number };

/** A session's evaluation keys, shared (not copied) with every worker via SharedArrayBuffers. */
export type SharedSessionKeys = { galoisKeys?: SharedArrayBuffer; relinKeys?: SharedArrayBuffer };

/**
 * Cancellation and deadline control shared with the worker: Int32Array over a SharedArrayBuffer,
 * slot 0 = state (0 queued, 1 running, 2 finished), slot 1 = cancel requested (1).
 */
export const CONTROL_STATE = 0;
export const CONTROL_CANCEL = 1;
export const STATE_QUEUED = 0;
export const STATE_RUNNING = 1;
export const STATE_FINISHED = 2;

export type FhePredictTask = {
  kind: 'predict';
  planKey: string;
  sessionId: string;
  keys: SharedSessionKeys;
  inputs: PackedGroups;
  control: SharedArrayBuffer;
  /** Epoch milliseconds after which the result is useless (0 = none). */
  deadline: number;
};

export type FhePredictResult = { outputs: PackedGroups; evalMicros: number };

/** Loads (and so validates) a new session's keys in one worker before the session is handed out. */
export type FheLoadKeysTask = { kind: 'loadKeys'; planKey: string; sessionId: string; keys: SharedSessionKeys };

export type FheTask = FhePredictTask | FheLoadKeysTask;
