import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLanguageModel, type ChatModel, type EmbeddingModel } from './load-language-model';
import type { ChatEvent, ChatRequest } from './generate-chat';
import { LlmError } from './llm-error';
import { createStepScheduler } from './create-step-scheduler';
import { createModelTokenizer } from './create-model-tokenizer';
import { openEncoder } from './open-encoder';
import { readModelFolder } from './read-model-folder';

const MODELS = path.resolve(__dirname, '..', 'models', 'llm');
const facts = (name: string) => JSON.parse(fs.readFileSync(path.join(MODELS, name, 'build-facts.json'), 'utf8'));

async function collect(stream: AsyncGenerator<ChatEvent>) {
  let text = '';
  for await (const e of stream) {
    if (e.type === 'delta') text += e.text;
    else return { text, ...e };
  }
  throw new Error('stream ended without a done event');
}

const greedy = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content }], temperature: 0, topP: 1, stop: [], ...extra,
});

// Both decoders: the default (4 layers, GQA 4/2, tied, ChatML) and a differently shaped one (3 layers, MQA 8/1 of
// head size 12, untied, Zephyr template), so the loader is not tuned to one model.
describe.each(['toy-chat-kjv', 'toy-chat-mqa-kjv'])('chat model %s', (name) => {
  let model: ChatModel;
  beforeAll(async () => {
    const loaded = await loadLanguageModel(path.join(MODELS, name), { id: name });
    if (loaded.kind !== 'chat') throw new Error('expected a chat model');
    model = loaded;
  });
  afterAll(() => model?.release());

  it('greedy output equals the Python onnxruntime loop of the build script, token for token', async () => {
    const f = facts(name);
    const r = await collect(model.chat(greedy('In the beginning God', { maxTokens: 20 })));
    expect(r.usage.promptTokens).toBe(f.parity.greedyPromptIds.length);
    expect(r.text).toBe(f.parity.greedyText);
    expect(r.usage.completionTokens).toBe(f.parity.greedyIds.length);
    expect(r.finishReason).toBe(f.parity.greedyIds.length < 20 ? 'stop' : 'length');
  });

  it('a seed makes sampling repeatable', async () => {
    const req = greedy('And God said', { temperature: 1, topP: 0.95, seed: 1234, maxTokens: 16 });
    const a = await collect(model.chat(req));
    const b = await collect(model.chat(req));
    expect(a.text).toBe(b.text);
    const others = await Promise.all([1, 2, 3].map((seed) => collect(model.chat({ ...req, seed }))));
    expect(others.some((o) => o.text !== a.text)).toBe(true);
  });

  it('max_tokens ends with finish_reason length and exactly that many tokens', async () => {
    const r = await collect(model.chat(greedy('In the beginning', { maxTokens: 5, temperature: 1, topP: 1, seed: 9 })));
    if (r.finishReason === 'length') expect(r.usage.completionTokens).toBe(5);
    else expect(r.usage.completionTokens).toBeLessThan(5);
  });

  it('a stop sequence ends the completion before it (finish_reason stop), never emitting it', async () => {
    const full = await collect(model.chat(greedy('In the beginning God', { maxTokens: 20 })));
    const words = full.text.trim().split(/\s+/);
    if (words.length < 3) return; // the toy stopped early; nothing to cut
    const stop = words[2]!;
    const cut = await collect(model.chat(greedy('In the beginning God', { maxTokens: 20, stop: [stop] })));
    expect(cut.finishReason).toBe('stop');
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(cut.text.includes(stop)).toBe(false);
  });

  it('error: context_length_exceeded for a prompt longer than the context, before any step runs', async () => {
    const long = 'and the LORD spake unto Moses '.repeat(400);
    await expect(collect(model.chat(greedy(long)))).rejects.toMatchObject({ code: 'context_length_exceeded' });
    await expect(collect(model.chat(greedy('hi', { maxTokens: model.contextLength })))).rejects.toMatchObject({ code: 'context_length_exceeded' });
  });

  it('error: a prompt far too long is refused without tokenizing it (that would stall the node for seconds)', async () => {
    const encode = model.tokenizer.encode;
    let calls = 0;
    model.tokenizer.encode = (...args) => { calls++; return encode(...args); };
    try {
      const huge = 'and the LORD spake unto Moses '.repeat(35_000); // about a megabyte
      await expect(collect(model.chat(greedy(huge)))).rejects.toMatchObject({ code: 'context_length_exceeded', message: expect.stringMatching(/resulted in at least \d+ tokens/) });
      expect(calls).toBe(0);
    } finally {
      model.tokenizer.encode = encode;
    }
  });

  it('error: names a bad parameter', async () => {
    await expect(collect(model.chat(greedy('hi', { temperature: 5 })))).rejects.toThrow(/temperature/);
    await expect(collect(model.chat({ ...greedy('hi'), messages: [{ role: 'tool' as never, content: 'x' }] }))).rejects.toThrow(/messages\[0\]\.role/);
    await expect(collect(model.chat(greedy('hi', { maxTokens: 0 })))).rejects.toThrow(/max_tokens/);
  });

  it('cancellation stops generation with cancelled', async () => {
    const controller = new AbortController();
    const stream = model.chat(greedy('In the beginning', { maxTokens: 200, temperature: 1, topP: 1, seed: 5 }), controller.signal);
    await stream.next();
    controller.abort();
    await expect(collect(stream)).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('concurrent generations on one node', () => {
  it('a short request is not starved by a long one that started first', async () => {
    const model = (await loadLanguageModel(path.join(MODELS, 'toy-chat-kjv'), { id: 'x' })) as ChatModel;
    try {
      const finished: string[] = [];
      const long = collect(model.chat(greedy('In the beginning', { maxTokens: 120, temperature: 1, topP: 1, seed: 1 }))).then(() => finished.push('long'));
      await new Promise((r) => setTimeout(r, 20));
      const short = collect(model.chat(greedy('And God said', { maxTokens: 3, temperature: 1, topP: 1, seed: 2 }))).then(() => finished.push('short'));
      await Promise.all([long, short]);
      expect(finished).toEqual(['short', 'long']);
    } finally {
      await model.release();
    }
  });
});

describe('models sharing one scheduler', () => {
  it('embedding batches take turns with generation steps, so a long embeddings request does not hold the node', async () => {
    const scheduler = createStepScheduler(1);
    const chat = (await loadLanguageModel(path.join(MODELS, 'toy-chat-kjv'), { id: 'c', scheduler })) as ChatModel;
    const embed = (await loadLanguageModel(path.join(MODELS, 'toy-embed-kjv'), { id: 'e', scheduler })) as EmbeddingModel;
    try {
      expect(embed.scheduler).toBe(scheduler);
      let queuedBehindChat = 0;
      const forward = chat.decoder.forward.bind(chat.decoder);
      chat.decoder.forward = async (ids, cache) => {
        const out = await forward(ids, cache);
        queuedBehindChat = Math.max(queuedBehindChat, scheduler.load().waiting);
        return out;
      };
      const finished: string[] = [];
      const embedding = embed.embed(Array(640).fill('In the beginning God created the heaven and the earth.')).then(() => finished.push('embed'));
      await new Promise((r) => setTimeout(r, 10));
      const generation = collect(chat.chat(greedy('And God said', { maxTokens: 5 }))).then(() => finished.push('chat'));
      await Promise.all([embedding, generation]);
      expect(queuedBehindChat).toBeGreaterThan(0); // an embedding batch waited its turn while a chat step ran
      expect(finished).toEqual(['chat', 'embed']);
    } finally {
      await chat.release();
      await embed.release();
    }
  });
});

describe('embedding model toy-embed-kjv', () => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = (await loadLanguageModel(path.join(MODELS, 'toy-embed-kjv'), { id: 'toy-embed-kjv' })) as EmbeddingModel;
  });
  afterAll(() => model?.release());

  it('matches sentence-transformers pooling (torch, at build time) on the probe sentences', async () => {
    const f = facts('toy-embed-kjv');
    const texts = f.probes.map((p: { text: string }) => p.text);
    const { vectors, promptTokens } = await model.embed(texts);
    expect(model.kind).toBe('embedding');
    expect(vectors).toHaveLength(texts.length);
    expect(promptTokens).toBeGreaterThan(texts.length * 3);
    vectors.forEach((v, i) => {
      expect(v).toHaveLength(model.dimensions);
      f.probes[i].embeddingHead.forEach((x: number, j: number) => expect(Math.abs(v[j]! - x)).toBeLessThan(1e-4));
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-5);
    });
    // The batch is padded to its longest member; padding must not leak into the pooled vectors.
    const alone = await model.embed([texts[2]]);
    alone.vectors[0]!.forEach((x, j) => expect(Math.abs(x - vectors[2]![j]!)).toBeLessThan(1e-5));
  });

  it('tokenizes batch by batch, inside each batch\'s turn, so 2,048 inputs never hold the event loop for all their tokenization', async () => {
    const folder = readModelFolder(path.join(MODELS, 'toy-embed-kjv'));
    const tokenizer = createModelTokenizer(folder);
    const log: string[] = [];
    const counting = { ...tokenizer, encode: (text: string, o?: { addSpecialTokens?: boolean }) => { log.push('encode'); return tokenizer.encode(text, o); } };
    const inner = createStepScheduler(1);
    const scheduler = { ...inner, run: <T>(step: () => Promise<T>, signal?: AbortSignal) => inner.run(() => { log.push('step'); return step(); }, signal) };
    const encoder = await openEncoder(folder, counting, { scheduler });
    try {
      const { vectors } = await encoder.embed(Array.from({ length: 2048 }, (_, i) => `${i} And it came to pass in those days.`));
      expect(vectors).toHaveLength(2048);
      expect(log.filter((e) => e === 'step')).toHaveLength(128);
      // Each turn tokenizes its own 16 inputs, never more.
      const runs = log.join(' ').split('step').slice(1).map((r) => r.trim().split(' ').length);
      expect(runs.every((n) => n === 16)).toBe(true);
    } finally {
      await encoder.release();
    }
  });

  it('error: context_length_exceeded and empty inputs are named', async () => {
    await expect(model.embed(['word '.repeat(2000)])).rejects.toMatchObject({ code: 'context_length_exceeded' });
    await expect(model.embed([''])).rejects.toThrow(/input\[0\]/);
    await expect(model.embed([])).rejects.toThrow(LlmError);
  });
});

describe('model folders that are wrong', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'veil-llm-'));
  const copy = (from: string) => {
    const dir = tmp();
    fs.cpSync(path.join(MODELS, from), dir, { recursive: true });
    return dir;
  };

  it('error: a missing file is named', async () => {
    const dir = copy('toy-chat-mqa-kjv');
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    await expect(loadLanguageModel(dir, { id: 'x' })).rejects.toThrow(/has no tokenizer\.json/);
  });
  it('error: a config whose layer count disagrees with the graph names the missing inputs', async () => {
    const dir = copy('toy-chat-mqa-kjv');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: cfg.num_hidden_layers + 1 }));
    await expect(loadLanguageModel(dir, { id: 'x' })).rejects.toThrow(/missing input past_key_values\.3\.key/);
  });
  it('error: invalid JSON and a bad field are named with their file', async () => {
    const dir = copy('toy-chat-mqa-kjv');
    fs.writeFileSync(path.join(dir, 'generation_config.json'), '{nope');
    await expect(loadLanguageModel(dir, { id: 'x' })).rejects.toThrow(/generation_config\.json is not valid JSON/);
    const dir2 = copy('toy-chat-mqa-kjv');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir2, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir2, 'config.json'), JSON.stringify({ ...cfg, vocab_size: 'many' }));
    await expect(loadLanguageModel(dir2, { id: 'x' })).rejects.toThrow(/config\.json: vocab_size must be a positive integer/);
  });
  it('a chat template in chat_template.jinja (transformers 5 layout) is read', async () => {
    const dir = copy('toy-chat-mqa-kjv');
    const tc = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), tc.chat_template);
    delete tc.chat_template;
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tc));
    const model = (await loadLanguageModel(dir, { id: 'x' })) as ChatModel;
    try {
      const r = await collect(model.chat(greedy('In the beginning God', { maxTokens: 20 })));
      expect(r.text).toBe(facts('toy-chat-mqa-kjv').parity.greedyText);
    } finally {
      await model.release();
    }
  });
});
