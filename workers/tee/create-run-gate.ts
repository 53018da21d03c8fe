import { WorkerTaskError } from '../task-envelope';

export type RunGate = {
  /**
   * Waits for a free slot. Resolves with its release function; refuses at once with `overloaded` when `maxQueue`
   * callers already wait, and with `cancelled` when `signal` aborts while waiting (the task then never ran).
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  readonly waiting: number;
  readonly active: number;
};

/**
 * A FIFO gate of `slots` concurrent tasks in front of the TEE Piscina pool. Piscina cancels a *running* task by
 * terminating its worker (its warm onnxruntime sessions with it), so the pool never hands it a signal: a task is
 * cancellable exactly while it waits here, and one that started always finishes (its result is discarded).
 * @example const release = await gate.acquire(signal); try { await piscina.run(task); } finally { release(); }
 */
export function createRunGate(slots: number, maxQueue: number): RunGate {
  let active = 0;
  const queue: { grant: () => void; refuse: (err: Error) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];
  const release = () => {
    active--;
    pump();
  };
  const once = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  };
  const pump = () => {
    while (active < slots && queue.length > 0) {
      const next = queue.shift()!;
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      active++;
      next.grant();
    }
  };
  return {
    get waiting() {
      return queue.length;
    },
    get active() {
      return active;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(new WorkerTaskError('cancelled', 'the request was cancelled'));
      if (active < slots && queue.length === 0) {
        active++;
        return Promise.resolve(once());
      }
      if (queue.length >= maxQueue) return Promise.reject(new WorkerTaskError('overloaded', 'the TEE node is at capacity; retry with backoff'));
      return new Promise((resolve, reject) => {
        const entry: (typeof queue)[number] = { grant: () => resolve(once()), refuse: reject, signal };
        if (signal) {
          entry.onAbort = () => {
            const i = queue.indexOf(entry);
            if (i >= 0) queue.splice(i, 1);
            reject(new WorkerTaskError('cancelled', 'the request was cancelled'));
          };
          signal.addEventListener('abort', entry.onAbort, { once: true });
        }
        queue.push(entry);
      });
    },
  };
}
