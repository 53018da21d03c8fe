/**
 * Traces across processes and threads (issue #12 §3), checked on what an OpenTelemetry collector receives: an
 * in-process OTLP/HTTP receiver decodes every export. One app span wraps an FHE prediction and a TEE inference; one
 * trace id must run through the SDK's client spans → the gateway's server spans → the FHE worker thread's spans → the
 * remote TEE node (`veil worker`, its own process) and back, each span's parent the one that called it. Then a canary
 * request — payload, prompt, keys and API key carrying unique bytes — must leave no trace of them in any exported
 * attribute, event, status, resource, nor in any log line of the gateway or the node (nor in base64 or hex).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { childProcessEnv } from '../chain';
import { connectFheModel, createVeilClient, type VeilClient } from '../client';
import { connectTeeModel, type TeePolicy } from '../client/tee';
import { evaluationKeySizes, type FheModelSpec } from '../fhe';
import { generateApiKey, updateKeysFile } from '../gateway/auth';
import { childExit, hasExited } from './support/child-exit';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { startVeilWorker, type VeilWorkerProcess } from './support/start-veil-worker';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 120 };
const SERVER = SpanKind.SERVER + 1; // OTLP numbers kinds from 1 (internal); the API from 0
const CLIENT = SpanKind.CLIENT + 1;

let receiver: OtlpReceiver;
let worker: VeilWorkerProcess;
let gateway: { child: ChildProcess; address: string; httpUrl: string };
let client: VeilClient;
let dir: string;
let apiKey: string;
const gatewayLogs: string[] = [];
const nodeLogs: string[] = [];
// The app's own tracing, as an SDK user would install it (here: in memory; the jest realm cannot run the OTLP
// exporter, whose transport uses a dynamic import()). The gateway and the node export over OTLP/HTTP to the receiver.
const appSpans = new InMemorySpanExporter();
const appProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(appSpans)] });

/** `veil serve` as its own process (the FHE worker threads inside it), tracing to the receiver, logging JSON. */
function serve(env: Record<string, string>): Promise<{ child: ChildProcess; address: string; httpUrl: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'veil.cjs'), 'serve'], { env: childProcessEnv({ extra: env }), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => gatewayLogs.push(c));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`veil serve did not start: ${out}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`veil serve exited (${code}): ${out} ${gatewayLogs.join('')}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      gatewayLogs.push(chunk);
      const grpc = /listening on (\S+)/.exec(out);
      const http = /HTTP API on (\S+)/.exec(out);
      if (grpc && http && /^try: /m.test(out)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, address: grpc[1]!, httpUrl: http[1]! });
      }
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || hasExited(child)) return;
  const exited = childExit(child);
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  appProvider.register({ propagator: new W3CTraceContextPropagator(), contextManager: new AsyncLocalStorageContextManager() });
  receiver = await startOtlpReceiver();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' };
  worker = await startVeilWorker(['--threads', '1', '--models', 'breast-cancer-lr', '--log-level', 'debug'], otel);
  nodeLogs.push(worker.out);
  worker.child.stdout!.on('data', (c: string) => nodeLogs.push(c));
  worker.child.stderr!.on('data', (c: string) => nodeLogs.push(c));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-traces-'));
  const key = generateApiKey();
  const keysFile = path.join(dir, 'api-keys.json');
  updateKeysFile(keysFile, (c) => c.keys.push({ id: key.id, sha256: key.sha256, name: 'traces', createdAt: '', models: ['breast-cancer-lr'], modes: ['fhe', 'tee'], rate: null, revokedAt: null }));
  apiKey = key.key;
  gateway = await serve({
    ...otel, VEIL_DATA_DIR: dir, VEIL_GRPC_HOST: '127.0.0.1', VEIL_GRPC_PORT: '0', VEIL_HTTP_PORT: '0', VEIL_LOG_LEVEL: 'debug', VEIL_LOG_FORMAT: 'json',
    VEIL_CHAIN_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks', VEIL_FHE_WORKERS: '1',
    VEIL_TEE_LOCAL: 'false', VEIL_TEE_NODES: worker.address, VEIL_TEE_MEASUREMENTS: `simulated:${MEASUREMENT}`, VEIL_TEE_SIMULATED_KEYS: worker.simulatedKey,
    VEIL_AUTH_MODE: 'api-keys', VEIL_AUTH_KEYS_FILE: keysFile,
  });
  client = createVeilClient({ target: gateway.address, apiKey });
}, 180_000);

afterAll(async () => {
  client?.close();
  await stop(gateway?.child);
  await stop(worker?.child);
  await receiver?.close();
  await appProvider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The app's spans (in memory) in the receiver's shape, so one ancestry walk covers every process. */
function appSpansReceived(): ReceivedSpan[] {
  return appSpans.getFinishedSpans().map((s) => ({
    traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, parentSpanId: s.parentSpanContext?.spanId ?? '', name: s.name,
    kind: s.kind + 1, service: 'test-app', scope: s.instrumentationScope.name, attributes: { ...s.attributes }, resource: {}, status: s.status,
  }));
}

const roots = () => ({ simulated: [Buffer.from(worker.simulatedKey, 'hex')] });

/** The chain of span names from `span` up to its root (parents looked up among the received spans). */
function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = [span];
  for (let s = span; s.parentSpanId; ) {
    const parent = byId.get(s.parentSpanId);
    if (!parent) throw new Error(`${s.name}'s parent ${s.parentSpanId} was not exported`);
    chain.push(parent);
    s = parent;
  }
  return chain;
}

/** Every span's parent is among `spans` (exports from different processes arrive in any order). */
function connected(spans: ReceivedSpan[]): boolean {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
}

const label = (s: ReceivedSpan) => `${s.service === 'test-app' ? 'app' : s.service}/${s.scope}:${s.name}${s.kind === SERVER ? '(server)' : s.kind === CLIENT ? '(client)' : ''}`;

test('one trace id runs client → gateway → FHE worker thread, and client → gateway → remote TEE node, with correct parents', async () => {
  const app = trace.getTracer('test-app');
  const root = app.startSpan('app.request');
  const traceId = root.spanContext().traceId;
  await context.with(trace.setSpan(context.active(), root), async () => {
    const fhe = await connectFheModel({ client, modelId: 'breast-cancer-lr', deadlineMs: 60_000 });
    await fhe.predict([Array.from({ length: 30 }, (_, i) => i / 30)]);
    await fhe.close();
    const tee = await connectTeeModel({ gateway: gateway.address, apiKey, modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots() });
    await tee.infer({ x: { dims: [1, 30], data: new Float32Array(30).fill(0.5) } });
    tee.close();
  });
  root.end();
  const ours = () => [...receiver.spans, ...appSpansReceived()].filter((s) => s.traceId === traceId);
  await receiver.waitFor(() => ours().some((s) => s.name === 'veil.v1.TeeNode/Infer' && s.service === 'veil-worker')
    && ours().some((s) => s.name === 'veil.fhe.evaluate') && ours().some((s) => s.name === 'app.request') && connected(ours()));
  const spans = ours();

  // FHE: the worker thread's evaluation span → … → the gateway's Predict server span → the SDK's client span → the app.
  const evaluate = spans.find((s) => s.name === 'veil.fhe.evaluate')!;
  expect(evaluate).toMatchObject({ service: 'veil-gateway', scope: 'veil-fhe-worker' });
  expect(evaluate.resource['thread.id']).toEqual(expect.any(Number));
  expect(evaluate.attributes).toMatchObject({ 'veil.plan': 'breast-cancer-lr/blocks', 'veil.groups': 1 });
  const fheChain = ancestry(spans, evaluate).map(label);
  expect(fheChain).toEqual([
    'veil-gateway/veil-fhe-worker:veil.fhe.evaluate',
    'veil-gateway/veil-gateway:veil.fhe.predict',
    'veil-gateway/veil-gateway:veil.v1.Fhe/Predict(server)',
    'app/veil-client:veil.v1.Fhe/Predict(client)',
    'app/test-app:app.request',
  ]);
  const queue = spans.find((s) => s.name === 'veil.fhe.queue' && s.parentSpanId === evaluate.parentSpanId);
  expect(queue).toBeDefined();
  // The key upload's validation ran in the worker thread too, under CreateSession.
  const loadKeys = spans.find((s) => s.name === 'veil.fhe.load_keys')!;
  expect(ancestry(spans, loadKeys).map(label).slice(1, 3)).toEqual(['veil-gateway/veil-gateway:veil.v1.Fhe/CreateSession(server)', 'app/veil-client:veil.v1.Fhe/CreateSession(client)']);
  // Admission (authentication, decoding, scope) is its own span under each server span.
  const predictServer = spans.find((s) => s.name === 'veil.v1.Fhe/Predict' && s.kind === SERVER)!;
  expect(spans.some((s) => s.name === 'veil.admission' && s.parentSpanId === predictServer.spanId)).toBe(true);
  expect(predictServer.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'veil.v1.Fhe', 'rpc.method': 'Predict', 'veil.code': 'ok' });

  // TEE: the node process's server span → the gateway's node call → the relay → Tee/Infer server → SDK client → app.
  const nodeSpan = spans.find((s) => s.name === 'veil.v1.TeeNode/Infer' && s.kind === SERVER)!;
  expect(nodeSpan).toMatchObject({ service: 'veil-worker', scope: 'veil-tee-node' });
  expect(nodeSpan.attributes).toMatchObject({ 'veil.model': 'breast-cancer-lr', 'veil.code': 'ok' });
  expect(ancestry(spans, nodeSpan).map(label)).toEqual([
    'veil-worker/veil-tee-node:veil.v1.TeeNode/Infer(server)',
    'veil-gateway/veil-gateway:veil.v1.TeeNode/Infer(client)',
    'veil-gateway/veil-gateway:veil.tee.relay',
    'veil-gateway/veil-gateway:veil.v1.Tee/Infer(server)',
    'app/veil-client:veil.v1.Tee/Infer(client)',
    'app/test-app:app.request',
  ]);
  // Nothing in this trace is orphaned: every span's parent was exported (or it is the app's root).
  for (const s of spans) expect(ancestry(spans, s).at(-1)!.name).toBe('app.request');
  // The gateway's log lines of these calls carry the trace id.
  expect(gatewayLogs.some((l) => l.includes(`"trace_id":"${traceId}"`))).toBe(true);
});

/** A value and the encodings it could hide in: utf8, hex, and base64 at every byte alignment (edges trimmed). */
function forms(bytes: Buffer): string[] {
  const out = new Set<string>([bytes.toString('hex'), bytes.toString('hex').toUpperCase()]);
  if (/^[\x20-\x7e]+$/.test(bytes.toString('latin1'))) out.add(bytes.toString('latin1'));
  for (const pad of [0, 1, 2]) {
    for (const alphabet of ['base64', 'base64url'] as const) {
      const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString(alphabet).replace(/=+$/, '');
      out.add(encoded.slice(pad === 0 ? 0 : Math.ceil((pad * 4) / 3), -2));
    }
  }
  return [...out].filter((f) => f.length >= 12);
}

test('canary: no payload, prompt, key or API key bytes in any exported span, resource, status or log line', async () => {
  const canary = `CANARY${randomBytes(12).toString('hex')}`;
  const canaryBytes = Buffer.from(canary, 'latin1');
  const marker = 24681.3671875; // float32-exact
  const markerBytes = Buffer.from(new Float32Array([marker, marker, marker]).buffer);
  // veil_<16 hex id>_<43 base64url secret>: the secret may itself contain '_'.
  const secret = apiKey.slice('veil_'.length + 16 + 1);
  expect(secret).toHaveLength(43);
  const app = trace.getTracer('test-app');
  const root = app.startSpan('app.canary');
  const traceId = root.spanContext().traceId;
  await context.with(trace.setSpan(context.active(), root), async () => {
    // FHE keys: exactly the declared sizes (so they reach a worker thread), filled with the canary.
    const { specJson } = await client.getFheSpec('breast-cancer-lr', {}, 'blocks');
    const sizes = evaluationKeySizes(JSON.parse(specJson) as FheModelSpec);
    const fill = (n: number) => Buffer.alloc(n, canaryBytes);
    await expect(client.createFheSession({ modelId: 'breast-cancer-lr', variant: 'blocks', galoisKeys: fill(sizes.galoisKeys), relinKeys: sizes.relinKeys ? fill(sizes.relinKeys) : undefined })).rejects.toMatchObject({ code: 'invalid_keys' });
    // FHE ciphertexts: a real session, a ciphertext made of the canary.
    const fhe = await connectFheModel({ client, modelId: 'breast-cancer-lr', deadlineMs: 60_000 });
    await expect(client.predict(await fhe.session(), [{ ciphertexts: [fill(64 * 1024)] }])).rejects.toMatchObject({ code: expect.stringMatching(/^invalid_/) });
    await fhe.predict([Array.from({ length: 30 }, () => marker)]);
    await fhe.close();
    // TEE: sealed inputs carrying the marker, relayed to the remote node.
    const tee = await connectTeeModel({ gateway: gateway.address, apiKey, modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots() });
    await tee.infer({ x: { dims: [1, 30], data: new Float32Array(30).fill(marker) } });
    tee.close();
    // HTTP: a prompt in a plain (unsealed) chat body is refused; its traceparent still joins the trace.
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const res = await fetch(`${gateway.httpUrl}/v1/chat/completions?q=${canary}`, {
      method: 'POST', headers: { ...carrier, authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-veil-model': canary },
      body: JSON.stringify({ model: canary, messages: [{ role: 'user', content: `${canary} tell me a secret` }] }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    await res.arrayBuffer();
  });
  root.end();
  const ours = () => [...receiver.spans, ...appSpansReceived()].filter((s) => s.traceId === traceId);
  await receiver.waitFor(() => ours().some((s) => s.name === 'veil.v1.TeeNode/Infer' && s.service === 'veil-worker')
    && ours().some((s) => s.name === 'veil.fhe.load_keys') && ours().some((s) => s.name.startsWith('HTTP POST')) && ours().some((s) => s.name === 'app.canary') && connected(ours()));
  // The HTTP request's span continued the app's trace, named by route pattern (never the URL with its query).
  const httpSpan = ours().find((s) => s.name.startsWith('HTTP POST'))!;
  expect(httpSpan).toMatchObject({ kind: SERVER, name: 'HTTP POST /v1/chat/completions' });
  expect(ours().find((s) => s.spanId === httpSpan.parentSpanId)?.name).toBe('app.canary');

  // Let the node's logs of these calls arrive, then look everywhere a collector or log pipeline would see.
  await new Promise((r) => setTimeout(r, 300));
  const exported = [...receiver.bodies, JSON.stringify(appSpansReceived())].join('\n');
  const logs = [...gatewayLogs, ...nodeLogs].join('\n');
  const needles = [...forms(canaryBytes), ...forms(markerBytes), ...forms(Buffer.from(secret, 'latin1')), secret];
  for (const needle of needles) {
    expect({ needle, inExport: exported.includes(needle) }).toEqual({ needle, inExport: false });
    expect({ needle, inLogs: logs.includes(needle) }).toEqual({ needle, inLogs: false });
  }
  // The refusals were exported, marked with their codes only.
  const refused = ours().filter((s) => s.status.code === 2).map((s) => s.status.message);
  expect(refused).toEqual(expect.arrayContaining(['invalid_keys']));
  for (const message of refused) expect(message).toMatch(/^[a-z_A-Z0-9]+$/);
});
