import net from 'node:net';
import OpenAI from 'openai';
import { VeilError } from '../errors';
import { call, createFakeRouter, EVIDENCE, SEALED, startTestServer, type TestServer } from './test-support/start-test-server';

let server: TestServer;
afterEach(async () => {
  await server?.close(100);
});

const openai = (s: TestServer) => new OpenAI({ apiKey: 'unused', baseURL: `${s.url}/v1`, maxRetries: 0 });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('errors are OpenAI error objects with x-request-id', () => {
  test('unknown route: 404 route_not_found, as the OpenAI SDK parses it', async () => {
    server = await startTestServer();
    const res = await call(server, { method: 'POST', url: '/v1/nope?secret=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.json()).toEqual({ error: { message: 'no endpoint POST /v1/nope', type: 'invalid_request_error', param: null, code: 'route_not_found' } });
    const err = await openai(server).get('/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'route_not_found', type: 'invalid_request_error' });
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-request-id')).toMatch(UUID);
  });

  test('unknown model: 404 model_not_found with param, via models.retrieve', async () => {
    server = await startTestServer();
    const err = await openai(server).models.retrieve('gpt-4').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', message: expect.stringContaining('no model "gpt-4"') });
  });

  test('fastify\'s own refusals: bad JSON 400, wrong content-type 415, too large 413 — each with x-request-id', async () => {
    server = await startTestServer({
      registerFheRoutes: (app) => app.post('/v1/echo', async (request) => ({ got: request.body })),
    });
    const badJson = await call(server, { method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/json' }, payload: '{ "a": ' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error).toEqual({ message: 'the request body is not valid JSON', type: 'invalid_request_error', param: null, code: 'invalid_argument' });
    const xml = await call(server, { method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error).toMatchObject({ code: 'unsupported_media_type', param: 'content-type' });
    const big = await call(server, { method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(70_000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatchObject({ code: 'message_too_large', message: 'the request body exceeds 65536 bytes (http.bodyLimitBytes)' });
    for (const res of [badJson, xml, big]) expect(res.headers['x-request-id']).toMatch(UUID);
    expect(new Set([badJson, xml, big].map((r) => r.headers['x-request-id'])).size).toBe(3);
  });

  test('a URL fastify cannot decode and bytes that are not HTTP still get an OpenAI error with x-request-id', async () => {
    server = await startTestServer();
    const port = Number(new URL(server.url).port);
    const raw = (text: string) => new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let out = '';
      socket.on('data', (d) => {
        out += d.toString();
        if (/\r\n\r\n[\s\S]*\}\}$/.test(out)) socket.destroy();
      });
      socket.on('close', () => resolve(out));
      socket.write(text);
    });
    const badUrl = await raw('GET /v1/%zz HTTP/1.1\r\nhost: x\r\n\r\n');
    const notHttp = await raw('GARBAGE\r\n\r\n');
    for (const [text, message] of [[badUrl, 'the request URL is not valid (bad percent-encoding)'], [notHttp, 'the bytes received are not a valid HTTP/1.1 request']] as const) {
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).toMatch(/x-request-id: [0-9a-f-]{36}\r\n/);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { message, type: 'invalid_request_error', param: null, code: 'invalid_argument' } });
    }
  });

  test('an internal failure answers 500 "internal error": no detail reaches the client, the cause is logged', async () => {
    server = await startTestServer();
    server.router.onInfer = async () => {
      throw new Error('ECONNREFUSED /var/secret/socket');
    };
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: SEALED, payload: Buffer.from('sealed') });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { message: 'internal error', type: 'server_error', param: null, code: 'internal' } });
    expect(res.body).not.toContain('secret');
    expect(server.lines.some((l) => l.includes('http request failed') && l.includes('/var/secret/socket') && l.includes(res.headers['x-request-id'] as string))).toBe(true);
  });

  test('a retry-after header accompanies a refusal that says how long to wait', async () => {
    server = await startTestServer();
    server.router.getEvidence = async () => {
      throw new VeilError('rate_limited', 'too many evidence requests from this caller; retry in 1500 ms', { details: { retryAfterMs: 1500 } });
    };
    const res = await call(server, { method: 'GET', url: '/v1/attestation?model=toy-chat&nonce=00ff' });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json().error).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
  });
});

describe('GET /v1/models, /healthz, /readyz', () => {
  test('FHE and TEE models in the OpenAI list shape, with modes, kind and context length', async () => {
    server = await startTestServer();
    const page = await openai(server).models.list();
    const byId = Object.fromEntries(page.data.map((m) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual(['breast-cancer-lr', 'digits-mlp', 'toy-chat']);
    expect(byId['toy-chat']).toEqual({ id: 'toy-chat', object: 'model', created: expect.any(Number), owned_by: 'veil', modes: ['tee'], kind: 'chat', context_length: 512 });
    expect(byId['breast-cancer-lr']).toMatchObject({ modes: ['fhe', 'tee'], kind: 'tabular', context_length: 0 });
    expect(byId['digits-mlp']).toMatchObject({ modes: ['fhe'] });
    const one = await openai(server).models.retrieve('toy-chat');
    expect(one.id).toBe('toy-chat');
  });

  test('readyz: 200 with a servable model, 503 unavailable without; healthz always 200', async () => {
    const router = createFakeRouter();
    router.teeModels = [];
    server = await startTestServer({ fheModels: new Map(), tee: router });
    expect((await call(server, { url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const notReady = await call(server, { url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().error.code).toBe('unavailable');
    router.teeModels = [{ id: 'toy-chat', kind: 'chat', contextLength: 512, nodes: 1 }];
    expect((await call(server, { url: '/readyz' })).json()).toEqual({ status: 'ready', models: 1 });
    router.teeModels.push({ id: 'toy-chat', kind: 'chat', contextLength: 512, nodes: 2 });
    expect((await call(server, { url: '/readyz' })).json()).toEqual({ status: 'ready', models: 1 }); // distinct models, not entries
  });
});

describe('GET /v1/attestation', () => {
  test('the routed node\'s evidence in the contract\'s envelope; the caller key and deadline reach the router', async () => {
    server = await startTestServer();
    const res = await call(server, { url: '/v1/attestation?model=toy-chat&nonce=00ff10&exclude=remote-1,remote-2', headers: { 'x-veil-deadline-ms': '5000' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      node_id: 'local',
      evidence: {
        envelope_json: EVIDENCE.envelopeJson,
        identity: { hpke_public_key: '010203fe', signing_address: '0xabc', hpke_suite: EVIDENCE.identity!.hpkeSuite, protocol: 'veil-tee-v1' },
        platform: 'simulated', model_ids: ['toy-chat'], max_message_bytes: 1024, models: [{ id: 'toy-chat', kind: 'chat', context_length: 512 }],
      },
    });
    const context = server.router.evidenceContexts[0]!;
    expect(context.caller).toBe('peer:127.0.0.1');
    expect(context.deadline - Date.now()).toBeGreaterThan(3000);
    expect(context.deadline - Date.now()).toBeLessThanOrEqual(5000);
  });

  test.each([
    ['no nonce', 'model=toy-chat', 'nonce'],
    ['odd hex', 'model=toy-chat&nonce=abc', 'nonce'],
    ['1025 bytes', `model=toy-chat&nonce=${'00'.repeat(1025)}`, 'nonce'],
    ['no model', 'nonce=00', 'model'],
    ['two models', 'model=a&model=b&nonce=00', 'model'],
  ])('error: %s → 400 naming the parameter', async (_name, query, param) => {
    server = await startTestServer();
    const res = await call(server, { url: `/v1/attestation?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_argument', param });
    expect(server.router.calls.evidence).toBe(0);
  });

  test('the router\'s model_not_found names the HTTP parameter', async () => {
    server = await startTestServer();
    server.router.getEvidence = async () => {
      throw new VeilError('model_not_found', 'no TEE node serves "x"', { param: 'model_id' });
    };
    const res = await call(server, { url: '/v1/attestation?model=x&nonce=00' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  test('error: a bad x-veil-deadline-ms is refused before anything runs', async () => {
    server = await startTestServer();
    for (const value of ['0', 'soon', '60001', '1.5']) {
      const res = await call(server, { url: '/v1/attestation?model=toy-chat&nonce=00', headers: { 'x-veil-deadline-ms': value } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_argument', param: 'x-veil-deadline-ms' });
      expect(res.headers['x-request-id']).toMatch(UUID);
    }
    expect(server.router.calls.evidence).toBe(0);
  });
});

describe('sealed relay: POST /v1/chat/completions and /v1/embeddings', () => {
  test('a plain OpenAI request is refused with 400 sealed_request_required naming veil proxy (as the SDK sees it)', async () => {
    server = await startTestServer();
    const err = await openai(server).chat.completions.create({ model: 'toy-chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'sealed_request_required', type: 'invalid_request_error', message: expect.stringContaining('veil proxy') });
    const emb = await openai(server).embeddings.create({ model: 'toy-embed', input: 'hi' }).catch((e: unknown) => e);
    expect(emb).toMatchObject({ status: 400, code: 'sealed_request_required' });
    // Broken JSON and other content-types on a sealed route get the same answer, not a JSON-parser message.
    for (const [type, payload] of [['application/json', '{'], ['text/plain', 'hello'], ['application/xml', '<a/>']]) {
      const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': type! }, payload });
      expect([res.statusCode, res.json().error.code]).toEqual([400, 'sealed_request_required']);
    }
    expect(server.router.calls.infer).toBe(0);
  });

  test('unary: the sealed bytes go to the named node unchanged; the sealed answer and receipt come back', async () => {
    server = await startTestServer();
    const body = Buffer.from([2, 9, 8, 7]);
    const res = await call(server, { method: 'POST', url: '/v1/embeddings', headers: SEALED, payload: body });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'application/vnd.veil.sealed', 'x-veil-signature': '0xsig', 'x-veil-signing-address': '0xabc',
      'x-veil-node-micros': '1234', 'x-veil-compute-micros': '1000', 'x-request-id': expect.stringMatching(UUID),
    });
    expect([...res.rawPayload]).toEqual([0x81, 2, 9, 8, 7]);
    const { params, context } = server.router.seen[0]!;
    expect(params).toEqual({ nodeId: 'local', modelId: 'toy-chat', sealedRequest: new Uint8Array(body) });
    expect(context.caller).toBe('peer:127.0.0.1');
    expect(context.deadline - Date.now()).toBeGreaterThan(20_000); // the 30 s default
  });

  test.each([
    [{ 'x-veil-model': undefined }, 'x-veil-model'],
    [{ 'x-veil-node': undefined }, 'x-veil-node'],
    [{ 'x-veil-model': 'a b' }, 'x-veil-model'],
    [{ 'x-veil-stream': 'yes' }, 'x-veil-stream'],
  ])('error: routing header %j → 400 naming %s', async (headers, param) => {
    server = await startTestServer();
    const all = Object.fromEntries(Object.entries({ ...SEALED, ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: all, payload: Buffer.from('x') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_argument', param });
  });

  test('error: embeddings do not stream', async () => {
    server = await startTestServer();
    const res = await call(server, { method: 'POST', url: '/v1/embeddings', headers: { ...SEALED, 'x-veil-stream': '1' }, payload: Buffer.from('x') });
    expect(res.json().error).toMatchObject({ code: 'invalid_argument', param: 'x-veil-stream' });
  });

  test('the router\'s param names become the HTTP ones (model_id → x-veil-model, sealed_request → body)', async () => {
    server = await startTestServer();
    server.router.onInfer = async () => {
      throw new VeilError('message_too_large', 'sealed_request is 9 bytes; this TEE node accepts at most 4', { param: 'sealed_request' });
    };
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: SEALED, payload: Buffer.from('123456789') });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'message_too_large', param: 'body' });
  });

  test('the body never reaches the log', async () => {
    server = await startTestServer();
    const canary = 'CANARY-7f3a9c-never-logged';
    await call(server, { method: 'POST', url: '/v1/chat/completions', headers: SEALED, payload: Buffer.from(canary) });
    await call(server, { method: 'POST', url: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ messages: [{ content: canary }] }) });
    expect(server.lines.length).toBeGreaterThan(0);
    expect(server.lines.join('\n')).not.toContain(canary);
    expect(server.lines.join('\n')).not.toContain(Buffer.from(canary).toString('base64'));
  });
});
