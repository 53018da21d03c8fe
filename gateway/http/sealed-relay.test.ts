import net from 'node:net';
import { VeilError } from '../errors';
import { call, nodeEvents, SEALED, startTestServer, type TestServer } from './test-support/start-test-server';
import type { HttpTeeStreamEvent } from './http-tee-router';

let server: TestServer;
afterEach(async () => {
  await server?.close(100);
});

const STREAM = { ...SEALED, 'x-veil-stream': '1' };
const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
};
const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('SSE relay (x-veil-stream: 1)', () => {
  test('each node event is one `event: sealed` with base64 data; the signed last one carries the receipt', async () => {
    server = await startTestServer();
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: STREAM, payload: Buffer.from('req') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
    expect(res.body).toBe([
      `event: sealed\ndata: {"e":"${b64([0x82, 0])}"}\n\n`,
      `event: sealed\ndata: {"e":"${b64([0x82, 1])}"}\n\n`,
      `event: sealed\ndata: {"e":"${b64([0x82, 0xff])}","signature":"0xsig","signing_address":"0xabc","node_micros":900,"compute_micros":700}\n\n`,
    ].join(''));
  });

  test('a node failure after the first event ends the stream with `event: error`, never a clean end', async () => {
    server = await startTestServer();
    server.router.onStream = async function* () {
      yield* nodeEvents(1, false);
      throw new VeilError('tee_node_unavailable');
    };
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: STREAM, payload: Buffer.from('req') });
    expect(res.statusCode).toBe(200);
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[1]!.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(events[1]!.slice('event: error\ndata: '.length))).toEqual({ error: { message: expect.stringContaining('no longer available'), type: 'server_error', param: null, code: 'tee_node_unavailable' } });
  });

  test('a node stream that ends without its signed last event is reported as an error event too', async () => {
    server = await startTestServer();
    server.router.onStream = () => nodeEvents(2, false);
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: STREAM, payload: Buffer.from('req') });
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]!.slice('event: error\ndata: '.length))).toEqual({
      error: { message: 'the sealed stream ended before its signed end event', type: 'server_error', param: null, code: 'tee_stream_truncated' },
    });
    expect(events[2]!.startsWith('event: error\n')).toBe(true);
  });

  test('a node stream that fails to close after its answer neither spoils the answer nor the server', async () => {
    server = await startTestServer();
    server.router.onStream = () => {
      const inner = nodeEvents(1);
      return Object.assign(inner, { return: async () => Promise.reject(new Error('close failed')) }) as typeof inner;
    };
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: STREAM, payload: Buffer.from('req') });
    expect(res.body.split('\n\n').filter(Boolean)).toHaveLength(2);
    expect(res.body).not.toContain('event: error');
    expect((await call(server, { url: '/healthz' })).statusCode).toBe(200);
  });

  test('the deadline (x-veil-deadline-ms) aborts the node call and ends the stream with a deadline_exceeded error event', async () => {
    server = await startTestServer();
    server.router.onStream = async function* (_params, context) {
      yield* nodeEvents(1, false);
      await new Promise((_resolve, reject) => context.signal!.addEventListener('abort', () => reject(context.signal!.reason), { once: true }));
    };
    const started = Date.now();
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: { ...STREAM, 'x-veil-deadline-ms': '300' }, payload: Buffer.from('req') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!.slice('event: error\ndata: '.length)).error).toMatchObject({ code: 'deadline_exceeded', type: 'server_error' });
  });

  test('a refusal before the first event is a plain HTTP error (no SSE headers)', async () => {
    server = await startTestServer();
    server.router.onStream = async function* () {
      throw new VeilError('invalid_argument', 'n must be 1', { param: 'n' });
    };
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: STREAM, payload: Buffer.from('req') });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: { message: 'n must be 1', type: 'invalid_request_error', param: 'n', code: 'invalid_argument' } });
  });

  test('a client that disconnects mid-stream cancels the node call: the signal fires and the node stream is closed', async () => {
    server = await startTestServer();
    const seen = { aborted: false, closed: false };
    server.router.onStream = async function* (_params, context) {
      try {
        yield* nodeEvents(1, false);
        await new Promise<void>((resolve) => context.signal!.addEventListener('abort', () => resolve(), { once: true }));
        seen.aborted = true;
        yield { sealedEvent: new Uint8Array([9]), signature: '', signingAddress: '', nodeMicros: 0, computeMicros: 0 } satisfies HttpTeeStreamEvent;
      } finally {
        seen.closed = true;
      }
    };
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: STREAM, body: Buffer.from('req'), signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toContain('event: sealed');
    controller.abort();
    await until(() => seen.aborted && seen.closed);
    expect(server.router.seen[0]!.context.signal!.reason).toMatchObject({ code: 'cancelled' });
  });
});

describe('Idempotency-Key', () => {
  const KEYED = { ...SEALED, 'idempotency-key': 'retry-1' };

  test('a retry with the same key and body gets the stored answer; the node call runs once', async () => {
    server = await startTestServer();
    const one = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-a') });
    const two = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-a') });
    expect(server.router.calls.infer).toBe(1);
    expect(two.statusCode).toBe(200);
    expect(two.rawPayload.equals(one.rawPayload)).toBe(true);
    expect(two.headers['x-veil-signature']).toBe('0xsig');
    expect(two.headers['x-veil-idempotent-replayed']).toBe('true');
    expect(one.headers['x-veil-idempotent-replayed']).toBeUndefined();
    expect(two.headers['x-request-id']).not.toBe(one.headers['x-request-id']);
  });

  test('the same key with another body (or another route header) → 409 idempotency_key_reused', async () => {
    server = await startTestServer();
    await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-a') });
    const other = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-b') });
    expect(other.statusCode).toBe(409);
    expect(other.json().error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key', type: 'invalid_request_error' });
    const otherNode = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: { ...KEYED, 'x-veil-node': 'remote-1' }, payload: Buffer.from('sealed-a') });
    expect(otherNode.statusCode).toBe(409);
    expect(server.router.calls.infer).toBe(1);
  });

  test('concurrent duplicates join the first: one node call, the same answer for both', async () => {
    server = await startTestServer();
    const release = gate();
    const original = server.router.onInfer;
    server.router.onInfer = async (params, context) => {
      await release.opened;
      return original(params, context);
    };
    const a = call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-a') });
    await until(() => server.router.calls.infer === 1);
    const b = call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('sealed-a') });
    await new Promise((r) => setTimeout(r, 100));
    release.open();
    const [ra, rb] = await Promise.all([a, b]);
    expect(server.router.calls.infer).toBe(1);
    expect([ra.statusCode, rb.statusCode]).toEqual([200, 200]);
    expect(rb.rawPayload.equals(ra.rawPayload)).toBe(true);
    expect(rb.headers['x-veil-idempotent-replayed']).toBe('true');
  });

  test('a failure worth retrying is not stored: the retry really runs; a final refusal is replayed', async () => {
    server = await startTestServer();
    let fail: Error | undefined = new VeilError('tee_node_unavailable');
    const original = server.router.onInfer;
    server.router.onInfer = async (params, context) => {
      if (fail) throw fail;
      return original(params, context);
    };
    expect((await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('a') })).statusCode).toBe(503);
    fail = undefined;
    expect((await call(server, { method: 'POST', url: '/v1/chat/completions', headers: KEYED, payload: Buffer.from('a') })).statusCode).toBe(200);
    expect(server.router.calls.infer).toBe(2);

    fail = Object.assign(new Error('the sealed request did not open'), { name: 'TeeError', code: 'tee_decrypt_failed' });
    const key2 = { ...SEALED, 'idempotency-key': 'retry-2' };
    const first = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: key2, payload: Buffer.from('b') });
    const again = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: key2, payload: Buffer.from('b') });
    expect([first.statusCode, again.statusCode]).toEqual([400, 400]);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['x-veil-idempotent-replayed']).toBe('true');
    expect(server.router.calls.infer).toBe(3);
  });

  test('a stream is stored as its event list and replayed event for event; a failed stream is not stored', async () => {
    server = await startTestServer();
    const headers = { ...STREAM, 'idempotency-key': 'stream-1' };
    const one = await call(server, { method: 'POST', url: '/v1/chat/completions', headers, payload: Buffer.from('s') });
    const two = await call(server, { method: 'POST', url: '/v1/chat/completions', headers, payload: Buffer.from('s') });
    expect(server.router.calls.stream).toBe(1);
    expect(two.body).toBe(one.body);
    expect(two.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(two.headers['x-veil-idempotent-replayed']).toBe('true');

    server.router.onStream = async function* () {
      yield* nodeEvents(1, false);
      throw new VeilError('tee_node_unavailable');
    };
    const failing = { ...STREAM, 'idempotency-key': 'stream-2' };
    await call(server, { method: 'POST', url: '/v1/chat/completions', headers: failing, payload: Buffer.from('s') });
    server.router.onStream = () => nodeEvents(1);
    const retried = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: failing, payload: Buffer.from('s') });
    expect(server.router.calls.stream).toBe(3);
    expect(retried.body).toContain('"signature":"0xsig"');
    expect(retried.body).not.toContain('event: error');
  });

  test('error: a malformed key is refused', async () => {
    server = await startTestServer();
    const res = await call(server, { method: 'POST', url: '/v1/chat/completions', headers: { ...SEALED, 'idempotency-key': 'x'.repeat(256) }, payload: Buffer.from('a') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_argument', param: 'Idempotency-Key' });
  });
});

describe('closing', () => {
  test('in-flight requests finish; a request arriving on an open connection meanwhile gets 503 unavailable as an OpenAI error', async () => {
    server = await startTestServer();
    const release = gate();
    const original = server.router.onInfer;
    server.router.onInfer = async (params, context) => {
      await release.opened;
      return original(params, context);
    };
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    const request = (extra: string) => `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/vnd.veil.sealed\r\nx-veil-model: toy-chat\r\nx-veil-node: local\r\n${extra}content-length: 1\r\n\r\nA`;
    // The second request arrives on the same (busy, so not idle-closed) connection after closing began.
    socket.write(request(''));
    await until(() => server.router.calls.infer === 1);
    const closed = server.close(2000);
    socket.write(request(''));
    await new Promise((r) => setTimeout(r, 100));
    release.open();
    await until(() => (received.match(/HTTP\/1\.1 /g) ?? []).length === 2);
    socket.destroy();
    await closed;
    const [first, second] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(second).toContain('"code":"unavailable"');
    expect(server.router.calls.infer).toBe(1);
  });
});
