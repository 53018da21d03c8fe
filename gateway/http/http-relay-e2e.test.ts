/**
 * The HTTP wire of contract §C end to end: a client seals with `tee/` → HTTP (this server) → the real TEE router →
 * remote link → `veil worker` node → language host (a fake; the real one is tested in llm/), and back. The client side
 * here is what `veil proxy` does: fetch evidence over HTTP, seal, POST, open, verify the receipts.
 */
import { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import {
  createHpkeSuite, createTeeChannel, createTeeSignatureVerifier, decodeTeeOperationResponse, encodeTeeOperationRequest, newRequestId, type TeeChannel,
} from '../../tee';
import { startTeeNodeServer, type TeeNodeServer } from '../../workers/tee';
import { createLogger } from '../logger';
import { createRemoteTeeLink, createTeeRouter, type TeeRouter } from '../tee';
import { createHttpServer, type HttpServer } from './create-http-server';
import { createFakeLanguageHost, EMPTY_TEE_POOL } from '../../workers/tee/test-support/fake-language-host';

const MODEL = 'fake-chat';
const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const ATTESTATION = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const text = new TextEncoder();

const fakeHost = () => createFakeLanguageHost(MODEL);
const emptyPool = EMPTY_TEE_POOL;

let worker: TeeNodeServer;
let host: ReturnType<typeof fakeHost>;
let router: TeeRouter;
let http: HttpServer;
let channel: TeeChannel;
let nodeId: string;

beforeAll(async () => {
  host = fakeHost();
  worker = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: emptyPool, ownsPool: false, languageHost: host, evidenceSource: createSimulatedProvider(), evidenceRefreshMs: 0 });
  const logger = createLogger({ level: 'error', format: 'json', write: () => undefined });
  router = createTeeRouter({
    links: [createRemoteTeeLink({ id: 'w1', address: worker.address, maxMessageBytes: 4 * 1024 * 1024 })], logger,
    policy: { attestation: ATTESTATION, allowSimulated: true, roots: { simulated: 'self-signed' } }, maxEvidenceAgeMs: 60_000, refreshMs: 0, healthCheckMs: 0, nodeTimeoutMs: 5_000,
  });
  await router.start();
  http = await createHttpServer({
    host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, deadlines: { defaultMs: 10_000, maxMs: 60_000 }, logger,
    fheModels: new Map(), tee: router, idempotency: { ttlMs: 60_000, maxEntries: 100, maxBytes: 1 << 20 },
  });
  const evidence = await (await fetch(`${http.url}/v1/attestation?model=${MODEL}&nonce=${'01'.repeat(32)}`)).json() as {
    node_id: string; evidence: { identity: { hpke_public_key: string }; models: unknown[] };
  };
  expect(evidence.evidence.models).toEqual([{ id: MODEL, kind: 'chat', context_length: 64 }]);
  nodeId = evidence.node_id;
  channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: new Uint8Array(Buffer.from(evidence.evidence.identity.hpke_public_key, 'hex')), modelId: MODEL });
});
afterAll(async () => {
  await http?.close(100);
  await router?.close();
  await worker?.close();
});

const seal = async (operation: 'chat.completions' | 'embeddings', body: object) => {
  const requestId = newRequestId();
  const request = await channel.seal(encodeTeeOperationRequest({ requestId, timestampMs: Date.now(), modelId: MODEL, operation, body: text.encode(JSON.stringify(body)) }));
  return { requestId, request };
};
const post = (path: string, sealed: Uint8Array, headers: Record<string, string> = {}, signal?: AbortSignal) => fetch(`${http.url}${path}`, {
  method: 'POST', body: sealed, signal,
  headers: { 'content-type': 'application/vnd.veil.sealed', 'x-veil-model': MODEL, 'x-veil-node': nodeId, ...headers },
});
type SseEvent = { event: string; data: Record<string, unknown> };
const parseSse = (body: string): SseEvent[] => body.split('\n\n').filter(Boolean).map((block) => {
  const [event, data] = block.split('\n');
  return { event: event!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
});

test('GET /v1/models lists the node\'s chat model with its context length', async () => {
  const models = await (await fetch(`${http.url}/v1/models`)).json() as { data: unknown[] };
  expect(models.data).toEqual([{ id: MODEL, object: 'model', created: expect.any(Number), owned_by: 'veil', modes: ['tee'], kind: 'chat', context_length: 64 }]);
});

test('unary: the sealed answer opens to the node\'s response and its receipt verifies against the attested signer', async () => {
  const { requestId, request } = await seal('embeddings', { model: MODEL, input: 'hi' });
  const res = await post('/v1/embeddings', request.sealed);
  expect(res.status).toBe(200);
  const sealed = new Uint8Array(await res.arrayBuffer());
  createTeeSignatureVerifier(worker.node.identity.signingAddress).verify({ modelId: MODEL, requestBytes: request.sealed, responseBytes: sealed, signature: res.headers.get('x-veil-signature')! });
  expect(res.headers.get('x-veil-signing-address')).toBe(worker.node.identity.signingAddress);
  const body = decodeTeeOperationResponse(request.open(sealed));
  expect(Buffer.from(body.requestId)).toEqual(Buffer.from(requestId));
  expect(JSON.parse(Buffer.from(body.body).toString())).toMatchObject({ object: 'list' });
});

test('SSE: every event opens in order and the last one\'s receipt covers the whole transcript', async () => {
  const { requestId, request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'In the beginning' }] });
  const res = await post('/v1/chat/completions', request.sealed, { 'x-veil-stream': '1' });
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const events = parseSse(await res.text());
  const opener = request.openStream(requestId);
  const words: string[] = [];
  for (const { event, data } of events) {
    expect(event).toBe('sealed');
    const opened = opener.open(new Uint8Array(Buffer.from(String(data.e), 'base64')));
    // PROTOCOL §10: one chunk, or an array of the chunks that were ready together.
    const value = opened.kind === 'data' ? JSON.parse(Buffer.from(opened.body).toString()) : [];
    for (const chunk of Array.isArray(value) ? value : [value]) words.push(chunk.choices[0].delta.content);
  }
  expect(words).toEqual(['In', 'the', 'beginning']);
  expect(opener.ended).toBe(true);
  const last = events.at(-1)!.data;
  expect(Object.keys(last).sort()).toEqual(['compute_micros', 'e', 'node_micros', 'signature', 'signing_address']);
  expect(events.slice(0, -1).every((e) => Object.keys(e.data).join() === 'e')).toBe(true);
  const { hash, count } = opener.transcript();
  createTeeSignatureVerifier(worker.node.identity.signingAddress).verifyStream({ modelId: MODEL, requestBytes: request.sealed, transcriptHash: hash, count, signature: String(last.signature) });
});

test('a refusal before the first event is a plain 400 naming the parameter', async () => {
  const { request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'fail-early' }] });
  const res = await post('/v1/chat/completions', request.sealed, { 'x-veil-stream': '1' });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: object }).error).toMatchObject({ param: 'n', message: 'n must be 1' });
});

test('a client that disconnects mid-stream stops generation in the node', async () => {
  const before = host.aborted;
  const { request } = await seal('chat.completions', { stream: true, messages: [{ role: 'user', content: 'slow' }] });
  const controller = new AbortController();
  const res = await post('/v1/chat/completions', request.sealed, { 'x-veil-stream': '1' }, controller.signal);
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  for (let i = 0; i < 100 && host.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
  expect(host.aborted).toBe(before + 1);
});

test('Idempotency-Key: a retried sealed request gets the stored answer instead of the node\'s tee_replay; without a key it is refused', async () => {
  const { request } = await seal('chat.completions', { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
  const runs = host.runs;
  const one = await post('/v1/chat/completions', request.sealed, { 'idempotency-key': 'e2e-1' });
  const two = await post('/v1/chat/completions', request.sealed, { 'idempotency-key': 'e2e-1' });
  expect([one.status, two.status]).toEqual([200, 200]);
  expect(Buffer.from(await two.arrayBuffer())).toEqual(Buffer.from(await one.arrayBuffer()));
  expect(host.runs).toBe(runs + 1);
  const replayed = await post('/v1/chat/completions', request.sealed);
  expect(replayed.status).toBe(400);
  expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('tee_replay');
});
