import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isTeeError } from '../../tee';
import { VeilClientError } from '../veil-client-error';
import { createHttpTeeTransport } from './create-http-tee-transport';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

describe('createHttpTeeTransport (contract §C framing)', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end();
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
  let closed = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.on('close', () => closed++);
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const transport = (extra = {}) => createHttpTeeTransport({ baseUrl: base, apiKey: 'veil_k_s', ...extra });
  const drain = async (iterable: AsyncIterable<unknown>) => {
    const out: unknown[] = [];
    for await (const x of iterable) out.push(x);
    return out;
  };

  test('getEvidence: asks /v1/attestation with model, hex nonce and excluded nodes, and reads the §C answer', async () => {
    handler = (_req, res) => json(res, 200, {
      node_id: 'n1',
      evidence: { envelope_json: '{}', identity: { hpke_public_key: 'ab'.repeat(32), signing_address: '0x1', hpke_suite: 's', protocol: 'veil-tee-v1' }, platform: 'simulated', model_ids: ['m'], max_message_bytes: 9, models: [] },
    });
    const route = await transport().getEvidence({ modelId: 'toy-chat', nonce: new Uint8Array([1, 2, 255]), excludeNodeIds: ['a', 'b'] });
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/attestation?model=toy-chat&nonce=0102ff&exclude=a%2Cb', headers: { authorization: 'Bearer veil_k_s' } });
    expect(route).toEqual({
      nodeId: 'n1',
      evidence: { envelopeJson: '{}', identity: { hpkePublicKey: new Uint8Array(32).fill(0xab), signingAddress: '0x1', hpkeSuite: 's', protocol: 'veil-tee-v1' }, platform: 'simulated', modelIds: ['m'], maxMessageBytes: 9 },
    });
    handler = (_req, res) => json(res, 200, { node_id: 'n1', evidence: { envelope_json: '{}', identity: { hpke_public_key: 'zz' } } });
    const bad = await transport().getEvidence({ modelId: 'm', nonce: new Uint8Array(1), excludeNodeIds: [] }).catch((e: unknown) => e);
    expect(isTeeError(bad, 'tee_attestation_failed')).toBe(true);
  });

  test('infer: raw sealed bytes to the operation\'s route with the routing headers; the receipt from the x-veil headers', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.veil.sealed', 'x-veil-signature': '0xsig', 'x-veil-signing-address': '0xaddr', 'x-veil-node-micros': '12', 'x-veil-compute-micros': '5' });
      res.end(Buffer.from([0x81, 1, 2]));
    };
    const answer = await transport().infer({ nodeId: 'n1', modelId: 'toy-embed', sealedRequest: new Uint8Array([1, 2, 3]), operation: 'embeddings', idempotencyKey: 'veil-abc' });
    expect(answer).toEqual({ sealedResponse: new Uint8Array([0x81, 1, 2]), signature: '0xsig', signingAddress: '0xaddr', nodeMicros: 12, computeMicros: 5 });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST', url: '/v1/embeddings', body: Buffer.from([1, 2, 3]),
      headers: { 'content-type': 'application/vnd.veil.sealed', 'x-veil-model': 'toy-embed', 'x-veil-node': 'n1', 'idempotency-key': 'veil-abc' },
    });
    expect(seen.at(-1)!.headers['x-veil-stream']).toBeUndefined();
  });

  test('errors: the OpenAI error object becomes TeeError (TEE codes) or VeilClientError, keeping status, type and param', async () => {
    handler = (_req, res) => json(res, 400, { error: { message: 'too long', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    const tee = await transport().infer({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' }).catch((e: unknown) => e);
    expect(isTeeError(tee, 'context_length_exceeded')).toBe(true);
    expect(tee).toMatchObject({ param: 'messages', message: 'too long', details: { httpStatus: 400, type: 'invalid_request_error' } });
    handler = (_req, res) => json(res, 503, { error: { message: 'gone', type: 'server_error', param: null, code: 'tee_node_unavailable' } });
    const gateway = await transport().infer({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' }).catch((e: unknown) => e);
    expect(gateway).toBeInstanceOf(VeilClientError);
    expect(gateway).toMatchObject({ code: 'tee_node_unavailable', httpStatus: 503, type: 'server_error' });
    handler = (_req, res) => {
      res.writeHead(502);
      res.end('<html>bad gateway</html>');
    };
    expect(await transport().listModels().catch((e: unknown) => e)).toMatchObject({ code: 'unavailable', httpStatus: 502 });
    const unreachable = await createHttpTeeTransport({ baseUrl: 'http://127.0.0.1:1' }).listModels().catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ code: 'unavailable', httpStatus: 503 });
    expect(() => createHttpTeeTransport({ baseUrl: base, apiKey: 'has space' })).toThrow(/printable ASCII/);
  });

  const sse = (res: ServerResponse, text: string, end = true) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(text);
    if (end) res.end();
  };

  test('inferStream: sealed events in order (the last with its receipt), x-veil-stream: 1; unknown events skipped', async () => {
    handler = (_req, res) => sse(res, ': hi\r\nevent: sealed\r\ndata: {"e":"AQI="}\r\n\r\nevent: ping\ndata: x\n\nevent: sealed\ndata: {"e":"Aw==","signature":"0xs","signing_address":"0xa","node_micros":3,"compute_micros":2}\n\n');
    const events = await drain(transport().inferStream({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' }));
    expect(events).toEqual([
      { sealedEvent: new Uint8Array([1, 2]), signature: '', signingAddress: '', nodeMicros: 0, computeMicros: 0 },
      { sealedEvent: new Uint8Array([3]), signature: '0xs', signingAddress: '0xa', nodeMicros: 3, computeMicros: 2 },
    ]);
    expect(seen.at(-1)).toMatchObject({ url: '/v1/chat/completions', headers: { 'x-veil-stream': '1', accept: 'text/event-stream' } });
  });

  test('inferStream failures: error event → its code; malformed event → tee_stream_invalid; a cut body → tee_stream_truncated', async () => {
    const run = () => drain(transport().inferStream({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' })).catch((e: unknown) => e);
    handler = (_req, res) => sse(res, 'event: sealed\ndata: {"e":"AQ=="}\n\nevent: error\ndata: {"error":{"message":"gone","type":"server_error","param":null,"code":"tee_node_unavailable"}}\n\n');
    expect(await run()).toMatchObject({ code: 'tee_node_unavailable' });
    handler = (_req, res) => sse(res, 'event: sealed\ndata: {"e":"not base64!"}\n\n');
    expect(isTeeError(await run(), 'tee_stream_invalid')).toBe(true);
    handler = (_req, res) => sse(res, 'event: sealed\ndata: [1,2]\n\n');
    expect(isTeeError(await run(), 'tee_stream_invalid')).toBe(true);
    handler = (_req, res) => {
      sse(res, 'event: sealed\ndata: {"e":"AQ=="}\n\nevent: sea', false);
      setTimeout(() => res.destroy(), 20);
    };
    expect(isTeeError(await run(), 'tee_stream_truncated')).toBe(true);
    handler = (_req, res) => json(res, 200, {});
    expect(isTeeError(await run(), 'tee_stream_invalid')).toBe(true);
  });

  test('inferStream limits: the deadline covers the whole stream; an abort is cancelled; breaking out closes the connection', async () => {
    handler = (_req, res) => sse(res, 'event: sealed\ndata: {"e":"AQ=="}\n\n', false);
    const started = Date.now();
    const late = await drain(transport().inferStream({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' }, { deadlineMs: 150 })).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'deadline_exceeded' });
    expect(Date.now() - started).toBeLessThan(2000);

    const controller = new AbortController();
    const aborted = await (async () => {
      for await (const _ of transport().inferStream({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' }, { signal: controller.signal })) controller.abort();
    })().catch((e: unknown) => e);
    expect(isTeeError(aborted, 'cancelled')).toBe(true);

    const before = closed;
    for await (const _ of transport().inferStream({ nodeId: 'n', modelId: 'm', sealedRequest: new Uint8Array(1), operation: 'chat.completions' })) break;
    for (let i = 0; i < 100 && closed === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(before + 1);
  });
});
