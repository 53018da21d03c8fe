/**
 * Cancellation over HTTP reaches the worker pool: a client that goes away while its prediction is being evaluated
 * aborts the call's signal, which the handler hands to `pool.predict` (the pool's tasks stop at their next
 * checkpoint). A stand-in pool records what it was told; keyless sessions need no SEAL.
 */
import type { FhePool } from '../../workers';
import { startFheHttpStack, type FheHttpStack } from '../../test/support/start-fhe-http-stack';

let stack: FheHttpStack;
const seen: { started: number; aborted: number } = { started: 0, aborted: 0 };

const pool: FhePool = {
  threads: 1, idleThreads: 1, queueSize: 0, workerStarts: 1,
  newSessionKey: (() => { let n = 0; return () => ++n; })(),
  forgetSession: () => undefined,
  loadKeys: async () => undefined,
  predict: ({ signal }) => new Promise((_, reject) => {
    seen.started++;
    signal?.addEventListener('abort', () => {
      seen.aborted++;
      reject(signal.reason);
    }, { once: true });
  }),
  workerStats: async () => ({ cachedSessions: 0, cachedBytes: 0 }),
  close: async () => undefined,
};

beforeAll(async () => {
  stack = await startFheHttpStack({ pool, variants: ['feature-major'] });
});
afterAll(async () => stack?.close());

test('error: a client that goes away mid-prediction aborts the evaluation it asked for', async () => {
  const opened = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: { 'x-veil-model': 'breast-cancer-lr', 'x-veil-fhe-variant': 'feature-major' } });
  const { id } = await opened.json() as { id: string };
  const inputs = stack.models.get('breast-cancer-lr')!.primary.plan.spec.inputCiphertexts;
  const controller = new AbortController();
  const pending = fetch(`${stack.baseUrl}/v1/fhe/sessions/${id}/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ groups: [{ ciphertexts: Array.from({ length: inputs }, () => 'AAAA') }] }),
  }).catch((e: unknown) => e);
  for (let i = 0; i < 100 && seen.started === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(seen).toEqual({ started: 1, aborted: 0 });
  controller.abort();
  expect(await pending).toMatchObject({ name: 'AbortError' });
  for (let i = 0; i < 100 && seen.aborted === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(seen.aborted).toBe(1);
});
