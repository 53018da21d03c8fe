import { parentPort } from 'node:worker_threads';
import type { Piscina } from 'piscina';

/** Message key a worker posts when its start-up fails (see `reportStartupFailure`). */
const FAILED_KEY = 'veilWorkerStartupFailed';

/**
 * Worker side: wraps a worker module's async initialisation so a failure reaches the pool with its real reason.
 * Piscina swallows an error from `require(file)` and retries the file as ESM, which for a TypeScript worker only
 * reports "Unknown file extension .ts" and hides what actually went wrong.
 */
export function reportStartupFailure<T>(init: Promise<T>): Promise<T> {
  return init.catch((err: unknown) => {
    parentPort?.postMessage({ [FAILED_KEY]: err instanceof Error ? err.message : String(err) });
    throw err;
  });
}

/**
 * Resolves once `count` distinct worker threads have posted `{ [key]: threadId }` (e.g. "ready" after their
 * contexts and sessions are built). Piscina's own readiness fires before a worker's async setup finishes, so
 * pools that must be warm before serving wait for their workers' own word instead.
 */
export function waitForWorkers(pool: Piscina, count: number, key: string, timeoutMs: number, label: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const seen = new Set<number>();
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${label} workers: ${key} from ${seen.size}/${count} after ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      const failure = (message as Partial<Record<string, unknown>> | null)?.[FAILED_KEY];
      if (typeof failure === 'string') {
        onError(new Error(failure));
        return;
      }
      const id = (message as Partial<Record<string, unknown>> | null)?.[key];
      if (typeof id !== 'number') return;
      seen.add(id);
      if (seen.size >= count) {
        cleanup();
        resolve();
      }
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(new Error(`a ${label} worker failed to start: ${err instanceof Error ? err.message : String(err)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      pool.off('message', onMessage);
      pool.off('error', onError);
    };
    pool.on('message', onMessage);
    pool.on('error', onError);
  });
}
