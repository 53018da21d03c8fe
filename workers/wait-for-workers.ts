import type { Piscina } from 'piscina';

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
