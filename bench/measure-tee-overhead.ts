import * as ort from 'onnxruntime-node';
import { createSimulatedProvider } from '../attestation';
import { connectTeeModel, type TeeModelClient, type TeeTransport } from '../client/tee';
import type { TeeTensorMap } from '../tee';
import { createTeeNode, createTeePool, type TeeNodeTimings as TeeInferTimings } from '../workers/tee';

export type MeasureTeeOverheadParameters = {
  modelFile: string;
  /** Timed runs per path. Default 200. */
  samples?: number;
  warmup?: number;
  /** Rows per request for a symbolic batch dimension. Default 1. */
  batch?: number;
};

/** Median milliseconds of each stage of the full path. */
export type TeeOverheadBreakdown = {
  clientSealMs: number;
  nodeOpenMs: number;
  poolHopMs: number;
  computeMs: number;
  nodeSealMs: number;
  nodeSignMs: number;
  clientVerifyMs: number;
  clientOpenMs: number;
};

export type TeeOverheadResult = {
  samples: number;
  bareP50Ms: number;
  /** Session mode (one handshake, then exported keys): the steady state of a connected client. */
  fullP50Ms: number;
  addedP50Ms: number;
  /** One-shot mode: every request pays an HPKE setup on both ends. */
  oneShotP50Ms: number;
  oneShotAddedP50Ms: number;
  breakdownP50: TeeOverheadBreakdown;
  targetAddedMs: 1;
};

const p50 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 1000) / 1000;
};

/**
 * Bare onnxruntime-node `session.run` p50 versus the full TEE path p50 (client seal → node open → pool →
 * seal back → sign → client verify + open), in one process with an in-process transport (no network),
 * SIMULATED evidence, one worker thread and intraOp 1 for both. Lives in bench/ because it drives the client SDK,
 * which the server (workers/, gateway/) must never need.
 * @example const r = await measureTeeOverhead({ modelFile: BUNDLED_MODELS['breast-cancer-lr'].file, samples: 300 });
 */
export async function measureTeeOverhead(params: MeasureTeeOverheadParameters): Promise<TeeOverheadResult> {
  const samples = params.samples ?? 200;
  const warmup = params.warmup ?? 20;
  const batch = params.batch ?? 1;

  const session = await ort.InferenceSession.create(params.modelFile, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const inputs = makeInputs(session, batch);
  const bare: number[] = [];
  try {
    for (let i = 0; i < warmup + samples; i++) {
      const feeds = Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, new ort.Tensor('float32', t.data.slice(), t.dims as number[])]));
      const t0 = performance.now();
      await session.run(feeds);
      if (i >= warmup) bare.push(performance.now() - t0);
    }
  } finally {
    await session.release();
  }

  const modelId = 'bench-model';
  const pool = await createTeePool({ models: { [modelId]: params.modelFile }, threads: 1, intraOpThreads: 1 });
  const provider = createSimulatedProvider();
  const node = createTeeNode({ pool, evidenceSource: provider, evidenceRefreshMs: 0 });
  await node.start();
  let last: TeeInferTimings | undefined;
  const transport: TeeTransport = {
    getEvidence: (r) => node.getEvidence(r),
    infer: async (r) => {
      const { response, timings } = await node.inferDetailed(r);
      last = timings;
      return response;
    },
  };
  const connect = (reuseSession: boolean) =>
    connectTeeModel({
      transport, modelId, allowSimulated: true, roots: { simulated: [provider.verifierKey] }, reuseSession,
      policy: { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 300 },
    });
  const copy = (): TeeTensorMap => Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, { dims: t.dims, data: t.data.slice() }]));

  try {
    const full: number[] = [];
    const stages: Record<keyof TeeOverheadBreakdown, number[]> = {
      clientSealMs: [], nodeOpenMs: [], poolHopMs: [], computeMs: [], nodeSealMs: [], nodeSignMs: [], clientVerifyMs: [], clientOpenMs: [],
    };
    const sessionClient = await connect(true);
    await run(sessionClient, warmup, samples, copy, (ms, r) => {
      full.push(ms);
      const n = last!;
      stages.clientSealMs.push(r.timings.sealMs);
      stages.nodeOpenMs.push(n.openMs);
      stages.poolHopMs.push(n.poolMs - r.timings.computeMs);
      stages.computeMs.push(r.timings.computeMs);
      stages.nodeSealMs.push(n.sealMs);
      stages.nodeSignMs.push(n.signMs);
      stages.clientVerifyMs.push(r.timings.verifyMs);
      stages.clientOpenMs.push(r.timings.openMs);
    });
    const oneShot: number[] = [];
    await run(await connect(false), warmup, samples, copy, (ms) => oneShot.push(ms));

    const bareP50Ms = p50(bare);
    const fullP50Ms = p50(full);
    const oneShotP50Ms = p50(oneShot);
    return {
      samples,
      bareP50Ms,
      fullP50Ms,
      addedP50Ms: Math.round((fullP50Ms - bareP50Ms) * 1000) / 1000,
      oneShotP50Ms,
      oneShotAddedP50Ms: Math.round((oneShotP50Ms - bareP50Ms) * 1000) / 1000,
      breakdownP50: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, p50(v)])) as TeeOverheadBreakdown,
      targetAddedMs: 1,
    };
  } finally {
    await node.stop();
  }
}

async function run(
  client: TeeModelClient,
  warmup: number,
  samples: number,
  inputs: () => TeeTensorMap,
  record: (ms: number, result: Awaited<ReturnType<TeeModelClient['infer']>>) => void,
): Promise<void> {
  for (let i = 0; i < warmup + samples; i++) {
    const data = inputs();
    const t0 = performance.now();
    const result = await client.infer(data);
    const ms = performance.now() - t0;
    if (i >= warmup) record(ms, result);
  }
}

function makeInputs(session: ort.InferenceSession, batch: number): TeeTensorMap {
  const out: TeeTensorMap = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor || meta.type !== 'float32') throw new Error(`measureTeeOverhead supports float32 inputs only ("${meta.name}")`);
    const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : batch));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 17) / 4;
    out[meta.name] = { dims, data };
  }
  return out;
}
