/**
 * TEE mode through the gateway: two `veil worker` processes on loopback behind recording TCP proxies, the gateway
 * (in this process, so its logs and spans can be captured) routing to them, and the client SDK. One worker is
 * killed mid-run; requests continue on the other through the SDK's failover.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { connectTeeModel, createGatewayTeeTransport, isTeeError, type RoutedTeeTransport, type TeePolicy } from '../client/tee';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { BUNDLED_MODELS } from '../models';
import { createEnclaveIdentity } from '../tee';
import { seededRows } from './support/seeded-rows';
import { recordSpans } from './support/record-spans';
import { startVeilWorker, type VeilWorkerProcess } from './support/start-veil-worker';

const LR = BUNDLED_MODELS['breast-cancer-lr'].file;
const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 120 };
const MARKER = 31337.4140625; // exactly representable in float32
const MARKER_BYTES = Buffer.from(new Float32Array([MARKER, MARKER]).buffer);

type Worker = VeilWorkerProcess;

const startWorker = () => startVeilWorker(['--threads', '1', '--models', 'breast-cancer-lr,digits-relu-mlp']);

/** A TCP relay that records every byte in both directions (what a network observer of the gateway sees). */
async function recordingProxy(target: string): Promise<{ address: string; bytes: () => Buffer; close: () => void }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => (chunks.push(d), upstream.write(d)));
    upstream.on('data', (d: Buffer) => (chunks.push(d), client.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    bytes: () => Buffer.concat(chunks),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Records every span the gateway starts (names and attributes), via the global OpenTelemetry API. */

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: unknown; message: string };
    if (typeof e.code === 'string') return { code: e.code, message: e.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

const rows = (n: number, width: number, seed = 5) => seededRows(n, width, seed);

describe('TEE mode through the gateway (two remote worker processes)', () => {
  const workers: Worker[] = [];
  const proxies: Awaited<ReturnType<typeof recordingProxy>>[] = [];
  let clientProxy: Awaited<ReturnType<typeof recordingProxy>>;
  let gateway: Gateway;
  let dataDir: string;
  const lines: string[] = [];
  const { spans } = recordSpans();
  // The client pins the same SIMULATED keys the gateway does (the ones each worker printed).
  const roots = () => ({ simulated: gateway.tee!.simulatedKeys });
  const connect = (extra: Record<string, unknown> = {}) =>
    connectTeeModel({ gateway: clientProxy.address, modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots(), ...extra } as Parameters<typeof connectTeeModel>[0]);

  beforeAll(async () => {
    workers.push(...(await Promise.all([startWorker(), startWorker()])));
    for (const w of workers) proxies.push(await recordingProxy(w.address));
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-tee-gw-'));
    const config = loadConfig({
      env: {},
      overrides: {
        grpc: { port: 0 }, http: { port: 0 }, chain: { enabled: false }, fhe: { models: ['breast-cancer-lr'], workers: 1 }, dataDir,
        tee: {
          local: false, nodes: proxies.map((p) => p.address), measurements: [`simulated:${MEASUREMENT}`],
          simulatedKeys: workers.map((w) => w.simulatedKey), healthCheckSeconds: 1, nodeTimeoutMs: 5_000,
        },
      },
    });
    gateway = await createGateway(config, { logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) });
    clientProxy = await recordingProxy(gateway.address);
  });

  afterAll(async () => {
    await gateway?.close();
    clientProxy?.close();
    for (const p of proxies) p.close();
    for (const w of workers) w.child.kill('SIGKILL');
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the gateway attested both nodes itself and routes across them; outputs match onnxruntime-node', async () => {
    expect(gateway.tee!.nodes().map((n) => [n.nodeId, n.state, n.platform, n.measurement])).toEqual([
      ['remote-1', 'healthy', 'simulated', MEASUREMENT],
      ['remote-2', 'healthy', 'simulated', MEASUREMENT],
    ]);
    const a = await connect();
    const b = await connect();
    expect(new Set([a.nodeId, b.nodeId])).toEqual(new Set(['remote-1', 'remote-2']));
    const x = rows(4, 30);
    const session = await ort.InferenceSession.create(LR, { intraOpNumThreads: 1 });
    const expected = (await session.run({ x: new ort.Tensor('float32', x.slice(), [4, 30]) })).probability!.data as Float32Array;
    await session.release();
    for (const model of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const r = await model.infer({ x: { dims: [4, 30], data: x.slice() } });
        expect(r.signatureValid).toBe(true);
        expect(r.platform).toBe('simulated');
        expect(Array.from(r.outputs.probability!.data)).toEqual(Array.from(expected));
      }
      model.close();
    }
  });

  test('canary: an input marker never appears in gateway logs, spans, dataDir, or the bytes the gateway receives and relays', async () => {
    const before = { client: clientProxy.bytes().length, nodes: proxies.map((p) => p.bytes().length) };
    const model = await connect();
    const data = new Float32Array(30).fill(MARKER);
    for (let i = 0; i < 3; i++) await model.infer({ x: { dims: [1, 30], data: data.slice() } });
    expect((await refusal(model.infer({ x: { dims: [1, 29], data: new Float32Array(29).fill(MARKER) } }))).code).toBe('invalid_argument');
    model.close();

    const relayed = proxies.map((p, i) => p.bytes().subarray(before.nodes[i]!));
    const received = clientProxy.bytes().subarray(before.client);
    expect(received.length).toBeGreaterThan(4 * 30 * 4);
    expect(relayed.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(4 * 30 * 4);
    for (const bytes of [received, ...relayed]) expect(bytes.includes(MARKER_BYTES)).toBe(false);
    const logs = lines.join('\n');
    expect(logs).toContain('"msg":"tee relayed"');
    expect(logs).not.toContain('31337');
    const relaySpans = spans.filter((s) => s.name === 'veil.tee.relay');
    expect(relaySpans.length).toBeGreaterThan(0);
    expect(JSON.stringify(spans)).not.toContain('31337');
    const files = fs.readdirSync(dataDir, { recursive: true }) as string[];
    for (const f of files) {
      const full = path.join(dataDir, f);
      if (fs.statSync(full).isFile()) expect(fs.readFileSync(full).includes(MARKER_BYTES)).toBe(false);
    }
  });

  describe('refusals through the gateway path', () => {
    const tamper = (mutate: (r: Awaited<ReturnType<RoutedTeeTransport['infer']>>, req: { modelId: string; sealedRequest: Uint8Array }) => Promise<typeof r> | typeof r): RoutedTeeTransport => {
      const inner = createGatewayTeeTransport({ target: gateway.address });
      return { getEvidence: (r, o) => inner.getEvidence(r, o), infer: async (r, o) => mutate(await inner.infer(r, o), r), close: () => inner.close!() };
    };

    test('error: a response altered in transit is refused (tee_bad_signature)', async () => {
      const model = await connectTeeModel({
        router: tamper((r) => {
          const sealedResponse = Uint8Array.from(r.sealedResponse);
          sealedResponse[sealedResponse.length - 20]! ^= 1;
          return { ...r, sealedResponse };
        }),
        modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots(),
      });
      const { code, message } = await refusal(model.infer({ x: { dims: [1, 30], data: rows(1, 30) } }));
      expect(code).toBe('tee_bad_signature');
      expect(message).toMatch(/not signed by the attested signing key/);
    });

    test('error: a response signed by another key is refused even when it names that key', async () => {
      const impostor = await createEnclaveIdentity();
      const model = await connectTeeModel({
        router: tamper(async (r, req) => ({
          ...r, signingAddress: impostor.signingAddress,
          signature: await impostor.sign({ modelId: req.modelId, requestBytes: req.sealedRequest, responseBytes: r.sealedResponse }),
        })),
        modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots(),
      });
      expect((await refusal(model.infer({ x: { dims: [1, 30], data: rows(1, 30) } }))).code).toBe('tee_bad_signature');
    });

    test('error: an unapproved measurement is refused by the client', async () => {
      const { code, message } = await refusal(connect({ policy: { ...POLICY, measurements: [`simulated:${'ab'.repeat(48)}`] } }));
      expect(code).toBe('tee_attestation_failed');
      expect(message).toContain('measurement_not_allowed');
    });

    test('error: stale evidence is refused by the client', async () => {
      const { code, message } = await refusal(connect({ now: () => new Date(Date.now() + 3_600_000) }));
      expect(code).toBe('tee_attestation_failed');
      expect(message).toContain('evidence_too_old');
    });

    test('error: a replayed sealed request is refused by the node, relayed as tee_replay (INVALID_ARGUMENT)', async () => {
      const captured: { nodeId: string; modelId: string; sealedRequest: Uint8Array }[] = [];
      const inner = createGatewayTeeTransport({ target: gateway.address });
      const model = await connectTeeModel({
        router: { getEvidence: (r, o) => inner.getEvidence(r, o), infer: (r, o) => (captured.push(r), inner.infer(r, o)) },
        modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: roots(),
      });
      await model.infer({ x: { dims: [1, 30], data: rows(1, 30) } });
      await model.infer({ x: { dims: [1, 30], data: rows(1, 30) } });
      for (const request of captured) {
        const err = await refusal(inner.infer(request));
        expect(err.code).toBe('tee_replay');
        const again = await inner.infer(request).catch((e: unknown) => e);
        expect(isTeeError(again, 'tee_replay') && again.details?.grpc).toBe(3); // INVALID_ARGUMENT
      }
      inner.close!();
    });

    test('error: unknown model and unknown node', async () => {
      expect((await refusal(connect({ modelId: 'nope' }))).code).toBe('model_not_found');
      const inner = createGatewayTeeTransport({ target: gateway.address });
      expect((await refusal(inner.infer({ nodeId: 'remote-9', modelId: 'breast-cancer-lr', sealedRequest: new Uint8Array(40) }))).code).toBe('tee_node_unavailable');
      inner.close!();
    });
  });

  test('a node killed mid-run: requests continue on the other node through SDK failover; the dead node is quarantined', async () => {
    const model = await connect();
    const first = await model.infer({ x: { dims: [1, 30], data: rows(1, 30) } });
    const victim = workers[first.nodeId === 'remote-1' ? 0 : 1]!;
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    const nodes = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await model.infer({ x: { dims: [1, 30], data: rows(1, 30, i) } });
      expect(r.signatureValid).toBe(true);
      nodes.add(r.nodeId);
    }
    expect(nodes).toEqual(new Set([first.nodeId === 'remote-1' ? 'remote-2' : 'remote-1']));
    expect(model.failovers).toBe(1);
    const dead = gateway.tee!.nodes().find((n) => n.nodeId === first.nodeId)!;
    expect([dead.state, dead.reason]).toEqual(['quarantined', 'unreachable']);
    // New clients are routed to the survivor only.
    for (let i = 0; i < 3; i++) {
      const other = await connect();
      expect(other.nodeId).not.toBe(first.nodeId);
      other.close();
    }
    model.close();
  });
});
