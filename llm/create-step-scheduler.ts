export type StepScheduler = {
  /**
   * Waits for a turn to run one model step (a prefill or one decode token), then runs it. Turns are granted in
   * arrival order, so a long generation that asks again after every token queues behind the requests that arrived
   * meanwhile: no request is starved, whatever the others' lengths.
   */
  run<T>(step: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Steps running now and waiting. */
  load(): { running: number; waiting: number };
};

/** At most `concurrency` model steps at once (the session's threads are the real limit), granted first come first served. */
export function createStepScheduler(concurrency: number): StepScheduler {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  let running = 0;
  const waiting: { start: () => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next.start();
    }
  };

  return {
    run(step, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const start = () => {
          if (entry.onAbort) signal?.removeEventListener('abort', entry.onAbort);
          // A step that throws before returning its promise must still give its turn back.
          let result: ReturnType<typeof step>;
          try {
            result = step();
          } catch (err) {
            result = Promise.reject(err);
          }
          result.then(resolve, reject).finally(release);
        };
        const entry: (typeof waiting)[number] = { start, signal };
        if (running < concurrency) {
          running++;
          start();
          return;
        }
        entry.onAbort = () => {
          const at = waiting.indexOf(entry);
          if (at !== -1) waiting.splice(at, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', entry.onAbort, { once: true });
        waiting.push(entry);
      });
    },
    load: () => ({ running, waiting: waiting.length }),
  };
}
