import * as ort from 'onnxruntime-node';
import { errorEnvelope, okEnvelope, type TaskEnvelope } from '../task-envelope';
import type { TeeRunResult, TeeRunTask, WireTensor } from './tee-task-types';

/** What a task needs of an onnxruntime session (a seam for tests). */
export type TeeTaskSession = Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'run'>;

type TensorFactory = (data: Float32Array, dims: readonly number[]) => ort.Tensor;
const float32Tensor: TensorFactory = (data, dims) => new ort.Tensor('float32', data, dims);

/**
 * Runs one TEE task on a warm session inside a worker: validates the input names, runs, and copies the outputs
 * into buffers the worker owns so they can be moved. Every ORT tensor it creates (inputs) or receives (outputs)
 * is disposed on every path — success, a non-float32 output, an ORT failure — so native memory never waits for
 * the garbage collector. Messages name shapes and types, never values.
 */
export async function runTeeTask(session: TeeTaskSession, task: TeeRunTask, tensor: TensorFactory = float32Tensor): Promise<TaskEnvelope<TeeRunResult>> {
  const given = new Map(task.inputs.map((t) => [t.name, t]));
  for (const name of session.inputNames) {
    if (!given.has(name)) return errorEnvelope('invalid_input', `input "${name}" is missing (the model takes ${session.inputNames.join(', ')})`);
  }
  for (const name of given.keys()) {
    if (!session.inputNames.includes(name)) return errorEnvelope('invalid_input', `the model has no input "${name}" (it takes ${session.inputNames.join(', ')})`);
  }
  const started = process.hrtime.bigint();
  const feeds: Record<string, ort.Tensor> = {};
  let results: ort.InferenceSession.OnnxValueMapType | undefined;
  try {
    try {
      for (const t of task.inputs) feeds[t.name] = tensor(t.data, t.dims);
      results = await session.run(feeds);
    } catch (err) {
      // ORT's messages name shapes and types; keep them for the log, send a generic one.
      return errorEnvelope('invalid_input', 'the model rejected the inputs (shape or type mismatch)', { reason: err instanceof Error ? err.message : String(err) });
    }
    const computeMicros = Number((process.hrtime.bigint() - started) / 1000n);
    const outputs: WireTensor[] = [];
    for (const name of session.outputNames) {
      const out = results[name] as ort.Tensor | undefined;
      if (!out || out.type !== 'float32') return errorEnvelope('internal', 'a model output is not a float32 tensor', { output: name, type: out?.type });
      // Copy into a buffer this thread owns outright so it can be moved, not cloned.
      outputs.push({ name, dims: out.dims.map(Number), data: (out.data as Float32Array).slice() });
    }
    return okEnvelope({ outputs, computeMicros }, outputs.map((o) => o.data.buffer as ArrayBuffer));
  } finally {
    disposeAll(feeds, results);
  }
}

/** A failing dispose must not mask the task's own outcome: the tensor is unreachable either way. */
function disposeAll(...maps: (Record<string, unknown> | undefined)[]): void {
  for (const map of maps) {
    for (const value of Object.values(map ?? {})) {
      try {
        (value as { dispose?: () => void } | null)?.dispose?.();
      } catch {
        // ignored on purpose (see above)
      }
    }
  }
}
