/**
 * Issue #9 point 7 end to end: a `veil worker` serving mutual TLS (`--tls-cert --tls-key --client-ca`), a gateway that
 * reaches it with its client certificate (`tee.nodeCaFile`, `tee.clientCertFile`, `tee.clientKeyFile`) and serves TLS
 * itself with API keys required, and the SDK going through all of it. Certificates are made with the openssl CLI.
 */
import { listReflectedServices } from './support/list-reflected-services';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { createVeilClient } from '../client';
import { connectTeeModel, createTeeTransport, isTeeError, type TeePolicy } from '../client/tee';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { generateApiKey, updateKeysFile } from '../gateway/auth';
import { createTestCa, type TestCa, type TestCertificate } from './support/create-test-pki';
import { seededRows } from './support/seeded-rows';
import { startVeilWorker, type VeilWorkerProcess } from './support/start-veil-worker';
import { captureCli } from './support/capture-cli';
import { run as demo } from '../cli/demo';

const ROOT = path.join(__dirname, '..');
const POLICY: TeePolicy = {
  measurements: [`simulated:${Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex')}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 120,
};

let dir: string;
let ops: TestCa;
let rogue: TestCa;
let nodeCert: TestCertificate;
let gatewayClient: TestCertificate;
let gatewayServer: TestCertificate;
let worker: VeilWorkerProcess;
let gateway: Gateway;
let apiKey: string;

const startWorker = (tlsArgs: string[]) => startVeilWorker(['--threads', '1', '--models', 'breast-cancer-lr', ...tlsArgs]);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-mtls-'));
  ops = createTestCa(path.join(dir, 'ops'), 'ops-ca');
  rogue = createTestCa(path.join(dir, 'rogue'), 'rogue-ca');
  nodeCert = ops.issue('node');
  gatewayClient = ops.issue('gateway-client');
  gatewayServer = ops.issue('gateway-server');
  worker = await startWorker(['--tls-cert', nodeCert.certFile, '--tls-key', nodeCert.keyFile, '--client-ca', ops.certFile]);

  const key = generateApiKey();
  const keysFile = path.join(dir, 'api-keys.json');
  updateKeysFile(keysFile, (c) => c.keys.push({ id: key.id, sha256: key.sha256, name: 'test', createdAt: '', models: ['breast-cancer-lr'], modes: ['tee'], rate: null, revokedAt: null }));
  apiKey = key.key;
  gateway = await createGateway(loadConfig({
    env: {},
    overrides: {
      grpc: { port: 0, tlsCertFile: gatewayServer.certFile, tlsKeyFile: gatewayServer.keyFile }, http: { port: 0 },
      fhe: { models: [], workers: 1 },
      tee: { local: false, nodes: [worker.address], simulatedKeys: [worker.simulatedKey], nodeCaFile: ops.certFile, clientCertFile: gatewayClient.certFile, clientKeyFile: gatewayClient.keyFile },
      chain: { enabled: false },
      auth: { mode: 'api-keys', keysFile },
      dataDir: dir,
    },
  }), { logger: createLogger({ level: 'silent', format: 'json' }) });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  if (worker) {
    const exited = new Promise((r) => worker.child.once('exit', r));
    worker.child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the worker says it serves mutual TLS', () => {
  expect(worker.out).toMatch(/transport {8}mutual TLS \(serving [0-9A-F:]+; clients must chain to /);
});

test('happy path: SDK → TLS gateway (API key) → mutual TLS → worker, and back', async () => {
  expect(gateway.tee!.nodes()).toEqual([expect.objectContaining({ nodeId: 'remote-1', state: 'healthy' })]);
  const model = await connectTeeModel({
    gateway: gateway.address, credentials: grpc.credentials.createSsl(fs.readFileSync(ops.certFile)), apiKey,
    modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true, roots: { simulated: gateway.tee!.simulatedKeys },
  });
  try {
    const row = seededRows(1, 30, 9);
    const r = await model.infer({ x: { dims: [1, 30], data: row } });
    expect(r.signatureValid).toBe(true);
    expect(r.nodeId).toBe('remote-1');
  } finally {
    model.close();
  }
});

async function nodeRefusal(credentials: grpc.ChannelCredentials): Promise<string> {
  const transport = createTeeTransport({ target: worker.address, credentials, deadlineMs: 5_000 });
  try {
    await transport.getEvidence({ nonce: new Uint8Array(32) });
    return 'accepted';
  } catch (err) {
    return isTeeError(err) ? err.code : String(err);
  } finally {
    transport.close?.();
  }
}

test('the worker refuses clients without the gateway\'s certificate: wrong CA, no client certificate, plaintext', async () => {
  const ca = fs.readFileSync(ops.certFile);
  const rogueClient = rogue.issue('rogue-client');
  // Control: the gateway's own client certificate gets through directly.
  expect(await nodeRefusal(grpc.credentials.createSsl(ca, fs.readFileSync(gatewayClient.keyFile), fs.readFileSync(gatewayClient.certFile)))).toBe('accepted');
  expect(await nodeRefusal(grpc.credentials.createSsl(ca, fs.readFileSync(rogueClient.keyFile), fs.readFileSync(rogueClient.certFile)))).toBe('unavailable');
  expect(await nodeRefusal(grpc.credentials.createSsl(ca))).toBe('unavailable');
  expect(await nodeRefusal(grpc.credentials.createInsecure())).toBe('unavailable');
});

test('the TLS gateway refuses plaintext clients, and a TEE call without the key is unauthenticated', async () => {
  const plain = createVeilClient({ target: gateway.address });
  await expect(plain.listModels({ deadlineMs: 3_000 })).rejects.toMatchObject({ grpcStatus: grpc.status.UNAVAILABLE });
  plain.close();
  const keyless = createVeilClient({ target: gateway.address, credentials: grpc.credentials.createSsl(fs.readFileSync(ops.certFile)) });
  await expect(keyless.listTeeNodes()).rejects.toMatchObject({ code: 'unauthenticated' });
  keyless.close();
});

test('the worker refuses half a TLS configuration', async () => {
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'veil.cjs'), 'worker', '--port', '0', '--tls-cert', nodeCert.certFile, '--tls-key', nodeCert.keyFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('exit', (code) => resolve({ code, err }));
  });
  expect(r.code).toBe(2);
  expect(r.err).toContain('mutual TLS needs --tls-cert, --tls-key and --client-ca together');
});

test('veil demo --mode tee reaches it with --tls-ca and VEIL_API_KEY, and says unauthenticated without a key', async () => {
  const args = ['--mode', 'tee', '--target', gateway.address, '--tls-ca', ops.certFile, '--latency-samples', '2', '--json'];
  const keyless = await captureCli(demo, args);
  expect(keyless).toMatchObject({ code: 1, err: expect.stringContaining('[unauthenticated]') });
  process.env.VEIL_API_KEY = apiKey;
  try {
    const ok = await captureCli(demo, args);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ mode: 'tee', signatureValid: true, nodeId: 'remote-1' });
  } finally {
    delete process.env.VEIL_API_KEY;
  }
});

test('the worker\'s reflection lists only veil.v1.TeeNode', async () => {
  const credentials = grpc.credentials.createSsl(fs.readFileSync(ops.certFile), fs.readFileSync(gatewayClient.keyFile), fs.readFileSync(gatewayClient.certFile));
  expect(await listReflectedServices(worker.address, credentials)).toEqual(['veil.v1.TeeNode']);
});
