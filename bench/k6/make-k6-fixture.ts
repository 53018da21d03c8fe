/**
 * Prepares what the gRPC k6 scripts cannot make themselves (k6 runs neither node-seal nor HPKE), with the SDK:
 *   --mode fhe  opens an FHE session (keys generated here, evaluation keys uploaded) and captures one encrypted
 *               Predict request (breast-cancer test rows): session id + ciphertext groups, base64.
 *   --mode tee  attests the model's node through the gateway and seals --count single-use Infer requests to it.
 * The fixture holds ciphertexts and sealed bytes only: no secret key, no plaintext input.
 *
 *   node bin/run-ts.cjs bench/k6/make-k6-fixture.ts --mode fhe|tee [--target H:P] [--model ID] [--rows N] [--count N] --out FILE
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { connectFheModel, createVeilClient, type FheGatewayClient } from '../../client';
import { connectTeeModel, createGatewayTeeTransport, type RoutedTeeTransport } from '../../client/tee';
import { loadDataset } from '../../models';

/** Thrown by the capturing transport instead of sending: the request is kept for k6, never spent here. */
class CapturedRequest extends Error {
  override name = 'CapturedRequest' as const;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' }, target: { type: 'string' }, model: { type: 'string' }, rows: { type: 'string' },
      count: { type: 'string' }, out: { type: 'string' },
    },
  });
  const target = values.target ?? '127.0.0.1:50051';
  const modelId = values.model ?? 'breast-cancer-lr';
  if (!values.out || (values.mode !== 'fhe' && values.mode !== 'tee')) throw new Error('usage: --mode fhe|tee --out FILE');
  const { test } = loadDataset('breast-cancer');
  const rows = Number(values.rows ?? 1);
  const samples = Array.from({ length: rows }, (_, i) => test.features[i % test.features.length]!);

  if (values.mode === 'fhe') {
    const client = createVeilClient({ target });
    let captured: { sessionId: string; groups: { ciphertexts: Uint8Array[] }[] } | undefined;
    // Forwards everything; remembers the Predict request the SDK built (it is sent too, and its answer checked).
    const capturing: FheGatewayClient = new Proxy(client, {
      get(target_, prop, receiver) {
        if (prop === 'predict') {
          return (sessionId: string, groups: { ciphertexts: Uint8Array[] }[], opts?: unknown) => {
            captured = { sessionId, groups };
            return (target_ as FheGatewayClient).predict(sessionId, groups, opts as never);
          };
        }
        return Reflect.get(target_, prop, receiver);
      },
    });
    const model = await connectFheModel({ client: capturing, modelId, variant: 'blocks' });
    await model.predict(samples);
    // The session stays open (no model.close()): k6 predicts under it until it idles out (fhe.sessionTtlSeconds).
    fs.writeFileSync(values.out, JSON.stringify({
      modelId, variant: 'blocks', sessionId: captured!.sessionId,
      groups: captured!.groups.map((g) => ({ ciphertexts: g.ciphertexts.map((c) => Buffer.from(c).toString('base64')) })),
    }));
    client.close();
    console.log(`wrote ${values.out}: session ${captured!.sessionId}, ${captured!.groups.length} group(s), ${rows} row(s)`);
    return;
  }

  const count = Number(values.count ?? 600);
  const router = createGatewayTeeTransport({ target });
  const sealed: { nodeId: string; sealedRequest: Uint8Array }[] = [];
  const capturing: RoutedTeeTransport = {
    getEvidence: (request, options) => router.getEvidence(request, options),
    infer: async (request) => {
      sealed.push({ nodeId: request.nodeId, sealedRequest: request.sealedRequest });
      throw new CapturedRequest('captured for k6');
    },
  };
  const model = await connectTeeModel({
    router: capturing, modelId, allowSimulated: true, roots: { simulated: 'self-signed' }, maxFailovers: 0,
    policy: { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 },
  });
  const data = new Float32Array(rows * 30);
  samples.forEach((s, r) => data.set(s, r * 30));
  for (let i = 0; i < count; i++) {
    await model.infer({ x: { dims: [rows, 30], data } }).catch((err: unknown) => {
      if (!(err instanceof CapturedRequest) && !String((err as Error)?.message).includes('captured for k6')) throw err;
    });
  }
  model.close();
  router.close?.();
  const nodeIds = new Set(sealed.map((s) => s.nodeId));
  if (nodeIds.size !== 1) throw new Error(`expected every request sealed to one node, got ${[...nodeIds].join(', ')}`);
  fs.writeFileSync(values.out, JSON.stringify({ modelId, nodeId: [...nodeIds][0], sealedRequests: sealed.map((s) => Buffer.from(s.sealedRequest).toString('base64')) }));
  console.log(`wrote ${values.out}: ${sealed.length} sealed requests to node ${[...nodeIds][0]}; use them within 60 s (replay window)`);
}

main().catch((err: unknown) => {
  console.error(`make-k6-fixture: ${(err as Error).message}`);
  process.exitCode = 1;
});
