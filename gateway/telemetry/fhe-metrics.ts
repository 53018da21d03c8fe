import type { FhePool } from '../../workers';
import { gatewayInstrument } from './gateway-instruments';

/** Ciphertext groups evaluated (a counter: its rate is FHE groups/s), by model and variant. */
export function recordFheGroups(model: string, variant: string, groups: number): void {
  gatewayInstrument('veil.fhe.groups', (m) => m.createCounter('veil.fhe.groups', { description: 'FHE ciphertext groups evaluated' })).add(groups, { model, variant });
}

/**
 * Gauges of the FHE worker pool, read at each scrape: tasks waiting in the queue, and utilisation (the share of workers
 * running a task). Returns the function that stops observing (the pool is closed with the gateway).
 */
export function observeFhePool(pool: Pick<FhePool, 'queueSize' | 'idleThreads' | 'threads'>): () => void {
  const queue = gatewayInstrument('veil.fhe.pool.queue_depth', (m) => m.createObservableGauge('veil.fhe.pool.queue_depth', { description: 'FHE tasks waiting for a worker' }));
  const utilization = gatewayInstrument('veil.fhe.pool.utilization', (m) => m.createObservableGauge('veil.fhe.pool.utilization', { description: 'share of FHE workers running a task (0..1)', unit: '1' }));
  const onQueue = (r: { observe(v: number): void }) => r.observe(pool.queueSize);
  const onUtilization = (r: { observe(v: number): void }) => r.observe(pool.threads === 0 ? 0 : (pool.threads - Math.min(pool.idleThreads, pool.threads)) / pool.threads);
  queue.addCallback(onQueue);
  utilization.addCallback(onUtilization);
  return () => {
    queue.removeCallback(onQueue);
    utilization.removeCallback(onUtilization);
  };
}
