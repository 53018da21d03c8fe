import { Piscina } from 'piscina';

/**
 * What crosses the worker boundary. Errors thrown inside a worker lose their class and code when
 * structured-cloned (piscina#141), so tasks never throw: they return an envelope with a stable code and
 * a message that is safe to show a client.
 */
export type WireError = { code: string; message: string; details?: Record<string, unknown> };
export type TaskEnvelope<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** A successful envelope whose ArrayBuffers are moved (not copied) back to the main thread. */
class MovableEnvelope<T> {
  constructor(private readonly envelope: TaskEnvelope<T>, private readonly transfer: ArrayBuffer[]) {}
  get [Piscina.transferableSymbol](): ArrayBuffer[] {
    return this.transfer;
  }
  get [Piscina.valueSymbol](): TaskEnvelope<T> {
    return this.envelope;
  }
}

export function okEnvelope<T>(value: T, transfer: ArrayBuffer[] = []): TaskEnvelope<T> {
  const envelope: TaskEnvelope<T> = { ok: true, value };
  return transfer.length === 0 ? envelope : (Piscina.move(new MovableEnvelope(envelope, transfer) as never) as unknown as TaskEnvelope<T>);
}

export function errorEnvelope(code: string, message: string, details?: Record<string, unknown>): TaskEnvelope<never> {
  return { ok: false, error: details ? { code, message, details } : { code, message } };
}

/** The main-thread side of an error envelope: an Error carrying the worker's code for the gateway's classifier. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError' as const;
  constructor(readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

export function unwrapEnvelope<T>(envelope: TaskEnvelope<T>): T {
  if (envelope.ok) return envelope.value;
  throw new WorkerTaskError(envelope.error.code, envelope.error.message, envelope.error.details);
}

/** Piscina's rejection of the tasks a worker held when its thread exited. */
const WORKER_EXIT = /^worker exited with code: (-?\d+)$/;

/** The exit code when `err` is piscina telling that the worker running a task died; undefined for anything else. */
export function workerExitCode(err: unknown): number | undefined {
  const exit = err instanceof Error ? WORKER_EXIT.exec(err.message) : null;
  return exit ? Number(exit[1]) : undefined;
}
