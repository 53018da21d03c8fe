/**
 * FHE over HTTP vs gRPC, in one run, against ONE in-process stack (one worker pool, one set of Fhe handlers behind
 * both a gRPC server and the fastify routes of gateway/http/register-fhe-routes.ts): evaluation-key upload time, and
 * one predict call on the same pre-encrypted ciphertexts (an FHE evaluation is deterministic, so each transport
 * asks for exactly the same work), interleaved call by call so load on the machine hits both alike.
 *
 *   node bin/run-ts.cjs bench/fhe-http.ts [model-id ...]     (default: breast-cancer-lr digits-mlp)
 *
 * Writes bench/results/fhe-http.json and .md.
 */
import { createHttpFheClient, createVeilClient, type FheGatewayClient } from '../client';
import { createCkksRuntime, createFheClientKeys, loadSeal, packInputs, type FheModelSpec } from '../fhe';
import { BUNDLED_MODELS, isBundledModelId, loadDataset } from '../models';
import { encodeCiphertextGroups, type CiphertextGroup } from '../proto';
import { startFheHttpStack } from '../test/support/start-fhe-http-stack';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

type Row = Record<string, string | number>;
const VARIANT = 'blocks';
const RUNS = 40;

async function benchModel(modelId: string): Promise<Row[]> {
  if (!isBundledModelId(modelId)) throw new Error(`unknown bundled model "${modelId}"`);
  const stack = await startFheHttpStack({ models: [modelId], variants: [VARIANT], maxPredictBytes: 256 * 1024 * 1024, fhe: { maxGroupsPerRequest: 64 } });
  const grpc = createVeilClient({ target: stack.grpc.address });
  const http = createHttpFheClient({ baseUrl: stack.baseUrl });
  const clients: Record<'http' | 'grpc', FheGatewayClient> = { http, grpc };
  try {
    const specResponse = await http.getFheSpec(modelId, {}, VARIANT);
    const spec = JSON.parse(specResponse.specJson) as FheModelSpec;
    const runtime = createCkksRuntime(await loadSeal(), spec.params);
    const keys = createFheClientKeys(runtime, spec);
    try {
      const evaluation = keys.evaluationKeys();
      const upload = { http: [] as number[], grpc: [] as number[] };
      const sessions: Record<'http' | 'grpc', string> = { http: '', grpc: '' };
      for (let i = 0; i < 3; i++) {
        for (const name of ['http', 'grpc'] as const) {
          const started = performance.now();
          const r = await clients[name].createFheSession({ modelId, variant: VARIANT, specSha256: specResponse.specSha256, ...evaluation });
          upload[name].push(performance.now() - started);
          if (sessions[name]) await clients[name].closeSession(sessions[name]);
          sessions[name] = r.sessionId;
        }
      }
      const keyBytes = (evaluation.galoisKeys?.byteLength ?? 0) + (evaluation.relinKeys?.byteLength ?? 0);
      const rows: Row[] = [{
        model: modelId, call: `key upload (${round(keyBytes / 2 ** 20, 1)} MiB)`, requestKiB: round(keyBytes / 1024, 0),
        grpcP50Ms: round(percentile(upload.grpc, 0.5)), httpBinaryP50Ms: round(percentile(upload.http, 0.5)), httpJsonP50Ms: '—',
        httpOverGrpc: round(percentile(upload.http, 0.5) / percentile(upload.grpc, 0.5)), runs: upload.http.length,
      }];

      const { test } = loadDataset(BUNDLED_MODELS[modelId].dataset);
      for (const groupCount of [1, 8]) {
        const samples = Array.from({ length: groupCount * spec.batchCapacity }, (_, i) => test.features[i % test.features.length]!);
        const groups: CiphertextGroup[] = packInputs(spec, samples).map((g) => ({ ciphertexts: g.map((slots) => keys.encrypt(slots)) }));
        const requestBytes = encodeCiphertextGroups(groups).byteLength;
        const json = JSON.stringify({ groups: groups.map((g) => ({ ciphertexts: g.ciphertexts.map((c) => Buffer.from(c).toString('base64')) })) });
        const predictJson = async () => {
          const res = await fetch(`${stack.baseUrl}/v1/fhe/sessions/${sessions.http}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
          await res.json();
        };
        const calls: Record<'grpc' | 'httpBinary' | 'httpJson', () => Promise<unknown>> = {
          grpc: () => grpc.predict(sessions.grpc, groups),
          httpBinary: () => http.predict(sessions.http, groups),
          httpJson: predictJson,
        };
        const times = { grpc: [] as number[], httpBinary: [] as number[], httpJson: [] as number[] };
        for (let i = 0; i < RUNS + 3; i++) {
          for (const name of ['grpc', 'httpBinary', 'httpJson'] as const) {
            const started = performance.now();
            await calls[name]();
            if (i >= 3) times[name].push(performance.now() - started); // three rounds warm every path
          }
        }
        const p50 = (xs: number[]) => round(percentile(xs, 0.5));
        rows.push({
          model: modelId, call: `predict, ${groupCount} group(s), ${samples.length} samples`, requestKiB: round(requestBytes / 1024, 0),
          grpcP50Ms: p50(times.grpc), httpBinaryP50Ms: p50(times.httpBinary), httpJsonP50Ms: p50(times.httpJson),
          httpOverGrpc: round(percentile(times.httpBinary, 0.5) / percentile(times.grpc, 0.5)), runs: RUNS,
        });
      }
      return rows;
    } finally {
      keys.delete();
      runtime.delete();
    }
  } finally {
    grpc.close();
    await stack.close();
  }
}

async function main(): Promise<void> {
  const models = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['breast-cancer-lr', 'digits-mlp'];
  const rows: Row[] = [];
  for (const m of models) rows.push(...await benchModel(m));
  const machine = machineInfo();
  const markdown = [
    '# FHE over HTTP vs gRPC',
    '',
    `One in-process stack (1 FHE worker thread, variant \`${VARIANT}\`): the same worker pool and Fhe handlers behind the gRPC`,
    'server and the fastify routes. Predict rows time one call on the same pre-encrypted ciphertexts (evaluation is',
    `deterministic, so the work is identical), calls interleaved gRPC / HTTP binary / HTTP JSON, p50 of ${RUNS} after 3 warm-up rounds;`,
    'key upload rows are p50 of 3. Client encryption and decryption are not timed (they are the same SDK code for both).',
    `Machine: ${machine.cpu}, ${machine.cores} cores shared with other work, Node ${machine.node}, ${machine.date}.`,
    '',
    markdownTable(rows),
  ].join('\n');
  writeBenchReport('fhe-http', { machine, variant: VARIANT, runs: RUNS, rows }, markdown);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
