/** Test helpers for TEE routing tests: a TEE node on a scripted pool (no onnxruntime). @internal */
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import { createTeeNode, type TeeNode, type TeePool } from '../../workers/tee';

export const TEST_MODEL = 'breast-cancer-lr';
export const TEST_ATTESTATION = {
  measurements: [`simulated:${Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex')}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600,
} as const;
/** Routing policy for these tests: SIMULATED allowed, its self-carried key accepted (tests only; never in config). */
export const TEST_POLICY = { attestation: TEST_ATTESTATION, allowSimulated: true, roots: { simulated: 'self-signed' as const } };

/** A pool that answers every task at once with one output (or as `run` scripts it). */
export function scriptedPool(run?: TeePool['run']): TeePool {
  return {
    run: run ?? (async () => ({ outputs: { probability: { dims: [1, 1], data: new Float32Array([0.5]) } }, computeMicros: 1 })),
    threads: 1, intraOpThreads: 1, modelIds: [TEST_MODEL], queueSize: 0,
    close: async () => undefined,
  };
}

export async function startScriptedNode(run?: TeePool['run']): Promise<TeeNode> {
  const node = createTeeNode({ pool: scriptedPool(run), evidenceSource: createSimulatedProvider(), evidenceRefreshMs: 0 });
  await node.start();
  return node;
}
