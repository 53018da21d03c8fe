import { listReflectedServices } from '../../test/support/list-reflected-services';
import fs from 'node:fs';
import type { Http2Session } from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createVeilClient, VeilClientError } from '../../client';
import { MIN_KEY_CHUNK_BYTES } from '../../proto';
import { createApiKeyGuard, generateApiKey, updateKeysFile, type ApiKeyGuard, type ApiKeyRecord } from '../auth';
import { createTestCa } from '../../test/support/create-test-pki';
import { createLogger } from '../logger';
import { createGrpcServer, type GrpcServer } from './create-grpc-server';
import { handleClientStream, handleUnary } from './handle-call';
import type { CallContext } from './call-context';

const logger = createLogger({ level: 'silent', format: 'json' });

/** A small set of veil.v1 methods that echo what the wrapper gave them (principal), with the gateway's scopes. */
function echoServices(seen: CallContext[]) {
  return {
    Trust: {
      GetRegistry: handleUnary('GetRegistry', logger, async (_request, context) => {
        seen.push(context);
        return { enabled: false, chainId: 0, rpcUrl: context.principal ?? 'nobody', registryAddress: '', embedded: false };
      }),
    },
    Models: {
      ListModels: handleUnary('ListModels', logger, async () => ({ models: [] })),
      GetFheSpec: handleUnary<{ modelId: string }, object>('GetFheSpec', logger, async (request) => ({ modelId: request.modelId }), {
        scope: (request) => ({ mode: 'fhe', model: request.modelId }),
      }),
    },
    Fhe: {
      CreateSession: handleClientStream<{ header?: { modelId: string } }, object>('CreateSession', logger, async (call) => {
        let messages = 0;
        for await (const _message of call as AsyncIterable<unknown>) messages++;
        return { sessionId: `read ${messages}`, bytesReceived: 0, ttlSeconds: 1 };
      }, { scope: (first) => ({ mode: 'fhe', model: first.header?.modelId }) }),
    },
    Tee: {
      ListNodes: handleUnary('Tee.ListNodes', logger, async () => ({ nodes: [] }), { scope: () => ({ mode: 'tee' }) }),
    },
  };
}

const reflectedServices = (address: string) => listReflectedServices(address);

async function refusal(promise: Promise<unknown>): Promise<VeilClientError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(VeilClientError);
  return err as VeilClientError;
}

test('client connections get a receive window large enough for a ciphertext (no WINDOW_UPDATE stall)', async () => {
  const server = await createGrpcServer({
    host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 26, maxSendMessageBytes: 1 << 26, services: echoServices([]),
  });
  const sessions: Http2Session[] = [];
  for (const http2Server of (server.server as unknown as { http2Servers: Map<{ on: Function }, unknown> }).http2Servers.keys()) {
    http2Server.on('session', (s: Http2Session) => sessions.push(s));
  }
  const client = createVeilClient({ target: server.address });
  try {
    await client.getTrustRegistry();
    await new Promise((r) => setTimeout(r, 100));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.localSettings.initialWindowSize).toBe(8 * 1024 * 1024);
    expect(sessions[0]!.state.localWindowSize).toBeGreaterThan(65_535);
  } finally {
    client.close();
    await server.close();
  }
});

describe('the RPC wrapper on a plaintext server without auth', () => {
  let server: GrpcServer;
  const seen: CallContext[] = [];
  beforeAll(async () => {
    server = await createGrpcServer({ host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 1 << 20, services: echoServices(seen) });
  });
  afterAll(() => server.close());

  test('reflection lists only the services this server serves (not veil.v1.TeeNode)', async () => {
    const names = await reflectedServices(server.address);
    expect(names).toEqual(expect.arrayContaining(['veil.v1.Trust', 'veil.v1.Models', 'veil.v1.Fhe', 'veil.v1.Tee']));
    expect(names).not.toContain('veil.v1.TeeNode');
  });

  test('bytes that are not a protobuf message get INVALID_ARGUMENT with a Veil code and a request id, not a bare INTERNAL', async () => {
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    // Field 1 (model_id, length-delimited) with its length missing: protobufjs cannot decode it.
    const truncated = Buffer.from([0x0a]);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      client.makeUnaryRequest('/veil.v1.Models/GetFheSpec', (b: Buffer) => b, (b: Buffer) => b, truncated, (err) => resolve(err!));
    });
    client.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.metadata.get('veil-error-code')).toEqual(['invalid_argument']);
    expect(error.metadata.get('x-request-id')[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.details).toBe('the request is not a valid protobuf message for /veil.v1.Models/GetFheSpec');
    // … and the server keeps serving.
    const sdk = createVeilClient({ target: server.address });
    await expect(sdk.getTrustRegistry()).resolves.toMatchObject({ rpcUrl: 'nobody' });
    sdk.close();
  });

  test('an undecodable message in a client stream fails the stream with invalid_argument', async () => {
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.makeClientStreamRequest('/veil.v1.Fhe/CreateSession', (b: Buffer) => b, (b: Buffer) => b, (err) => resolve(err!));
      call.write(Buffer.from([0xff, 0xff, 0xff]));
      call.end();
    });
    client.close();
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.metadata.get('veil-error-code')).toEqual(['invalid_argument']);
    expect(error.metadata.get('x-request-id')).toHaveLength(1);
  });

  test('with auth off there is no principal', async () => {
    const sdk = createVeilClient({ target: server.address, apiKey: generateApiKey().key });
    await sdk.getTrustRegistry();
    sdk.close();
    expect(seen.at(-1)!.principal).toBeUndefined();
  });

  test('a method not wrapped by handleUnary/handleClientStream is refused at startup (it would bypass auth)', async () => {
    await expect(createGrpcServer({
      host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 1 << 20,
      services: { Trust: { GetRegistry: (_call: unknown, callback: (e: null, r: object) => void) => callback(null, {}) } },
    })).rejects.toThrow('Trust.GetRegistry is not wrapped by handleUnary/handleClientStream');
  });
});

describe('API keys enforced by the RPC wrapper', () => {
  let dir: string;
  let file: string;
  let guard: ApiKeyGuard;
  let server: GrpcServer;
  let now = 1_000_000;
  const seen: CallContext[] = [];
  const keys: Record<string, { id: string; key: string }> = {};

  const addKey = (name: string, scope: Partial<Pick<ApiKeyRecord, 'models' | 'modes' | 'rate'>> = {}) => {
    const generated = generateApiKey();
    updateKeysFile(file, (contents) => contents.keys.push({
      id: generated.id, sha256: generated.sha256, name, createdAt: new Date(0).toISOString(),
      models: scope.models ?? '*', modes: scope.modes ?? ['fhe', 'tee'], rate: scope.rate ?? null, revokedAt: null,
    }));
    keys[name] = generated;
  };
  const client = (name?: string) => createVeilClient({ target: server.address, apiKey: name ? keys[name]!.key : undefined });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-auth-'));
    file = path.join(dir, 'api-keys.json');
    addKey('all');
    addKey('fhe-only', { modes: ['fhe'], models: ['breast-cancer-lr'] });
    addKey('slow', { rate: { perSecond: 1, burst: 2 } });
    addKey('doomed');
    // Reloads are driven by the test (guard.reload()), the rate limiter by this clock.
    guard = createApiKeyGuard({ file, logger, now: () => now, timers: { setInterval: () => 0, clearInterval: () => {} } });
    server = await createGrpcServer({ host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 1 << 20, services: echoServices(seen), guard });
  });
  afterAll(async () => {
    await server.close();
    guard.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a call without a key is refused as unauthenticated (UNAUTHENTICATED) with a request id', async () => {
    const sdk = client();
    const err = await refusal(sdk.listModels());
    sdk.close();
    expect(err).toMatchObject({ code: 'unauthenticated', grpcStatus: grpc.status.UNAUTHENTICATED });
    expect(err.message).toMatch(/authorization: Bearer/);
  });

  test('a wrong, malformed or forged key is unauthenticated; the right one sets the principal to its id', async () => {
    const forged = `veil_${keys.all!.id}_${'A'.repeat(43)}`;
    for (const apiKey of [forged, 'not-a-key', generateApiKey().key]) {
      const sdk = createVeilClient({ target: server.address, apiKey });
      expect((await refusal(sdk.getTrustRegistry())).code).toBe('unauthenticated');
      sdk.close();
    }
    const sdk = client('all');
    await expect(sdk.getTrustRegistry()).resolves.toMatchObject({ rpcUrl: keys.all!.id });
    sdk.close();
    expect(seen.at(-1)!.principal).toBe(keys.all!.id);
  });

  test('health and reflection stay open without a key', async () => {
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String })) as any;
    const health = new def.grpc.health.v1.Health(server.address, grpc.credentials.createInsecure());
    const res = await new Promise<any>((resolve, reject) => health.check({ service: '' }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    health.close();
    expect(res.status).toBe('SERVING');
    expect(await reflectedServices(server.address)).toContain('veil.v1.Models');
  });

  test('scopes: a key limited to FHE and one model is refused other models and TEE mode (PERMISSION_DENIED)', async () => {
    const sdk = client('fhe-only');
    await expect(sdk.getFheSpec('breast-cancer-lr')).resolves.toMatchObject({ modelId: 'breast-cancer-lr' });
    expect(await refusal(sdk.getFheSpec('digits-mlp'))).toMatchObject({ code: 'permission_denied', grpcStatus: grpc.status.PERMISSION_DENIED, param: 'model_id' });
    expect(await refusal(sdk.listTeeNodes())).toMatchObject({ code: 'permission_denied' });
    await expect(sdk.listModels()).resolves.toEqual({ models: [] }); // discovery needs a key, not a scope
    sdk.close();
    const all = client('all');
    await expect(all.getFheSpec('digits-mlp')).resolves.toMatchObject({ modelId: 'digits-mlp' });
    all.close();
  });

  test('scopes of a client stream are checked on its first message, before the handler reads it', async () => {
    const sdk = client('fhe-only');
    await expect(sdk.createFheSession({ modelId: 'breast-cancer-lr', galoisKeys: new Uint8Array(2.5 * MIN_KEY_CHUNK_BYTES), chunkBytes: MIN_KEY_CHUNK_BYTES }))
      .resolves.toMatchObject({ sessionId: 'read 4' });
    expect(await refusal(sdk.createFheSession({ modelId: 'digits-mlp', galoisKeys: new Uint8Array(10) }))).toMatchObject({ code: 'permission_denied' });
    sdk.close();
  });

  test('rate limit: a burst, then rate_limited (RESOURCE_EXHAUSTED, retryable) until the bucket refills', async () => {
    const sdk = client('slow');
    await sdk.listModels();
    await sdk.listModels();
    expect(await refusal(sdk.listModels())).toMatchObject({ code: 'rate_limited', grpcStatus: grpc.status.RESOURCE_EXHAUSTED });
    // Other keys are not affected.
    const other = client('all');
    await other.listModels();
    other.close();
    now += 1_000;
    await sdk.listModels();
    expect((await refusal(sdk.listModels())).code).toBe('rate_limited');
    sdk.close();
  });

  test('revocation takes effect once the file is re-read, without a restart', async () => {
    const sdk = client('doomed');
    await sdk.listModels();
    updateKeysFile(file, (contents) => {
      contents.keys.find((k) => k.id === keys.doomed!.id)!.revokedAt = new Date().toISOString();
    });
    guard.reload();
    expect((await refusal(sdk.listModels())).code).toBe('unauthenticated');
    sdk.close();
    const all = client('all');
    await all.listModels();
    all.close();
  });
});


describe('TLS on the gateway (grpc.tlsCertFile / grpc.tlsKeyFile)', () => {
  let dir: string;
  let server: GrpcServer;
  const live = () => ({ certFile: path.join(dir, 'live.pem'), keyFile: path.join(dir, 'live.key') });
  const reloads: { accepted: boolean; reason?: string }[] = [];
  let ca1: ReturnType<typeof createTestCa>;
  let ca2: ReturnType<typeof createTestCa>;

  /** The certificate a brand-new TLS connection is shown (fingerprint), without trusting anything. */
  const servedFingerprint = () => new Promise<string>((resolve, reject) => {
    const [, port] = server.address.split(':');
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
  const trusting = (ca: { certFile: string }) => createVeilClient({ target: server.address, credentials: grpc.credentials.createSsl(fs.readFileSync(ca.certFile)) });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-gw-tls-'));
    ca1 = createTestCa(path.join(dir, 'one'), 'ca1');
    ca2 = createTestCa(path.join(dir, 'two'), 'ca2');
    const first = ca1.issue('gateway');
    fs.copyFileSync(first.certFile, live().certFile);
    fs.copyFileSync(first.keyFile, live().keyFile);
    server = await createGrpcServer({
      host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 20, maxSendMessageBytes: 1 << 20, services: echoServices([]),
      tls: { ...live(), reloadMs: 50 }, onTlsReload: (e) => reloads.push(e),
    });
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a client trusting the CA gets through; a plaintext client is refused', async () => {
    const good = trusting(ca1);
    await expect(good.getTrustRegistry()).resolves.toMatchObject({ enabled: false });
    good.close();
    const plain = createVeilClient({ target: server.address });
    expect((await refusal(plain.getTrustRegistry({ deadlineMs: 3_000 }))).grpcStatus).toBe(grpc.status.UNAVAILABLE);
    plain.close();
    const otherCa = trusting(ca2);
    expect((await refusal(otherCa.getTrustRegistry({ deadlineMs: 3_000 }))).grpcStatus).toBe(grpc.status.UNAVAILABLE);
    otherCa.close();
  });

  test('a rotated certificate is served to new connections without a restart; a half-written rotation never is', async () => {
    const before = await servedFingerprint();
    const next = ca2.issue('gateway-rotated');
    // Half way through a rotation: the new certificate with the old key. Refused; the old pair stays in use.
    fs.copyFileSync(next.certFile, live().certFile);
    await waitFor(() => reloads.some((e) => !e.accepted));
    expect(await servedFingerprint()).toBe(before);
    // Rotation completes.
    fs.copyFileSync(next.keyFile, live().keyFile);
    await waitFor(() => reloads.some((e) => e.accepted));
    const after = await servedFingerprint();
    expect(after).not.toBe(before);
    expect(after).toBe(server.tls!.fingerprint256);
    const rotated = trusting(ca2);
    await expect(rotated.getTrustRegistry()).resolves.toMatchObject({ enabled: false });
    rotated.close();
    const stale = trusting(ca1);
    expect((await refusal(stale.getTrustRegistry({ deadlineMs: 3_000 }))).grpcStatus).toBe(grpc.status.UNAVAILABLE);
    stale.close();
  });
});

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
