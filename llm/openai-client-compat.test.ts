import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import type { LanguageHost } from './create-language-host';
import { LlmError } from './llm-error';
import { loadLanguageHost } from './load-language-host';

// The official openai SDK parses what the host answers, through the thinnest possible HTTP shim (the gateway and
// proxy add sealing, routing and the error registry; none of that changes these objects).
const MODELS = path.resolve(__dirname, '..', 'models', 'llm');
let host: LanguageHost;
let server: http.Server;
let client: OpenAI;

beforeAll(async () => {
  host = await loadLanguageHost({ folders: [{ dir: path.join(MODELS, 'toy-chat-kjv') }, { dir: path.join(MODELS, 'toy-embed-kjv') }] });
  server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as { model: string; stream?: boolean };
    try {
      if (req.url === '/v1/chat/completions' && body.stream) {
        const iterator = host.stream(body.model, body)[Symbol.asyncIterator]();
        const first = await iterator.next(); // refusals arrive here, before the headers
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let r = first; !r.done; r = await iterator.next()) res.write(`data: ${JSON.stringify(r.value)}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      const answer = await host.run(req.url === '/v1/embeddings' ? 'embeddings' : 'chat.completions', body.model, body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } catch (err) {
      const e = err as LlmError;
      res.writeHead(e.code === 'model_not_found' ? 404 : 400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: e.message, type: 'invalid_request_error', param: e.param ?? null, code: e.code } }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await host?.close();
});

describe('the openai SDK against the language host', () => {
  it('chat, streamed with include_usage and not, parse to the same reply', async () => {
    const params = { model: 'toy-chat-kjv', messages: [{ role: 'user' as const, content: 'In the beginning God' }], temperature: 0, max_tokens: 20 };
    const whole = await client.chat.completions.create(params);
    expect(whole.choices[0]!.message).toMatchObject({ role: 'assistant', content: expect.any(String) });
    expect(whole.choices[0]!.finish_reason).toBe('length');
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let content = '';
    let usage: unknown;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).toBe(whole.choices[0]!.message.content);
    expect(usage).toEqual(whole.usage);
  });

  it('the SDK\'s stream helper assembles the final completion', async () => {
    const runner = client.chat.completions.stream({ model: 'toy-chat-kjv', messages: [{ role: 'user', content: 'And God said' }], temperature: 0, max_tokens: 12 });
    const final = await runner.finalChatCompletion();
    const whole = await client.chat.completions.create({ model: 'toy-chat-kjv', messages: [{ role: 'user', content: 'And God said' }], temperature: 0, max_tokens: 12 });
    expect(final.choices[0]!.message.content).toBe(whole.choices[0]!.message.content);
  });

  it('embeddings: the SDK\'s default (it asks for base64 and decodes it) equals float', async () => {
    const input = ['In the beginning God created the heaven and the earth.', 'Jesus wept.'];
    const decoded = await client.embeddings.create({ model: 'toy-embed-kjv', input });
    const float = await client.embeddings.create({ model: 'toy-embed-kjv', input, encoding_format: 'float' });
    expect(decoded.data.map((d) => d.embedding.map((x) => Math.fround(x)))).toEqual(float.data.map((d) => d.embedding.map((x) => Math.fround(x))));
    expect(decoded.usage).toEqual(float.usage);
  });

  it('refusals reach the SDK as its error classes with code and param', async () => {
    const n = await client.chat.completions.create({ model: 'toy-chat-kjv', messages: [{ role: 'user', content: 'x' }], n: 2 }).catch((e: unknown) => e);
    expect(n).toBeInstanceOf(OpenAI.BadRequestError);
    expect(n).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'n' });
    const missing = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
