import OpenAI from 'openai';
import { createGateway, type Gateway } from '../create-gateway';
import { loadConfig } from '../config';
import { createLogger } from '../logger';

let gateway: Gateway | undefined;
afterAll(async () => {
  await gateway?.close();
});

test('createGateway starts the HTTP API beside gRPC (in-process SIMULATED TEE node) and stops it on close', async () => {
  const lines: string[] = [];
  gateway = await createGateway(loadConfig({
    env: { VEIL_HTTP_PORT: '0' },
    overrides: { grpc: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, tee: { models: ['breast-cancer-lr'] }, chain: { enabled: false } },
  }), { logger: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }) });
  expect(gateway.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const client = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.httpUrl}/v1`, maxRetries: 0 });
  const models = await client.models.list();
  expect(models.data.find((m) => m.id === 'breast-cancer-lr')).toMatchObject({ modes: ['fhe', 'tee'] });
  // The bundled toy language models are served by the in-process node by default (tee.languageModels).
  expect(models.data.find((m) => m.id === 'toy-chat-kjv')).toMatchObject({ modes: ['tee'], kind: 'chat', context_length: expect.any(Number) });
  expect(models.data.find((m) => m.id === 'toy-embed-kjv')).toMatchObject({ modes: ['tee'], kind: 'embedding' });
  expect((await fetch(`${gateway.httpUrl}/readyz`)).status).toBe(200);
  const evidence = await fetch(`${gateway.httpUrl}/v1/attestation?model=breast-cancer-lr&nonce=${'ab'.repeat(32)}`);
  expect(evidence.status).toBe(200);
  expect(await evidence.json()).toMatchObject({ node_id: 'local', evidence: { platform: 'simulated', model_ids: ['breast-cancer-lr', 'toy-chat-kjv', 'toy-chat-mqa-kjv', 'toy-embed-kjv'] } });
  expect(lines.some((l) => l.includes('gateway listening') && l.includes(gateway!.httpUrl!))).toBe(true);
  // FHE over HTTP is mounted on the same handlers as gRPC.
  const fhe = await (await fetch(`${gateway.httpUrl}/v1/fhe/models`)).json() as { data: Array<{ id: string }> };
  expect(fhe.data.map((m) => m.id)).toEqual(['breast-cancer-lr']);
  const spec = await fetch(`${gateway.httpUrl}/v1/fhe/models/breast-cancer-lr/spec?variant=blocks`);
  expect(spec.status).toBe(200);
  expect(spec.headers.get('x-veil-spec-sha256')).toMatch(/^[0-9a-f]{64}$/);

  const url = gateway.httpUrl!;
  await gateway.close();
  gateway = undefined;
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
});

test('http.enabled=false: no HTTP listener', async () => {
  const quiet = await createGateway(loadConfig({
    env: {},
    overrides: { grpc: { port: 0 }, http: { enabled: false }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 }, tee: { enabled: false }, chain: { enabled: false } },
  }), { logger: createLogger({ level: 'silent', format: 'text' }) });
  try {
    expect(quiet.httpUrl).toBeUndefined();
  } finally {
    await quiet.close();
  }
});
