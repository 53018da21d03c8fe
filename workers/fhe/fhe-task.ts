/**
 * Piscina worker entry for FHE evaluation. Everything expensive happens once, when the worker starts and
 * before it reports ready: node-seal's WASM instance, one CKKS context per parameter set, and every model's
 * plan evaluator with its weight plaintexts pre-encoded. A task then only loads ciphertexts (and, the first
 * time a session reaches this worker, its keys), evaluates, and moves the results back.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { startTracing, type Tracing } from '../../tracing';
import {
  createCkksRuntime, createPlanEvaluator, FheInputError, isSealAbort, loadCiphertext, loadEvaluationKeys, loadSeal,
  type CkksRuntime, type PlanEvaluator,
} from '../../fhe';
import { errorEnvelope, okEnvelope, type TaskEnvelope } from '../task-envelope';
import { reportStartupFailure } from '../wait-for-workers';
import { packGroups, unpackGroups } from './packed-buffers';
import { readRevocationLog } from './revocation-log';
import { WorkerKeyCache } from './worker-key-cache';
import {
  CONTROL_CANCEL, RETIRED_EXIT_CODE,
  type FheLoadKeysTask, type FhePredictResult, type FhePredictTask, type FheTask, type FheTaskTrace, type FheWorkerData, type FheWorkerStats,
} from './fhe-task-types';

type ServedModel = { runtime: CkksRuntime; evaluator: PlanEvaluator; plan: FheWorkerData['plans'][string] };
type LoadedKeys = ReturnType<typeof loadEvaluationKeys>;

/** Raised inside the task to stop early; converted to an envelope, never thrown across the boundary. */
class Stop {
  constructor(readonly code: 'cancelled' | 'deadline_exceeded') {}
}

async function init(): Promise<(task: FheTask) => TaskEnvelope<FhePredictResult | FheWorkerStats | null>> {
  const data = workerData as FheWorkerData;
  // A thread has its own OpenTelemetry globals: it exports its own spans, under the gateway's service name.
  const tracing = data.tracing ? startTracing({ settings: data.tracing, attributes: { 'thread.id': threadId } }) : undefined;
  const seal = await loadSeal();
  const runtimes = new Map<string, CkksRuntime>();
  const models = new Map<string, ServedModel>();
  for (const [planKey, plan] of Object.entries(data.plans)) {
    const paramsKey = JSON.stringify(plan.spec.params);
    let runtime = runtimes.get(paramsKey);
    if (!runtime) {
      runtime = createCkksRuntime(seal, plan.spec.params);
      runtimes.set(paramsKey, runtime);
    }
    models.set(planKey, { runtime, evaluator: createPlanEvaluator(runtime, plan), plan });
  }
  const keyCache = new WorkerKeyCache<LoadedKeys, number>(data.keyCacheBytes);
  const revocations = readRevocationLog(data.revocations);
  parentPort?.postMessage({ veilFheWorkerReady: threadId });

  const keysFor = (model: ServedModel, task: FhePredictTask | FheLoadKeysTask): LoadedKeys => {
    let keys = keyCache.get(task.session);
    if (!keys) {
      const galois = task.keys.galoisKeys ? new Uint8Array(task.keys.galoisKeys) : undefined;
      const relin = task.keys.relinKeys ? new Uint8Array(task.keys.relinKeys) : undefined;
      keys = loadEvaluationKeys(model.runtime, { galoisKeys: galois, relinKeys: relin }, model.plan.spec);
      // Seeded keys roughly double once expanded in WASM memory.
      keyCache.set(task.session, keys, 2 * ((galois?.byteLength ?? 0) + (relin?.byteLength ?? 0)));
    }
    return keys;
  };

  const loadKeys = (task: FheLoadKeysTask): TaskEnvelope<null> => {
    const model = models.get(task.planKey);
    if (!model) return errorEnvelope('model_not_found', `plan "${task.planKey}" is not served by this worker`);
    try {
      keysFor(model, task);
      return okEnvelope(null);
    } catch (err) {
      return failure(err, task.session);
    }
  };

  let retiring = false;
  // Give piscina a moment to post this task's answer, then end the thread (process.exit in a worker ends the thread).
  // The pool may already have handed this worker its next task: that one is never run here (see the task handler).
  const retire = () => {
    if (retiring) return;
    retiring = true;
    setTimeout(() => process.exit(RETIRED_EXIT_CODE), 50);
  };

  const failure = (err: unknown, session: number): TaskEnvelope<never> => {
    // SEAL's WASM runtime aborted (truncated serialised keys do it): its state is undefined from here on, so this
    // thread answers this task and then exits; the pool starts a fresh warm worker in its place.
    if (isSealAbort(err)) retire();
    const coded = err as { code?: unknown; message?: unknown };
    // fhe/ raises typed errors with safe messages (invalid_ciphertext, invalid_keys, invalid_input).
    if (typeof coded.code === 'string' && typeof coded.message === 'string' && coded.code.startsWith('invalid_')) {
      if (coded.code === 'invalid_keys') keyCache.delete(session);
      return errorEnvelope(coded.code, coded.message);
    }
    // Anything else is our bug: report the class of failure, never the data.
    return errorEnvelope('internal', 'evaluation failed', { reason: err instanceof Error ? err.message : String(err) });
  };

  return (task: FheTask) => {
    // This runtime aborted: its WASM state is undefined, so nothing more is computed with it. Exiting now, with the
    // task unstarted, tells the pool to run the task again on the fresh worker it starts in this one's place.
    if (retiring) process.exit(RETIRED_EXIT_CODE);
    // Closed, expired and evicted sessions: free their keys before doing anything else (see revocation-log.ts).
    revocations.drain((session) => keyCache.delete(session), () => keyCache.clear());
    if (task.kind === 'stats') return okEnvelope({ cachedSessions: keyCache.size, cachedBytes: keyCache.bytes });
    return task.kind === 'loadKeys'
      ? traced(tracing, 'veil.fhe.load_keys', task.trace, { 'veil.plan': task.planKey }, () => loadKeys(task))
      : traced(tracing, 'veil.fhe.evaluate', task.trace, { 'veil.plan': task.planKey, 'veil.groups': task.inputs.perGroup > 0 ? task.inputs.lengths.length / task.inputs.perGroup : 0 }, () => predict(task));
  };

  function predict(task: FhePredictTask): TaskEnvelope<FhePredictResult> {
    const control = new Int32Array(task.control);
    const checkpoint = () => {
      if (Atomics.load(control, CONTROL_CANCEL) === 1) throw new Stop('cancelled');
      if (task.deadline > 0 && Date.now() > task.deadline) throw new Stop('deadline_exceeded');
    };
    const live: { delete(): void }[] = [];
    try {
      checkpoint();
      const model = models.get(task.planKey);
      if (!model) return errorEnvelope('model_not_found', `plan "${task.planKey}" is not served by this worker`);
      const { runtime, evaluator, plan } = model;
      const keys = keysFor(model, task);

      const started = process.hrtime.bigint();
      const outputs: Uint8Array[][] = [];
      for (const group of unpackGroups(task.inputs)) {
        checkpoint();
        const resuming = task.stage?.resumeAfter !== undefined;
        if (!resuming && group.length !== plan.spec.inputCiphertexts) {
          return errorEnvelope('invalid_argument', `each group must hold ${plan.spec.inputCiphertexts} ciphertext(s), got ${group.length}`);
        }
        const inputs = group.map((bytes) => {
          const ct = resuming ? loadPartialSum(runtime, bytes) : loadCiphertext(runtime, bytes);
          live.push(ct);
          return ct;
        });
        let results;
        try {
          if (task.stage && !evaluator.evaluateStage) throw new Error(`internal: plan "${task.planKey}" cannot be evaluated in stages`);
          results = task.stage ? [evaluator.evaluateStage!(inputs, keys, task.stage)] : evaluator.evaluate(inputs, keys);
        } catch (err) {
          // The inputs passed loadCiphertext's checks (parameters, level, scale), but SEAL validates only metadata on
          // load: corrupted coefficient data surfaces here, as a SEAL exception or a WASM abort. That is the client's
          // data, not our bug (the plans are tested against onnxruntime), so it is refused as such; an abort also
          // retires this worker (see failure()).
          const code = (err as { code?: unknown }).code;
          if (err instanceof Stop || (typeof code === 'string' && code.startsWith('invalid_'))) throw err;
          throw new FheInputError('invalid_ciphertext', 'the ciphertexts could not be evaluated: their data is malformed for this model\'s parameters', { cause: err });
        }
        live.push(...results);
        outputs.push(results.map((ct) => ct.saveArray(runtime.seal.ComprModeType.none)));
        for (const obj of live.splice(0)) obj.delete();
      }
      const evalMicros = Number((process.hrtime.bigint() - started) / 1000n);
      const packed = packGroups(outputs);
      return okEnvelope({ outputs: packed, evalMicros }, [packed.buffer]);
    } catch (err) {
      if (err instanceof Stop) return errorEnvelope(err.code, err.code === 'cancelled' ? 'the request was cancelled' : 'the deadline expired during evaluation');
      return failure(err, task.session);
    } finally {
      for (const obj of live) obj.delete();
    }
  }
}

/**
 * A partial sum another worker of this pool produced for the previous stage (never client bytes: the pool passes only
 * its own workers' outputs here). It sits below the top level at a plan-internal scale, so loadCiphertext's checks
 * for a fresh input do not apply; the evaluator re-asserts the scale when it adds the parts.
 */
function loadPartialSum(runtime: CkksRuntime, bytes: Uint8Array) {
  const ct = runtime.seal.CipherText();
  try {
    ct.loadArray(runtime.context, bytes);
  } catch (err) {
    ct.delete();
    throw err;
  }
  return ct;
}

const tracer = trace.getTracer('veil-fhe-worker');

/**
 * Runs a task inside the submitting request's trace: a `veil.fhe.queue` span from submission to this thread picking
 * the task up, then the task's own span around the work. Attributes are routing metadata only (plan, group count);
 * a refusal is marked with its code. The spans are flushed once the answer is on its way: piscina may end this thread
 * at any time (retirement, pool close), and an idle thread has time to send them (the pool runs traced workers with
 * piscina's `atomics: 'async'`, so an idle thread's event loop runs instead of blocking in Atomics.wait).
 */
function traced<T>(tracing: Tracing | undefined, name: string, taskTrace: FheTaskTrace | undefined, attributes: Record<string, string | number>, run: () => TaskEnvelope<T>): TaskEnvelope<T> {
  if (!tracing || !taskTrace) return run();
  const parent = propagation.extract(ROOT_CONTEXT, taskTrace.carrier);
  const picked = performance.timeOrigin + performance.now();
  tracer.startSpan('veil.fhe.queue', { startTime: taskTrace.queuedAt, attributes: { 'thread.id': threadId } }, parent).end(picked);
  const span = tracer.startSpan(name, { startTime: picked, attributes: { ...attributes, 'thread.id': threadId } }, parent);
  try {
    const envelope = context.with(trace.setSpan(parent, span), run);
    const failed = (envelope as { ok?: boolean }).ok === false ? (envelope as { error: { code: string } }).error.code : undefined;
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    return envelope;
  } finally {
    span.end();
    scheduleFlush(tracing);
  }
}

let flushing = false;
/** One export at a time: under load the spans of several tasks go out together. */
function scheduleFlush(tracing: Tracing): void {
  if (flushing) return;
  flushing = true;
  setImmediate(() => void tracing.flush().catch(() => undefined).finally(() => (flushing = false)));
}

module.exports = reportStartupFailure(init());
