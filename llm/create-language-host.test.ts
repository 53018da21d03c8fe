import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { createModelTokenizer } from './create-model-tokenizer';
import { createLanguageHost, type LanguageHost } from './create-language-host';
import { LlmError } from './llm-error';
import { CHUNK_PAD_BYTES } from './pad-stream-chunk';
import { loadLanguageHost } from './load-language-host';
import { loadLanguageModel, type ChatModel } from './load-language-model';
import { readModelFolder } from './read-model-folder';

const MODELS = path.resolve(__dirname, '..', 'models', 'llm');
const CHAT = 'toy-chat-kjv';
const MQA = 'toy-chat-mqa-kjv';
const EMBED = 'toy-embed-kjv';
const facts = (name: string) => JSON.parse(fs.readFileSync(path.join(MODELS, name, 'build-facts.json'), 'utf8'));
const NOW = 1_700_000_000_123;

type Chunk = {
  id: string; object: string; created: number; model: string; usage?: unknown; obfuscation?: string;
  choices: { index: number; delta: { role?: string; content?: string }; logprobs: null; finish_reason: string | null }[];
};
type Completion = {
  id: string; object: string; created: number; model: string;
  choices: { index: number; message: { role: string; content: string; refusal: null }; logprobs: null; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

const chatBody = (content: string, extra: Record<string, unknown> = {}) => ({ model: CHAT, messages: [{ role: 'user', content }], ...extra });
const collect = async (stream: AsyncIterable<object>) => {
  const chunks: Chunk[] = [];
  for await (const c of stream) chunks.push(c as Chunk);
  return chunks;
};
const text = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof LlmError)) throw new Error(`expected an LlmError, got ${String(err)}`);
  return { code: err.code, param: err.param, message: err.message };
};

let host: LanguageHost;
beforeAll(async () => {
  host = await loadLanguageHost({ folders: [{ dir: path.join(MODELS, CHAT) }, { dir: path.join(MODELS, MQA) }, { id: 'embed', dir: path.join(MODELS, EMBED) }], now: () => NOW, streamWindowMs: 0 });
});
afterAll(() => host?.close());

describe('createLanguageHost: chat.completions', () => {
  it('lists its models with kind and context length', () => {
    expect(host.models).toEqual([
      { id: CHAT, kind: 'chat', contextLength: 512 },
      { id: MQA, kind: 'chat', contextLength: 512 },
      { id: 'embed', kind: 'embedding', contextLength: 256 },
    ]);
  });

  it.each([CHAT, MQA])('greedy %s equals generate-chat (and the build\'s Python loop), as a full chat.completion object', async (name) => {
    const raw = (await loadLanguageModel(path.join(MODELS, name), { id: name })) as ChatModel;
    let rawText = '';
    try {
      for await (const e of raw.chat({ messages: [{ role: 'user', content: 'In the beginning God' }], temperature: 0, topP: 1, stop: [], maxTokens: 20 })) {
        if (e.type === 'delta') rawText += e.text;
      }
    } finally {
      await raw.release();
    }
    const f = facts(name).parity;
    const r = (await host.run('chat.completions', name, { model: name, messages: [{ role: 'user', content: 'In the beginning God' }], temperature: 0, max_tokens: 20 })) as Completion;
    expect(r).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]{24}$/), object: 'chat.completion', created: 1_700_000_000, model: name,
      choices: [{ index: 0, message: { role: 'assistant', content: rawText, refusal: null }, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: f.greedyPromptIds.length, completion_tokens: 20, total_tokens: f.greedyPromptIds.length + 20 },
    });
    expect(rawText).toBe(f.greedyText);
  });

  it('ids are random per completion', async () => {
    const body = chatBody('And God said', { temperature: 0, max_tokens: 1 });
    const [a, b] = (await Promise.all([host.run('chat.completions', CHAT, body), host.run('chat.completions', CHAT, body)])) as Completion[];
    expect(a!.id).not.toBe(b!.id);
  });

  it('a seed makes sampling repeatable, and other seeds sample otherwise', async () => {
    const body = chatBody('And God said', { temperature: 1, top_p: 0.95, seed: 1234, max_completion_tokens: 16 });
    const content = async (b: object) => ((await host.run('chat.completions', CHAT, b)) as Completion).choices[0]!.message.content;
    const a = await content(body);
    expect(await content(body)).toBe(a);
    const others = await Promise.all([1, 2, 3].map((seed) => content({ ...body, seed })));
    expect(others.some((o) => o !== a)).toBe(true);
  });

  it('a stop sequence ends the reply before it with finish_reason stop', async () => {
    const full = (await host.run('chat.completions', CHAT, chatBody('In the beginning God', { temperature: 0, max_tokens: 20 }))) as Completion;
    const r = (await host.run('chat.completions', CHAT, chatBody('In the beginning God', { temperature: 0, max_tokens: 20, stop: 'hath' }))) as Completion;
    const content = full.choices[0]!.message.content;
    expect(r.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: content.slice(0, content.indexOf('hath')) } });
    expect(r.usage.completion_tokens).toBeLessThan(20);
  });

  it('the stream is OpenAI\'s chunk sequence and concatenates to the non-stream content', async () => {
    const body = chatBody('In the beginning God', { temperature: 0.8, seed: 77, max_tokens: 24 });
    const whole = (await host.run('chat.completions', CHAT, body)) as Completion;
    const chunks = await collect(host.stream(CHAT, { ...body, stream: true }));
    expect(chunks[0]!.choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: whole.choices[0]!.finish_reason }]);
    for (const c of chunks) {
      expect(c).toMatchObject({ id: chunks[0]!.id, object: 'chat.completion.chunk', created: 1_700_000_000, model: CHAT });
      expect(c.id).toMatch(/^chatcmpl-/);
      expect('usage' in c).toBe(false);
    }
    for (const c of chunks.slice(1, -1)) expect(c.choices[0]).toEqual({ index: 0, delta: { content: expect.any(String) }, logprobs: null, finish_reason: null });
    expect(chunks.length).toBeGreaterThan(3);
    expect(text(chunks)).toBe(whole.choices[0]!.message.content);
  });

  it('streamWindowMs: tokens generated within one window leave as one chunk; the first at once, the text the same', async () => {
    const body = chatBody('In the beginning God', { temperature: 0, max_tokens: 20 });
    const whole = (await host.run('chat.completions', CHAT, body)) as Completion;
    const coalescing = await loadLanguageHost({ folders: [{ dir: path.join(MODELS, CHAT) }], now: () => NOW, streamWindowMs: 1000 });
    try {
      const chunks = await collect(coalescing.stream(CHAT, { ...body, stream: true }));
      const content = chunks.filter((c) => c.choices[0]?.delta.content);
      // 20 toy tokens take far less than the 1 s window: the first token, then the other 19 at the finish.
      expect(content.length).toBeLessThanOrEqual(3);
      expect(text(chunks)).toBe(whole.choices[0]!.message.content);
      expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
    } finally {
      await coalescing.close();
    }
  });

  it('include_usage: usage null on every chunk, then a last chunk with no choices and the usage', async () => {
    const body = chatBody('In the beginning God', { temperature: 0, max_tokens: 20 });
    const whole = (await host.run('chat.completions', CHAT, body)) as Completion;
    const chunks = await collect(host.stream(CHAT, { ...body, stream: true, stream_options: { include_usage: true } }));
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk).toEqual({ id: chunks[0]!.id, object: 'chat.completion.chunk', created: 1_700_000_000, model: CHAT, choices: [], usage: whole.usage, obfuscation: expect.any(String) });
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('length');
    expect(text(chunks)).toBe(whole.choices[0]!.message.content);
    expect(whole.usage).toEqual({ prompt_tokens: facts(CHAT).parity.greedyPromptIds.length, completion_tokens: 20, total_tokens: facts(CHAT).parity.greedyPromptIds.length + 20 });
  });


  it('meters a stream chunk by chunk: the prompt at the opening chunk, then completion tokens growing to the usage', async () => {
    const body = chatBody('In the beginning God', { temperature: 0, max_tokens: 20, stream: true, stream_options: { include_usage: true } });
    const metered: { chunk: Chunk; usage: { promptTokens: number; completionTokens: number } }[] = [];
    let usage: { promptTokens: number; completionTokens: number } | undefined;
    for await (const c of host.stream(CHAT, body, undefined, (u) => (usage = u))) metered.push({ chunk: c as Chunk, usage: usage! });
    const prompt = facts(CHAT).parity.greedyPromptIds.length;
    expect(metered[0]!.usage).toEqual({ promptTokens: prompt, completionTokens: 0 });
    const counts = metered.map((m) => m.usage.completionTokens);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!);
    // Every chunk that carries text is metered past the opening chunk; the last ones carry the whole usage.
    for (const m of metered.slice(1)) if (m.chunk.choices[0]?.delta.content) expect(m.usage.completionTokens).toBeGreaterThan(0);
    expect(metered.at(-1)!.usage).toEqual({ promptTokens: prompt, completionTokens: 20 });
    expect(metered.at(-1)!.chunk.usage).toEqual({ prompt_tokens: prompt, completion_tokens: 20, total_tokens: prompt + 20 });
  });
  it('chunks are padded to one size by default (include_obfuscation), and exactly OpenAI\'s shape without it', async () => {
    const body = chatBody('In the beginning God', { stream: true, temperature: 0, max_tokens: 20, stream_options: { include_usage: true } });
    const padded = await collect(host.stream(CHAT, body));
    const sizes = padded.map((c) => Buffer.byteLength(JSON.stringify(c)));
    for (const s of sizes) expect(s % CHUNK_PAD_BYTES).toBe(0);
    expect(new Set(sizes.slice(1, -2)).size).toBe(1); // every content chunk alike, whatever its token
    const plain = await collect(host.stream(CHAT, { ...body, stream_options: { include_usage: true, include_obfuscation: false } }));
    expect(plain.some((c) => 'obfuscation' in c)).toBe(false);
    expect(plain.map(({ id: _, ...c }) => c)).toEqual(padded.map(({ id: _, obfuscation: __, ...c }) => c));
    expect(Object.keys(plain[1]!)).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage']);
  });

  it('two concurrent streams both progress: their chunks interleave, neither waits for the other to finish', async () => {
    const arrivals: string[] = [];
    const drain = async (name: string, prompt: string) => {
      for await (const c of host.stream(CHAT, chatBody(prompt, { stream: true, temperature: 0, max_tokens: 20 }))) {
        if ((c as Chunk).choices[0]?.delta.content) arrivals.push(name);
      }
    };
    await Promise.all([drain('a', 'In the beginning God'), drain('b', 'In the beginning God')]);
    expect(arrivals.filter((n) => n === 'a').length).toBeGreaterThan(5);
    expect(arrivals.filter((n) => n === 'b').length).toBeGreaterThan(5);
    // Each one's chunks arrive while the other is still generating.
    expect(arrivals.indexOf('b')).toBeLessThan(arrivals.lastIndexOf('a'));
    expect(arrivals.indexOf('a')).toBeLessThan(arrivals.lastIndexOf('b'));
    const switches = arrivals.filter((n, i) => i > 0 && n !== arrivals[i - 1]).length;
    expect(switches).toBeGreaterThan(5);
  });

  it('cancellation through the signal stops a stream promptly with cancelled: no model step runs after it', async () => {
    const model = (await loadLanguageModel(path.join(MODELS, CHAT), { id: CHAT })) as ChatModel;
    let steps = 0;
    const forward = model.decoder.forward.bind(model.decoder);
    model.decoder.forward = (ids, cache) => { steps++; return forward(ids, cache); };
    const own = createLanguageHost({ models: [model] });
    try {
      const controller = new AbortController();
      const stream = own.stream(CHAT, chatBody('In the beginning', { stream: true, temperature: 1, seed: 5, max_tokens: 400 }), controller.signal)[Symbol.asyncIterator]();
      await stream.next();
      await stream.next();
      controller.abort();
      const stepsAtAbort = steps;
      const err = await refusal((async () => { for (;;) if ((await stream.next()).done) return; })());
      expect(err.code).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 50));
      expect(steps).toBeLessThanOrEqual(stepsAtAbort + 1); // at most the step already under way
      expect(model.scheduler.load()).toEqual({ running: 0, waiting: 0 });
    } finally {
      await own.close();
    }
  });

  it('cancellation through the signal stops a non-streaming completion with cancelled', async () => {
    const controller = new AbortController();
    const pending = host.run('chat.completions', CHAT, chatBody('In the beginning', { temperature: 1, seed: 5, max_tokens: 400 }), controller.signal);
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    expect((await refusal(pending)).code).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a long-lived caller signal keeps no trace of finished requests (no listeners, no dependant signals)', async () => {
    const serverWide = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      await host.run('chat.completions', CHAT, chatBody('And God said', { temperature: 0, max_tokens: 1 }), serverWide);
      await collect(host.stream(CHAT, chatBody('And God said', { stream: true, temperature: 0, max_tokens: 1 }), serverWide));
      await host.run('embeddings', 'embed', { model: 'embed', input: 'x' }, serverWide);
    }
    expect(getEventListeners(serverWide, 'abort')).toHaveLength(0);
    // AbortSignal.any would register each request's combined signal here, and Node 20 never drops them (nodejs/node#55351).
    const dependants = Object.getOwnPropertySymbols(serverWide).find((k) => k.toString() === 'Symbol(kDependantSignals)');
    expect(dependants === undefined ? 0 : (serverWide as unknown as Record<symbol, Set<unknown>>)[dependants]!.size).toBe(0);
  });

  it('stopping a stream early (break) ends its generation and the host keeps serving', async () => {
    for await (const c of host.stream(CHAT, chatBody('In the beginning', { stream: true, max_tokens: 300 }))) {
      if ((c as Chunk).choices[0]?.delta.content) break;
    }
    const r = (await host.run('chat.completions', CHAT, chatBody('In the beginning God', { temperature: 0, max_tokens: 20 }))) as Completion;
    expect(r.choices[0]!.message.content).toBe(facts(CHAT).parity.greedyText);
  });
});

describe('createLanguageHost: refusals name their param', () => {
  const canary = 'CANARY-91c2 thou shalt not log this';

  it('model_not_found (param model) for an unknown model, invalid_input for the wrong kind or a body naming another model', async () => {
    expect(await refusal(host.run('chat.completions', 'gpt-4o', chatBody('hi')))).toMatchObject({ code: 'model_not_found', param: 'model', message: 'The model gpt-4o does not exist.' });
    expect(await refusal(collect(host.stream('nope', chatBody('hi', { stream: true }))))).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(await refusal(host.run('embeddings', CHAT, { model: CHAT, input: 'hi' }))).toMatchObject({ code: 'invalid_input', param: 'model' });
    expect(await refusal(host.run('chat.completions', 'embed', { ...chatBody('hi'), model: 'embed' }))).toMatchObject({ code: 'invalid_input', param: 'model' });
    expect(await refusal(host.run('chat.completions', CHAT, { ...chatBody('hi'), model: MQA }))).toMatchObject({ code: 'invalid_input', param: 'model' });
  });

  it('invalid_input (param stream) when run gets a stream request or stream a non-stream one', async () => {
    expect(await refusal(host.run('chat.completions', CHAT, chatBody('hi', { stream: true })))).toMatchObject({ code: 'invalid_input', param: 'stream' });
    expect(await refusal(collect(host.stream(CHAT, chatBody('hi'))))).toMatchObject({ code: 'invalid_input', param: 'stream' });
    expect(await refusal(host.run('nonsense' as never, CHAT, chatBody('hi')))).toMatchObject({ code: 'invalid_input' });
  });

  it('unsupported_parameter and invalid_input reject a stream before its first chunk', async () => {
    const first = (body: object) => host.stream(CHAT, body)[Symbol.asyncIterator]().next();
    expect(await refusal(first(chatBody('hi', { stream: true, n: 2 })))).toMatchObject({ code: 'unsupported_parameter', param: 'n' });
    expect(await refusal(first(chatBody('hi', { stream: true, tools: [{ type: 'function', function: { name: 'f' } }] })))).toMatchObject({ code: 'unsupported_parameter', param: 'tools' });
    expect(await refusal(first(chatBody('hi', { stream: true, temperature: 'hot' })))).toMatchObject({ code: 'invalid_input', param: 'temperature' });
    expect(await refusal(host.run('chat.completions', CHAT, chatBody('hi', { logprobs: true })))).toMatchObject({ code: 'unsupported_parameter', param: 'logprobs' });
  });

  it('context_length_exceeded (param messages) in OpenAI\'s wording, without any prompt text, also before a stream\'s first chunk', async () => {
    const long = `${canary} `.repeat(200);
    const r = await refusal(host.run('chat.completions', CHAT, chatBody(long)));
    expect(r).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    expect(r.message).toMatch(/^This model's maximum context length is 512 tokens\. However, your messages resulted in \d+ tokens\. Please reduce the length of the messages\.$/);
    const s = await refusal(host.stream(CHAT, chatBody(long, { stream: true }))[Symbol.asyncIterator]().next());
    expect(s).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    const m = await refusal(host.run('chat.completions', CHAT, chatBody(canary, { max_tokens: 510 })));
    expect(m).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    expect(m.message).toMatch(/^This model's maximum context length is 512 tokens\. However, you requested \d+ tokens \(\d+ in the messages, 510 in the completion\)\. Please reduce the length of the messages or completion\.$/);
    for (const message of [r.message, s.message, m.message]) expect(message).not.toMatch(/CANARY|log this/);
  });

  it('embeddings: dimensions other than the model\'s is unsupported, token ids are unsupported, too long is context_length_exceeded', async () => {
    expect(await refusal(host.run('embeddings', 'embed', { model: 'embed', input: 'hi', dimensions: 64 }))).toMatchObject({ code: 'unsupported_parameter', param: 'dimensions' });
    expect(await refusal(host.run('embeddings', 'embed', { model: 'embed', input: [[1, 2, 3]] }))).toMatchObject({ code: 'unsupported_parameter', param: 'input' });
    const r = await refusal(host.run('embeddings', 'embed', { model: 'embed', input: ['short', `${canary} `.repeat(100)] }));
    expect(r).toMatchObject({ code: 'context_length_exceeded', param: 'input' });
    // 600 words: known too long before tokenizing, so the count is a lower bound.
    expect(r.message).toMatch(/^This model's maximum context length is 256 tokens, however you requested at least 600 tokens \(at least 600 in your prompt; 0 for the completion\) in input\[1\]\./);
    expect(r.message).not.toMatch(/CANARY/);
    // 200 words of several pieces each: only tokenizing shows it, and the count is exact.
    const exact = await refusal(host.run('embeddings', 'embed', { model: 'embed', input: ['short', 'zyxwvutsrq '.repeat(200)] }));
    expect(exact.message).toMatch(/^This model's maximum context length is 256 tokens, however you requested \d+ tokens \(\d+ in your prompt; 0 for the completion\) in input\[1\]\. Please reduce your prompt; or completion length\.$/);
  });
});

describe('createLanguageHost: embeddings', () => {
  const texts = ['In the beginning God created the heaven and the earth.', 'And God said, Let there be light.', 'Jesus wept.'];

  it('float and base64 carry the same float32 numbers; usage counts the tokenizer\'s tokens', async () => {
    const float = (await host.run('embeddings', 'embed', { model: 'embed', input: texts })) as { object: string; model: string; data: { object: string; index: number; embedding: number[] }[]; usage: object };
    const b64 = (await host.run('embeddings', 'embed', { model: 'embed', input: texts, encoding_format: 'base64', dimensions: 128 })) as { data: { index: number; embedding: string }[]; usage: object };
    const tokenizer = createModelTokenizer(readModelFolder(path.join(MODELS, EMBED)));
    const tokens = texts.reduce((n, t) => n + tokenizer.encode(t).length, 0);
    expect(float).toMatchObject({ object: 'list', model: 'embed', usage: { prompt_tokens: tokens, total_tokens: tokens } });
    expect(b64.usage).toEqual(float.usage);
    expect(float.data.map((d) => [d.object, d.index])).toEqual([['embedding', 0], ['embedding', 1], ['embedding', 2]]);
    float.data.forEach((d, i) => {
      const bytes = Buffer.from(b64.data[i]!.embedding, 'base64');
      const decoded = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      expect(decoded).toHaveLength(128);
      expect(Array.from(decoded)).toEqual(d.embedding.map((x) => Math.fround(x)));
      expect(Math.abs(Math.hypot(...decoded) - 1)).toBeLessThan(1e-5);
    });
  });

  it('a single string is one vector, equal to its vector in a batch', async () => {
    const one = (await host.run('embeddings', 'embed', { model: 'embed', input: texts[2] })) as { data: { embedding: number[] }[] };
    const many = (await host.run('embeddings', 'embed', { model: 'embed', input: texts })) as { data: { embedding: number[] }[] };
    expect(one.data).toHaveLength(1);
    one.data[0]!.embedding.forEach((x, j) => expect(Math.abs(x - many.data[2]!.embedding[j]!)).toBeLessThan(1e-5));
  });
});

describe('close', () => {
  it('cancels what runs, releases the sessions and refuses later calls', async () => {
    const model = (await loadLanguageModel(path.join(MODELS, MQA), { id: MQA })) as ChatModel;
    const order: string[] = [];
    const release = model.release;
    model.release = () => { order.push('release'); return release(); };
    const own = createLanguageHost({ models: [model] });
    const stream = own.stream(MQA, { model: MQA, messages: [{ role: 'user', content: 'x' }], stream: true, max_tokens: 400, temperature: 1, seed: 3 })[Symbol.asyncIterator]();
    await stream.next();
    const pending = own.run('chat.completions', MQA, { model: MQA, messages: [{ role: 'user', content: 'y' }], max_tokens: 400, temperature: 1, seed: 4 });
    void pending.catch(() => order.push('run settled'));
    await own.close();
    // The running completion ends (cancelled) before its session is released, and the session is released once.
    expect(order).toEqual(['run settled', 'release']);
    expect((await refusal(pending)).code).toBe('cancelled');
    // The event pulled before close is still delivered; the next pull finds the host closed.
    expect((await refusal((async () => { for (;;) if ((await stream.next()).done) return; })())).code).toBe('cancelled');
    expect((await refusal(own.run('chat.completions', MQA, { model: MQA, messages: [{ role: 'user', content: 'z' }] }))).code).toBe('cancelled');
    await own.close(); // idempotent
    expect(order).toEqual(['run settled', 'release']);
  });
});
