/**
 * veil proxy against a fake of the gateway's HTTP wire whose "node" is a real enclave identity, driven by the official
 * openai SDK: every seal, open and signature check is the real one, and every misbehaviour of the relay is refused.
 */
import http from 'node:http';
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import type { TeePolicy } from '../tee';
import { startVeilProxy, type StartVeilProxyOptions, type VeilProxy } from './start-veil-proxy';
import { startFakeGateway, type FakeGateway } from './test-support/start-fake-gateway';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY: TeePolicy = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 60 };
/** The openai SDK sends Idempotency-Key only as a plain header (its idempotencyKey option needs a client that names the header). */
const key = (value: string) => ({ headers: { 'Idempotency-Key': value } });
const MESSAGES = [{ role: 'system' as const, content: 'be brief' }, { role: 'user' as const, content: 'hello there enclave' }];

describe('veil proxy (openai SDK → proxy → fake gateway wire → real enclave identity)', () => {
  let gateway: FakeGateway;
  let proxy: VeilProxy;
  let openai: OpenAI;

  const start = (extra: Partial<StartVeilProxyOptions> = {}) =>
    startVeilProxy({ gateway: gateway.url, policy: POLICY, allowSimulated: true, roots: { simulated: [gateway.provider.verifierKey] }, port: 0, ...extra });

  beforeAll(async () => {
    gateway = await startFakeGateway();
    proxy = await start({ models: ['toy-chat'] });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-local', maxRetries: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    await gateway.close();
  });

  test('chat without streaming: the enclave\'s answer, usage and finish_reason, through real sealing', async () => {
    const before = gateway.sealedBodies.length;
    const completion = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe('echo: hello there enclave');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    // The relay saw only sealed bytes: not the prompt.
    const relayed = Buffer.from(gateway.sealedBodies[before]!, 'hex').toString('latin1');
    expect(relayed).not.toContain('hello there enclave');
  });

  test('chat streaming: chunks in order, then [DONE]; include_usage adds the usage chunk', async () => {
    const stream = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('echo: hello there enclave');
    expect(finish).toBe('stop');

    const withUsage = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } });
  });

  test('the raw SSE ends with data: [DONE] after the chunks', async () => {
    const response = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'toy-chat', messages: MESSAGES, stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const text = await response.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text.split('\n\n').filter(Boolean).every((e) => e.startsWith('data: '))).toBe(true);
  });

  test('a stream\'s headers are not flushed on their own: they leave with the first chunk (one write fewer per stream)', async () => {
    const flush = jest.spyOn(http.ServerResponse.prototype, 'flushHeaders');
    try {
      const stream = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('echo: hello there enclave');
      expect(flush).not.toHaveBeenCalled();
    } finally {
      flush.mockRestore();
    }
  });

  test('an app that leaves mid-stream cancels the upstream stream', async () => {
    const abandoned = gateway.abandonedStreams;
    gateway.next = 'slow';
    const controller = new AbortController();
    const stream = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, stream: true }, { signal: controller.signal });
    // The SDK ends the iteration quietly on its own abort.
    for await (const _ of stream) controller.abort();
    for (let i = 0; i < 100 && gateway.abandonedStreams === abandoned; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gateway.abandonedStreams).toBe(abandoned + 1);
  });

  test('embeddings: float and base64 (the SDK asks for base64 by default and decodes it)', async () => {
    const floats = await openai.embeddings.create({ model: 'toy-embed', input: ['abc', 'hello'], encoding_format: 'float' });
    expect(floats.data.map((d) => d.embedding)).toEqual([[3, 1, 0.5, -0.25], [5, 1, 0.5, -0.25]]);
    expect(floats.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    const decoded = await openai.embeddings.create({ model: 'toy-embed', input: 'abcd' });
    expect(decoded.data[0]!.embedding).toEqual([4, 1, 0.5, -0.25]);
    const raw = await openai.embeddings.create({ model: 'toy-embed', input: 'abcd', encoding_format: 'base64' });
    const bytes = Buffer.from(raw.data[0]!.embedding as unknown as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual([4, 1, 0.5, -0.25]);
  });

  test('the model list is the gateway\'s language models; /v1/attestation reports what the proxy verified', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['toy-chat', 'toy-embed']);
    expect(await openai.models.retrieve('toy-embed')).toMatchObject({ id: 'toy-embed', object: 'model', owned_by: 'veil' });
    await expect(openai.models.retrieve('breast-cancer-lr')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const attestation = await (await fetch(`${proxy.url}/v1/attestation`)).json() as { data: Record<string, unknown>[] };
    const chat = attestation.data.find((a) => a.model === 'toy-chat')!;
    expect(chat).toMatchObject({
      node_id: 'node-a', platform: 'simulated', measurement: MEASUREMENT, signing_address: gateway.identities[0]!.signingAddress, simulated: true, simulated_key: 'pinned', onchain: false,
    });
    expect(Date.parse(chat.verified_at as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(proxy.attestations().map((a) => a.model)).toContain('toy-chat');
    // ?model= attests that model now if it was not yet, and reports it alone.
    const fresh = await startVeilProxy({ gateway: gateway.url, policy: POLICY, allowSimulated: true, roots: { simulated: [gateway.provider.verifierKey] }, port: 0 });
    try {
      expect(fresh.attestations()).toEqual([]);
      const one = await (await fetch(`${fresh.url}/v1/attestation?model=toy-embed`)).json() as { data: Record<string, unknown>[] };
      expect(one.data).toEqual([expect.objectContaining({ model: 'toy-embed', node_id: 'node-a', simulated: true })]);
      const missing = await fetch(`${fresh.url}/v1/attestation?model=nope`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'model_not_found' } });
    } finally {
      await fresh.close();
    }
  });

  test('errors as the SDK parses them: unknown model 404, bad parameter 400 with param, context length 400, unknown route', async () => {
    const unknown = await openai.chat.completions.create({ model: 'no-such-model', messages: MESSAGES }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found' });
    const n = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, n: 2 }).catch((e: unknown) => e);
    expect(n).toBeInstanceOf(OpenAI.BadRequestError);
    expect(n).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'n' });
    const long = await openai.chat.completions.create({ model: 'toy-chat', messages: [{ role: 'user', content: 'word '.repeat(300) }], stream: true }).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect(long).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
    const noModel = await openai.chat.completions.create({ messages: MESSAGES } as never).catch((e: unknown) => e);
    expect(noModel).toMatchObject({ status: 400, param: 'model' });
    const route = await fetch(`${proxy.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(route.status).toBe(404);
    expect(await route.json()).toMatchObject({ error: { code: 'unknown_url', type: 'invalid_request_error', param: null } });
    const badJson = await fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ error: { code: 'invalid_argument', message: 'the request body is not valid JSON' } });
  });

  describe('Idempotency-Key', () => {
    test('a retry after a lost answer re-sends the same sealed bytes; the gateway\'s store answers and nothing runs twice', async () => {
      const runs = gateway.runs.chat;
      const sent = gateway.sealedBodies.length;
      gateway.next = 'lose-answer';
      const first = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('retry-1')).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(OpenAI.APIError);
      expect((first as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      const second = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('retry-1'));
      expect(second.choices[0]!.message.content).toBe('echo: hello there enclave');
      expect(gateway.runs.chat).toBe(runs + 1);
      expect(gateway.replays).toBe(1);
      expect(gateway.sealedBodies.slice(sent)).toEqual([gateway.sealedBodies[sent], gateway.sealedBodies[sent]]);
      // A finished answer is then given again from the proxy's own memory, without asking the gateway.
      const third = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('retry-1'));
      expect(third).toEqual(second);
      expect(gateway.sealedBodies.length).toBe(sent + 2);
    });

    test('the SDK\'s own retry (maxRetries) with a key: one run', async () => {
      const retrying = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-local', maxRetries: 2 });
      const runs = gateway.runs.chat;
      gateway.next = 'lose-answer';
      const completion = await retrying.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('retry-2'));
      expect(completion.choices[0]!.message.content).toBe('echo: hello there enclave');
      expect(gateway.runs.chat).toBe(runs + 1);
    });

    test('a stream retried with its key replays the stored events, opened and verified again', async () => {
      const runs = gateway.runs.chat;
      gateway.next = 'cut';
      const body = { model: 'toy-chat', messages: MESSAGES, stream: true as const };
      const first = await openai.chat.completions.create(body, key('stream-1'));
      await expect((async () => {
        for await (const _ of first) void _;
      })()).rejects.toThrow();
      const second = await openai.chat.completions.create(body, key('stream-1'));
      let text = '';
      for await (const chunk of second) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('echo: hello there enclave');
      expect(gateway.runs.chat).toBe(runs + 1);
    });

    test('concurrent duplicates share one run; the same key with another body is 409', async () => {
      const runs = gateway.runs.chat;
      const [a, b] = await Promise.all([
        openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('dup-1')),
        openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('dup-1')),
      ]);
      expect(a).toEqual(b);
      expect(gateway.runs.chat).toBe(runs + 1);
      const other = await openai.chat.completions.create({ model: 'toy-chat', messages: [{ role: 'user', content: 'else' }] }, key('dup-1')).catch((e: unknown) => e);
      expect(other).toBeInstanceOf(OpenAI.ConflictError);
      expect(other).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
    });
  });

  describe('a relay that misbehaves is refused, never silently believed', () => {
    const streamed = async (misbehaviour: FakeGateway['next']) => {
      gateway.next = misbehaviour;
      const chunks: string[] = [];
      try {
        const stream = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES, stream: true });
        for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta.content ?? '');
      } catch (err) {
        return { chunks, error: err as { status?: number; code?: string; message: string } };
      }
      return { chunks, error: undefined };
    };

    test.each([
      ['tamper', 'tee_stream_invalid'],
      ['drop', 'tee_stream_invalid'],
      ['reorder', 'tee_stream_invalid'],
      ['duplicate', 'tee_stream_invalid'],
      ['after-end', 'tee_stream_invalid'],
      ['truncate', 'tee_stream_truncated'],
      ['cut', 'tee_stream_truncated'],
      ['bad-signature', 'tee_bad_signature'],
      ['gateway-error', 'tee_node_unavailable'],
      ['enclave-error', 'overloaded'],
    ] as const)('%s → the SDK raises %s', async (misbehaviour, code) => {
      const { error } = await streamed(misbehaviour);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ code });
    });

    test('a tampered unary answer is refused (502, tee_bad_signature)', async () => {
      gateway.next = 'tamper';
      const error = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect(error).toMatchObject({ status: 502, code: 'tee_bad_signature' });
    });

    test('an answer for another request is refused and not "retried" (it ran once; a re-seal would run it twice)', async () => {
      const runs = gateway.runs.chat;
      gateway.next = 'other-request';
      const error = await openai.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, key('other-1')).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 502, code: 'tee_decrypt_failed' });
      expect(gateway.runs.chat).toBe(runs + 1);
    });

    test('after a refused stream the proxy keeps serving', async () => {
      const { chunks, error } = await streamed(undefined);
      expect(error).toBeUndefined();
      expect(chunks.join('')).toBe('echo: hello there enclave');
    });
  });

  test('a node that goes away: the proxy re-attests another node and re-seals, once', async () => {
    const two = await startFakeGateway({ nodes: 2 });
    const p = await startVeilProxy({ gateway: two.url, policy: POLICY, allowSimulated: true, roots: { simulated: [two.provider.verifierKey] }, port: 0 });
    try {
      const client = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'x', maxRetries: 0 });
      await client.chat.completions.create({ model: 'toy-chat', messages: MESSAGES });
      expect(p.attestations()[0]!.node_id).toBe('node-a');
      two.next = 'node-gone';
      const completion = await client.chat.completions.create({ model: 'toy-chat', messages: MESSAGES });
      expect(completion.choices[0]!.message.content).toBe('echo: hello there enclave');
      expect(p.attestations()[0]).toMatchObject({ node_id: 'node-b', signing_address: two.identities[1]!.signingAddress });
    } finally {
      await p.close();
      await two.close();
    }
  });

  test('a node restarted with new keys under the same id: re-attested and re-sealed within the same request', async () => {
    const restarted = await startFakeGateway();
    const p = await startVeilProxy({ gateway: restarted.url, policy: POLICY, allowSimulated: true, roots: { simulated: [restarted.provider.verifierKey] }, port: 0 });
    try {
      const client = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'x', maxRetries: 0 });
      for (const [i, options] of [undefined, key('restart-1')].entries()) {
        await client.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, options);
        await restarted.restart(0);
        const runs = restarted.runs.chat;
        const completion = await client.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }, i === 1 ? key('restart-2') : undefined);
        expect(completion.choices[0]!.message.content).toBe('echo: hello there enclave');
        expect(restarted.runs.chat).toBe(runs + 1);
        expect(p.attestations()[0]!.signing_address).toBe(restarted.identities[0]!.signingAddress);
      }
    } finally {
      await p.close();
      await restarted.close();
    }
  });

  test('SIMULATED nodes are refused unless allowed: at start for listed models, and per request otherwise', async () => {
    await expect(start({ allowSimulated: false, models: ['toy-chat'] })).rejects.toMatchObject({ code: 'tee_simulated_refused' });
    const strict = await start({ allowSimulated: false });
    try {
      const client = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const error = await client.chat.completions.create({ model: 'toy-chat', messages: MESSAGES }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 502, code: 'tee_simulated_refused' });
      expect(String((error as Error).message)).toMatch(/SIMULATED/);
    } finally {
      await strict.close();
    }
  });
});
