import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startGatewayProcess, type GatewayProcess } from '../start-gateway-process';

const ROOT = path.resolve(__dirname, '../..');
type Callback = (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void;
type Stub = grpc.Client & Record<string, (req: unknown, cb: Callback) => void>;

/** The gateway's services as a k6 gRPC client sees them: the same proto files, original field names. */
function stubs(target: string): { fhe: Stub; tee: Stub } {
  const def = protoLoader.loadSync(['veil/v1/fhe.proto', 'veil/v1/tee.proto'], { includeDirs: [path.join(ROOT, 'proto')], keepCase: true, longs: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { veil: { v1: Record<string, new (t: string, c: grpc.ChannelCredentials) => Stub> } };
  const creds = grpc.credentials.createInsecure();
  return { fhe: new pkg.veil.v1.Fhe!(target, creds), tee: new pkg.veil.v1.Tee!(target, creds) };
}
const call = (stub: Stub, method: string, req: unknown) =>
  new Promise<{ err: grpc.ServiceError | null; res?: Record<string, unknown> }>((resolve) => stub[method]!(req, (err, res) => resolve({ err, res })));

describe('bench/k6/make-k6-fixture', () => {
  let gateway: GatewayProcess;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-k6-fixture-'));
  beforeAll(async () => {
    gateway = await startGatewayProcess({
      VEIL_HTTP_ENABLED: 'false', VEIL_CHAIN_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_VARIANTS: 'blocks',
      VEIL_FHE_WORKERS: '1', VEIL_TEE_MODELS: 'breast-cancer-lr', VEIL_TEE_LANGUAGE_MODELS: 'toy-embed-kjv',
    });
  }, 180_000);
  afterAll(async () => {
    await gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const make = (...args: string[]) => execFileSync(process.execPath, [path.join(ROOT, 'bin/run-ts.cjs'), path.join(__dirname, 'make-k6-fixture.ts'), '--target', gateway.address, ...args], { encoding: 'utf8' });

  test('the FHE fixture is a Predict request the gateway answers, again and again, as the k6 script sends it', async () => {
    const out = path.join(dir, 'fhe.json');
    make('--mode', 'fhe', '--rows', '2', '--out', out);
    const fixture = JSON.parse(fs.readFileSync(out, 'utf8')) as { sessionId: string; groups: { ciphertexts: string[] }[] };
    const { fhe } = stubs(gateway.address);
    const request = { session_id: fixture.sessionId, groups: fixture.groups.map((g) => ({ ciphertexts: g.ciphertexts.map((c) => Buffer.from(c, 'base64')) })) };
    for (let i = 0; i < 2; i++) {
      const { err, res } = await call(fhe, 'Predict', request);
      expect(err).toBeNull();
      expect((res!.groups as unknown[]).length).toBe(fixture.groups.length);
    }
    fhe.close();
  }, 120_000);

  test('the TEE fixture holds distinct single-use sealed requests: each is answered once, its replay refused', async () => {
    const out = path.join(dir, 'tee.json');
    make('--mode', 'tee', '--count', '3', '--out', out);
    const fixture = JSON.parse(fs.readFileSync(out, 'utf8')) as { nodeId: string; modelId: string; sealedRequests: string[] };
    expect(new Set(fixture.sealedRequests).size).toBe(3);
    const { tee } = stubs(gateway.address);
    const send = (i: number) => call(tee, 'Infer', { node_id: fixture.nodeId, model_id: fixture.modelId, sealed_request: Buffer.from(fixture.sealedRequests[i]!, 'base64') });
    for (let i = 0; i < 3; i++) expect((await send(i)).err).toBeNull();
    const replay = await send(0);
    expect(replay.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(replay.err?.details).toContain('replay');
    tee.close();
  }, 120_000);
});
