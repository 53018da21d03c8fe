/**
 * Gateway FHE benchmark: for each model and each served variant, single-group latency and batched throughput
 * through the real gRPC server and worker pool (the gateway runs as its own process), next to the same plan
 * evaluated by bare node-seal calls in one thread; the ratio is the serving overhead.
 *
 *   node bin/run-ts.cjs bench/gateway-fhe.ts [model-id ...]     (default: breast-cancer-lr digits-mlp)
 *
 * Writes bench/results/gateway-fhe.json and .md.
 */
import fs from 'node:fs';
import { connectFheModel, createVeilClient, type VeilClient } from '../client';
import {
  compileOnnx, createCkksRuntime, createFheClientKeys, FHE_VARIANTS, isFheVariant, loadSeal, measureBarePlan, packInputs,
  type FhePlan, type FheVariant,
} from '../fhe';
import * as ort from 'onnxruntime-node';
import { BUNDLED_MODELS, isBundledModelId, loadDataset } from '../models';
import { startGatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';
import { timeRuns } from './time-runs';

type Row = Record<string, string | number>;


async function benchVariant(client: VeilClient, modelId: string, variant: FheVariant, bytes: Uint8Array): Promise<Row> {
  const plan: FhePlan = compileOnnx(bytes, { name: modelId, ...FHE_VARIANTS[variant] }); // what the gateway compiled
  const spec = plan.spec;
  const specResponse = await client.getFheSpec(modelId, {}, variant);
  if (specResponse.specJson !== JSON.stringify(spec)) throw new Error(`${modelId}/${variant}: gateway spec differs from the local compilation`);
  const { test } = loadDataset(BUNDLED_MODELS[modelId as keyof typeof BUNDLED_MODELS].dataset);

  const seal = await loadSeal();
  const runtime = createCkksRuntime(seal, spec.params);
  const keys = createFheClientKeys(runtime, spec);
  try {
    const evaluation = keys.evaluationKeys();
    const session = await client.createFheSession({ modelId, variant, galoisKeys: evaluation.galoisKeys, relinKeys: evaluation.relinKeys });
    const keyBytes = session.bytesReceived;
    const single = packInputs(spec, [test.features[0]!])[0]!.map((s) => keys.encrypt(s));
    const singleBytes = single.reduce((a, c) => a + c.byteLength, 0);
    const call = () => client.predict(session.sessionId, [{ ciphertexts: single }]);
    for (let i = 0; i < 4; i++) await call(); // every worker loads the session's keys; JIT settles

    // 1. One group through gRPC: ciphertexts in → ciphertexts out (gateway end to end).
    const rpc = await timeRuns(call, 8_000);
    // 2. The same plan by bare node-seal in this thread: load the ciphertexts, evaluate, serialise the results
    //    (about 8 s of runs, sized from the gRPC latency just measured).
    const iterations = Math.max(5, Math.min(200, Math.round(8_000 / percentile(rpc, 0.5))));
    const bare = (await measureBarePlan(plan, { iterations, samples: [Array.from(test.features[0]!)] })).single.p50Ms;
    // 3. Throughput: full pre-encrypted groups, two requests in flight (one per worker) for ~8 s.
    const full = Array.from({ length: spec.batchCapacity }, (_, i) => test.features[i % test.features.length]!);
    const group = { ciphertexts: packInputs(spec, full)[0]!.map((s) => keys.encrypt(s)) };
    const perRequest = spec.batchCapacity >= 1024 ? 1 : Math.max(1, Math.min(16, Math.floor(256 / spec.batchCapacity)));
    const groups = Array.from({ length: perRequest }, () => group);
    await client.predict(session.sessionId, groups);
    let requests = 0;
    const t0 = performance.now();
    await Promise.all([0, 1].map(async () => {
      while (performance.now() - t0 < 8_000 || requests < 2) {
        requests++;
        await client.predict(session.sessionId, groups);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    await client.closeSession(session.sessionId);

    const rpcP50 = percentile(rpc, 0.5);
    return {
      model: modelId,
      variant,
      N: spec.params.polyModulusDegree,
      'samples/group': spec.batchCapacity,
      rotations: `${spec.stats.rotations} (min ${spec.stats.minRotations})`,
      'group p50 ms (gRPC)': round(rpcP50),
      'group p95 ms (gRPC)': round(percentile(rpc, 0.95)),
      'bare p50 ms': round(bare),
      'overhead ratio': round(rpcP50 / bare, 3),
      'samples/s (server, 2 workers)': Math.round((requests * perRequest * spec.batchCapacity) / seconds),
      'upload B/group': singleBytes,
      'key bytes': keyBytes,
    };
  } finally {
    keys.delete();
    runtime.delete();
  }
}

/** What an application sees: the SDK on auto, one sample and a large batch, encryption and decryption included. */
async function benchSdk(client: VeilClient, modelId: string): Promise<Row> {
  const { test } = loadDataset(BUNDLED_MODELS[modelId as keyof typeof BUNDLED_MODELS].dataset);
  const model = await connectFheModel({ client, modelId });
  try {
    for (let i = 0; i < 3; i++) await model.predict([test.features[i]!]);
    let singleVariant = '';
    const single = await timeRuns(async () => {
      singleVariant = (await model.predict([test.features[0]!])).variant;
    }, 6_000);
    const big = Array.from({ length: 8192 }, (_, i) => test.features[i % test.features.length]!);
    await model.predict(big.slice(0, 2048));
    const t0 = performance.now();
    const r = await model.predict(big);
    const seconds = (performance.now() - t0) / 1000;
    const plain = await measurePlaintext(modelId, big);
    return {
      model: modelId,
      'plaintext ORT p50 ms (1 row)': round(plain.singleMs, 3),
      'plaintext ORT rows/s (8192)': Math.round(plain.rowsPerSecond),
      'single sample (auto)': singleVariant,
      'single p50 ms (incl. enc/dec)': round(percentile(single, 0.5)),
      'single p95 ms': round(percentile(single, 0.95)),
      'batch of 8192 (auto)': r.variant,
      'batch samples/s (incl. enc/dec)': Math.round(big.length / seconds),
      'key bytes uploaded': model.keyBytes,
    };
  } finally {
    await model.close();
  }
}

/** Plaintext onnxruntime-node on the same ONNX file, for scale: one row, and the same 8192-row batch. */
async function measurePlaintext(modelId: string, rows: Float64Array[]): Promise<{ singleMs: number; rowsPerSecond: number }> {
  const bundled = BUNDLED_MODELS[modelId as keyof typeof BUNDLED_MODELS];
  const session = await ort.InferenceSession.create(bundled.file, { intraOpNumThreads: 1 });
  try {
    const width = rows[0]!.length;
    const one = new ort.Tensor('float32', Float32Array.from(rows[0]!), [1, width]);
    const single = await timeRuns(() => session.run({ [bundled.input.name]: one }), 2_000, 50, 2_000);
    const all = new Float32Array(rows.length * width);
    rows.forEach((r, i) => all.set(r, i * width));
    const batch = new ort.Tensor('float32', all, [rows.length, width]);
    const times = await timeRuns(() => session.run({ [bundled.input.name]: batch }), 2_000, 5, 200);
    return { singleMs: percentile(single, 0.5), rowsPerSecond: rows.length / (percentile(times, 0.5) / 1000) };
  } finally {
    await session.release();
  }
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['breast-cancer-lr', 'digits-mlp'];
  const rows: Row[] = [];
  const sdk: Row[] = [];
  for (const id of ids) {
    if (!isBundledModelId(id)) throw new Error(`unknown model ${id}`);
    const gateway = await startGatewayProcess({ VEIL_FHE_MODELS: id, VEIL_TEE_ENABLED: 'false', VEIL_CHAIN_ENABLED: 'false' });
    const client = createVeilClient({ target: gateway.address });
    try {
      const info = (await client.listModels()).models.find((m) => m.id === id)!;
      const bytes = fs.readFileSync(BUNDLED_MODELS[id].file);
      for (const variant of info.fheVariants.filter(isFheVariant)) rows.push(await benchVariant(client, id, variant, bytes));
      sdk.push(await benchSdk(client, id));
    } finally {
      client.close();
      await gateway.stop();
    }
  }
  const machine = machineInfo();
  const md = [
    '# Gateway FHE benchmark',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · the gateway runs as its own process (\`veil serve\`), the client in the bench process, same machine`,
    '',
    '## Per variant: one group through gRPC vs bare node-seal, and server throughput',
    '',
    markdownTable(rows),
    '',
    'group p50 (gRPC): one pre-encrypted ciphertext group (one sample for `expanded`) through the real server and pool, ciphertexts in → ciphertexts out.',
    'bare: the same plan by bare node-seal calls in one thread (load ciphertexts, evaluate, serialise). overhead ratio = gRPC p50 ÷ bare p50.',
    'samples/s (server): full pre-encrypted groups, two requests in flight, for ~8 s.',
    '',
    '## Through the SDK (variant chosen by batch size; client encryption and decryption on the same 2 cores)',
    '',
    markdownTable(sdk),
  ].join('\n');
  writeBenchReport('gateway-fhe', { machine, variants: rows, sdk }, md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
