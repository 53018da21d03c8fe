/**
 * TEE-mode benchmark: what attested, sealed and signed inference adds over running the model directly.
 *
 *   node bin/run-ts.cjs bench/tee.ts [model-id ...]     (default: breast-cancer-lr digits-relu-mlp)
 *
 * 1. Through the gateway: the gateway as its own process (`veil serve`, its in-process SIMULATED TEE node, one
 *    onnxruntime thread), the client SDK in this process: seal → gRPC → gateway relay → node (open, replay guard,
 *    pool, seal, sign) → gRPC → verify receipt → open. Single row, session mode, p50 over many calls.
 * 2. Bare onnxruntime-node `session.run` of the same model, single row, in this process (intraOp 1).
 * 3. `measureTeeOverhead`: the same protocol in one process with an in-process transport (no gRPC, no routing).
 * Writes bench/results/tee.json and .md.
 */
import * as ort from 'onnxruntime-node';
import { connectTeeModel } from '../client/tee';
import { BUNDLED_MODELS, isBundledModelId, loadDataset } from '../models';
import { measureTeeOverhead } from './measure-tee-overhead';
import { startGatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const CALLS = 400;
const WARMUP = 50;

async function bareOrt(file: string, inputName: string, rows: Float32Array[]): Promise<number> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + CALLS; i++) {
      const row = rows[i % rows.length]!;
      const t0 = performance.now();
      await session.run({ [inputName]: new ort.Tensor('float32', row.slice(), [1, row.length]) });
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
  } finally {
    await session.release();
  }
  return percentile(times, 0.5);
}

async function benchModel(modelId: string) {
  if (!isBundledModelId(modelId)) throw new Error(`unknown model ${modelId}`);
  const bundled = BUNDLED_MODELS[modelId];
  const rows = loadDataset(bundled.dataset).test.features.map((r) => Float32Array.from(r));

  const gateway = await startGatewayProcess({ VEIL_CHAIN_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_WORKERS: '1', VEIL_TEE_LOCAL_THREADS: '1' });
  const stages = { total: [] as number[], seal: [] as number[], verify: [] as number[], open: [] as number[], roundTrip: [] as number[], node: [] as number[], compute: [] as number[] };
  let platform = '';
  try {
    const model = await connectTeeModel({
      gateway: gateway.address, modelId, allowSimulated: true,
      // The gateway runs in another process; its in-process node's key is not pinned here: accepted knowingly.
      roots: { simulated: 'self-signed' },
      policy: { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 },
    });
    platform = model.simulated ? 'SIMULATED' : model.platform;
    for (let i = 0; i < WARMUP + CALLS; i++) {
      const row = rows[i % rows.length]!;
      const t0 = performance.now();
      const r = await model.infer({ [bundled.input.name]: { dims: [1, row.length], data: row.slice() } });
      const total = performance.now() - t0;
      if (i < WARMUP) continue;
      stages.total.push(total);
      stages.seal.push(r.timings.sealMs);
      stages.verify.push(r.timings.verifyMs);
      stages.open.push(r.timings.openMs);
      stages.roundTrip.push(r.timings.roundTripMs);
      stages.node.push(r.timings.nodeMs);
      stages.compute.push(r.timings.computeMs);
    }
    model.close();
  } finally {
    await gateway.stop();
  }
  const bare = await bareOrt(bundled.file, bundled.input.name, rows);
  const inProcess = await measureTeeOverhead({ modelFile: bundled.file, samples: 300, warmup: 30 });

  const p50 = (v: number[]) => round(percentile(v, 0.5), 3);
  const gatewayRow = {
    model: modelId,
    'bare ORT p50 ms': round(bare, 3),
    'TEE via gateway p50 ms': p50(stages.total),
    'added p50 ms': round(percentile(stages.total, 0.5) - bare, 3),
    'client seal': p50(stages.seal),
    'client verify (receipt)': p50(stages.verify),
    'client open': p50(stages.open),
    'node total (reported)': p50(stages.node),
    'node compute (ORT in pool)': p50(stages.compute),
    'gRPC ×2 + gateway relay': round(percentile(stages.roundTrip.map((rt, i) => rt - stages.node[i]!), 0.5), 3),
    'p95 ms': round(percentile(stages.total, 0.95), 3),
  };
  const b = inProcess.breakdownP50;
  const inProcessRow = {
    model: modelId,
    'bare ORT p50 ms': inProcess.bareP50Ms,
    'TEE in-process p50 ms': inProcess.fullP50Ms,
    'added p50 ms': inProcess.addedP50Ms,
    'one-shot added p50 ms': inProcess.oneShotAddedP50Ms,
    'client seal': b.clientSealMs,
    'node open': b.nodeOpenMs,
    'pool hop': b.poolHopMs,
    'node seal': b.nodeSealMs,
    'node sign': b.nodeSignMs,
    'client verify': b.clientVerifyMs,
    'client open': b.clientOpenMs,
  };
  return { platform, gateway: gatewayRow, inProcess: inProcessRow };
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['breast-cancer-lr', 'digits-relu-mlp'];
  const results = [];
  for (const id of ids) results.push(await benchModel(id));
  const machine = machineInfo();
  const md = [
    '# TEE-mode benchmark',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · client, gateway and node on the same machine · platform ${results[0]?.platform ?? ''}`,
    '',
    '## End to end through the gateway (gateway as its own process, single row, session mode; p50 of each stage, ms)',
    '',
    markdownTable(results.map((r) => r.gateway)),
    '',
    '## In process (`measureTeeOverhead`: no gRPC, no routing; p50 of each stage, ms)',
    '',
    markdownTable(results.map((r) => r.inProcess)),
    '',
    'added = TEE p50 − bare onnxruntime-node p50 of the same model (intraOp 1). "node total" is reported by the node (open → sign) and',
    'includes the pool hop and compute; "gRPC ×2 + gateway relay" = client round trip − node total (two loopback gRPC hops and the',
    'gateway\'s routing). Receipts are signed and verified with libsecp256k1; the client verifies against the node\'s cached public key after the first response.',
  ].join('\n');
  writeBenchReport('tee', { machine, results }, md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
