/**
 * Gateway FHE benchmark: single-sample latency and batched throughput through the real gRPC server and worker
 * pool, next to the same plan evaluated by bare node-seal calls in one thread; the ratio is the serving overhead.
 *
 *   node bin/run-ts.cjs bench/gateway-fhe.ts [model-id ...]     (default: breast-cancer-lr digits-mlp)
 *
 * Writes bench/results/gateway-fhe.json and .md.
 */
import { connectFheModel, createVeilClient, type FheModelClient, type VeilClient } from '../client';
import {
  createCkksRuntime, createFheClientKeys, createPlanEvaluator, loadCiphertext, loadEvaluationKeys, loadSeal, packInputs,
  type FhePlan,
} from '../fhe';
import fs from 'node:fs';
import { compileOnnx } from '../fhe';
import { loadDataset, BUNDLED_MODELS, isBundledModelId } from '../models';
import { startGatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const SINGLE_CALLS = 200;
const BARE_RUNS = 200;

type ModelResult = Record<string, string | number>;

async function benchModel(modelId: string): Promise<ModelResult> {
  if (!isBundledModelId(modelId)) throw new Error(`unknown model ${modelId}`);
  const gateway = await startGatewayProcess({ VEIL_FHE_MODELS: modelId });
  const client: VeilClient = createVeilClient({ target: gateway.address });
  let model: FheModelClient | undefined;
  try {
    model = await connectFheModel({ client, modelId });
    const { spec } = model;
    // The same deterministic compilation the gateway ran at startup.
    const plan = compileOnnx(fs.readFileSync(BUNDLED_MODELS[modelId].file), { name: modelId });
    const { test } = loadDataset(BUNDLED_MODELS[modelId].dataset);

    // Client-side material prepared outside the timed regions.
    const seal = await loadSeal();
    const runtime = createCkksRuntime(seal, spec.params);
    const keys = createFheClientKeys(runtime, spec);
    const evaluation = keys.evaluationKeys();
    const session = await client.createFheSession({ modelId, galoisKeys: evaluation.galoisKeys, relinKeys: evaluation.relinKeys });
    const single = packInputs(spec, [test.features[0]!])[0]!.map((s) => keys.encrypt(s));
    const singleBytes = single.reduce((a, c) => a + c.byteLength, 0);

    // Warm-up: every worker loads the session keys and JIT settles.
    for (let i = 0; i < 20; i++) await client.predict(session.sessionId, [{ ciphertexts: single }]);

    // 1. Single sample through gRPC (gateway end to end, ciphertext in → ciphertext out).
    const rpc: number[] = [];
    for (let i = 0; i < SINGLE_CALLS; i++) {
      const t0 = performance.now();
      await client.predict(session.sessionId, [{ ciphertexts: single }]);
      rpc.push(performance.now() - t0);
    }
    // 2. Single sample including client encryption and decryption (what an application sees).
    const full: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await model.predict([test.features[i % test.features.length]!]);
      full.push(performance.now() - t0);
    }
    // 3. Bare node-seal in this thread: load the ciphertext, evaluate the same plan, serialise the result.
    const bare = measureBare(plan, runtime, evaluation, single);

    // 4. Batched throughput: pre-encrypted full groups, several requests in flight.
    const groupsPerRequest = 8;
    const requests = modelId === 'breast-cancer-lr' ? 40 : 16;
    const samples = Array.from({ length: spec.batchCapacity * groupsPerRequest }, (_, i) => test.features[i % test.features.length]!);
    const batchGroups = packInputs(spec, samples).map((g) => ({ ciphertexts: g.map((s) => keys.encrypt(s)) }));
    await client.predict(session.sessionId, batchGroups);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 2 }, async () => {
      while (next++ < requests) await client.predict(session.sessionId, batchGroups);
    }));
    const batchSeconds = (performance.now() - t0) / 1000;
    const throughput = (requests * samples.length) / batchSeconds;

    // 5. Batched including client-side encryption/decryption (same process, same 2 cores).
    const e2eSamples = Array.from({ length: spec.batchCapacity * 32 }, (_, i) => test.features[i % test.features.length]!);
    const t1 = performance.now();
    await model.predict(e2eSamples);
    const e2eThroughput = e2eSamples.length / ((performance.now() - t1) / 1000);

    keys.delete();
    runtime.delete();
    await client.closeSession(session.sessionId);

    const rpcP50 = percentile(rpc, 0.5);
    return {
      model: modelId,
      N: spec.params.polyModulusDegree,
      batchCapacity: spec.batchCapacity,
      rotations: `${spec.stats.rotations} (min ${spec.stats.minRotations})`,
      'single p50 ms (gRPC)': round(rpcP50),
      'single p95 ms (gRPC)': round(percentile(rpc, 0.95)),
      'single p50 ms (+client enc/dec)': round(percentile(full, 0.5)),
      'bare eval p50 ms': round(bare.p50),
      'overhead ratio': round(rpcP50 / bare.p50, 3),
      'batched samples/s (server)': Math.round(throughput),
      'batched samples/s (+client enc/dec)': Math.round(e2eThroughput),
      'ciphertext B/request (1 sample)': singleBytes,
      'key bytes': model.keyBytes,
    };
  } finally {
    await model?.close().catch(() => undefined);
    client.close();
    await gateway.stop();
  }
}

function measureBare(plan: FhePlan, runtime: ReturnType<typeof createCkksRuntime>, keyBytes: { galoisKeys?: Uint8Array; relinKeys?: Uint8Array }, group: Uint8Array[]) {
  const evaluator = createPlanEvaluator(runtime, plan);
  const keys = loadEvaluationKeys(runtime, keyBytes, plan.spec);
  const times: number[] = [];
  try {
    for (let i = 0; i < BARE_RUNS + 20; i++) {
      const t0 = performance.now();
      const inputs = group.map((bytes) => loadCiphertext(runtime, bytes));
      const outputs = evaluator.evaluate(inputs, keys);
      for (const ct of outputs) ct.saveArray(runtime.seal.ComprModeType.none);
      const elapsed = performance.now() - t0;
      for (const ct of [...inputs, ...outputs]) ct.delete();
      if (i >= 20) times.push(elapsed);
    }
  } finally {
    keys.delete();
    evaluator.delete();
  }
  return { p50: percentile(times, 0.5) };
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['breast-cancer-lr', 'digits-mlp'];
  const results: ModelResult[] = [];
  for (const id of ids) results.push(await benchModel(id));
  const machine = machineInfo();
  const md = [
    `# Gateway FHE benchmark`,
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · client, gateway and workers on the same machine`,
    '',
    markdownTable(results),
    '',
    'The gateway runs as its own process (`veil serve`); the client runs in the bench process.',
    'single p50 (gRPC): one pre-encrypted ciphertext group through the real server and pool, ciphertext in → ciphertext out.',
    'bare eval: the same plan by bare node-seal calls in one thread (load ciphertext, evaluate, serialise). overhead ratio = gRPC p50 ÷ bare p50.',
    'batched (server): pre-encrypted full groups, 8 groups per request, 2 requests in flight.',
  ].join('\n');
  writeBenchReport('gateway-fhe', { machine, results }, md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
