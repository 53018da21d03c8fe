import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import OpenAI from 'openai';
import { createTestCa } from '../../test/support/create-test-pki';
import { createApiKeyGuard, generateApiKey, updateKeysFile, type ApiKeyGuard } from '../auth';
import { createLogger } from '../logger';
import { call, SEALED, startTestServer, type TestServer } from './test-support/start-test-server';

let dir: string;
let server: TestServer | undefined;
let guard: ApiKeyGuard | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-http-'));
});
afterEach(async () => {
  await server?.close(100);
  server = undefined;
  guard?.close();
  guard = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const fingerprint = (file: string) => new X509Certificate(fs.readFileSync(file)).fingerprint256;

/** GET over a fresh TLS connection trusting only `caFile`: the status and the certificate the server presented. */
function getTls(url: string, caFile: string): Promise<{ status: number; fingerprint256: string; requestId: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${url}/healthz`, { ca: fs.readFileSync(caFile), agent: false }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint256: cert.fingerprint256, requestId: String(res.headers['x-request-id']) }));
    });
    req.on('error', reject);
  });
}

test('HTTPS from PEM files; a rotation is served to new connections once whole; a half-written one is refused', async () => {
  const ca = createTestCa(dir);
  const one = ca.issue('one');
  const two = ca.issue('two');
  const live = { certFile: path.join(dir, 'live.pem'), keyFile: path.join(dir, 'live.key') };
  fs.copyFileSync(one.certFile, live.certFile);
  fs.copyFileSync(one.keyFile, live.keyFile);
  const events: { accepted: boolean }[] = [];
  server = await startTestServer({ tls: { ...live, reloadMs: 60_000 }, onTlsReload: (e) => events.push(e) });
  expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(await getTls(server.url, ca.certFile)).toMatchObject({ status: 200, fingerprint256: fingerprint(one.certFile), requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

  fs.copyFileSync(two.certFile, live.certFile); // certificate rotated, key not yet: must not be taken up
  expect(server.tls!.reload()).toBe(false);
  expect((await getTls(server.url, ca.certFile)).fingerprint256).toBe(fingerprint(one.certFile));
  fs.copyFileSync(two.keyFile, live.keyFile);
  expect(server.tls!.reload()).toBe(true);
  expect((await getTls(server.url, ca.certFile)).fingerprint256).toBe(fingerprint(two.certFile));
  expect(events.map((e) => e.accepted)).toEqual([false, true]);
  // Plain HTTP to the TLS port gets nothing usable.
  await expect(fetch(server.url.replace('https', 'http') + '/healthz')).rejects.toThrow();
});

test('error: an unusable certificate stops startup, naming the file', async () => {
  const bad = path.join(dir, 'bad.pem');
  fs.writeFileSync(bad, 'not a certificate');
  await expect(startTestServer({ tls: { certFile: bad, keyFile: bad } })).rejects.toThrow(`${bad}: not a PEM certificate`);
});

describe('API keys (auth.mode = api-keys): the gRPC guard and principal', () => {
  const keysFile = () => path.join(dir, 'api-keys.json');
  const addKey = (modes: ('fhe' | 'tee')[], models: '*' | string[] = '*') => {
    const k = generateApiKey();
    updateKeysFile(keysFile(), (c) => c.keys.push({ id: k.id, sha256: k.sha256, name: 't', createdAt: '', models, modes, rate: null, revokedAt: null }));
    return k;
  };
  const start = async () => {
    guard = createApiKeyGuard({ file: keysFile(), logger: createLogger({ level: 'silent', format: 'text' }), timers: { setInterval: () => 0, clearInterval: () => {} } });
    server = await startTestServer({ guard });
    return server;
  };

  test('no or a wrong key → 401 as the OpenAI SDK parses it; probes stay open; the key id is the principal and the caller key', async () => {
    const full = addKey(['fhe', 'tee']);
    const s = await start();
    const noKey = await call(s, { url: '/v1/models' });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().error).toMatchObject({ code: 'unauthenticated', type: 'authentication_error' });
    expect(noKey.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const wrong = await new OpenAI({ apiKey: `${full.key.slice(0, -2)}xx`, baseURL: `${s.url}/v1`, maxRetries: 0 }).models.list().catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(wrong).toMatchObject({ status: 401, code: 'unauthenticated' });
    // Unknown routes need a key too: without one, the answer says nothing about which endpoints exist.
    expect((await call(s, { url: '/v1/nope' })).statusCode).toBe(401);
    expect((await call(s, { url: '/healthz' })).statusCode).toBe(200);
    expect((await call(s, { url: '/readyz' })).statusCode).toBe(200);

    const page = await new OpenAI({ apiKey: full.key, baseURL: `${s.url}/v1`, maxRetries: 0 }).models.list();
    expect(page.data.length).toBeGreaterThan(0);
    const evidence = await call(s, { url: '/v1/attestation?model=toy-chat&nonce=00', headers: { authorization: `Bearer ${full.key}` } });
    expect(evidence.statusCode).toBe(200);
    expect(s.router.evidenceContexts[0]!.caller).toBe(`key:${full.id}`);
  });

  test('a key not scoped to TEE mode or to the model → 403 permission_denied; nothing reaches the router', async () => {
    const fheOnly = addKey(['fhe']);
    const otherModel = addKey(['tee'], ['breast-cancer-lr']);
    const s = await start();
    const evidence = await call(s, { url: '/v1/attestation?model=toy-chat&nonce=00', headers: { authorization: `Bearer ${fheOnly.key}` } });
    expect(evidence.statusCode).toBe(403);
    expect(evidence.json().error.code).toBe('permission_denied');
    const relay = await call(s, { method: 'POST', url: '/v1/chat/completions', headers: { ...SEALED, authorization: `Bearer ${otherModel.key}` }, payload: Buffer.from('x') });
    expect(relay.statusCode).toBe(403);
    expect(relay.json().error).toMatchObject({ code: 'permission_denied', param: 'x-veil-model' });
    expect(s.router.calls).toEqual({ infer: 0, stream: 0, evidence: 0 });
  });
});
