/**
 * Issue #10 end to end: the official `openai` npm client → `veil proxy` → the gateway's HTTP API → the in-process
 * TEE node → the bundled toy language models, all real. The answers are compared with the same language host run
 * directly in this process (what the enclave computes), and the gateway's logs, data directory and every byte it
 * relays are searched for a canary prompt and its completion.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startVeilProxy, type VeilProxy } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { loadLanguageHost, type LanguageHost } from '../llm';
import { BUNDLED_LANGUAGE_MODELS } from '../models';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { recordSpans } from './support/record-spans';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const CHAT = 'toy-chat-kjv' as const;
const EMBED = 'toy-embed-kjv' as const;
const CANARY = 'Zerubbabel-canary-7f3a9c';

/** A TCP relay between the proxy and the gateway that keeps every byte in both directions. */
async function startRecordingRelay(target: URL): Promise<{ url: string; bytes(): Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => chunks.push(Buffer.from(d)));
    upstream.on('data', (d) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytes: () => Buffer.concat(chunks),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

describe('openai SDK → veil proxy → gateway → TEE node (toy models)', () => {
  let gateway: Gateway;
  let proxy: VeilProxy;
  let relay: Awaited<ReturnType<typeof startRecordingRelay>>;
  let openai: OpenAI;
  let direct: LanguageHost;
  let dataDir: string;
  const lines: string[] = [];
  const { spans } = recordSpans();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-openai-'));
    gateway = await createGateway(loadConfig({
      env: {},
      overrides: {
        dataDir, grpc: { port: 0 }, http: { port: 0 }, log: { level: 'debug' },
        fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
        tee: { models: ['breast-cancer-lr'], languageModels: [CHAT, EMBED] },
        chain: { enabled: false },
      },
    }), { logger: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) });
    relay = await startRecordingRelay(new URL(gateway.httpUrl!));
    proxy = await startVeilProxy({
      gateway: relay.url, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0, models: [CHAT],
    });
    openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused-by-veil', maxRetries: 0 });
    direct = await loadLanguageHost({ folders: [CHAT, EMBED].map((id) => ({ id, dir: BUNDLED_LANGUAGE_MODELS[id].dir })) });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await relay?.close();
    await gateway?.close();
    await direct?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const messages = [{ role: 'user' as const, content: 'And God said' }];

  test('the model list shows each model with its modes, kind and context length', async () => {
    const list = await openai.models.list();
    const chat = list.data.find((m) => m.id === CHAT) as unknown as Record<string, unknown>;
    expect(chat).toMatchObject({ object: 'model', modes: ['tee'], kind: 'chat', context_length: 512 });
    expect(list.data.find((m) => m.id === EMBED)).toMatchObject({ kind: 'embedding' });
  });

  test('a chat completion equals what the enclave computes (greedy), with usage and finish_reason', async () => {
    const completion = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 24 });
    const expected = await direct.run('chat.completions', CHAT, { model: CHAT, messages, temperature: 0, max_tokens: 24 }) as OpenAI.ChatCompletion;
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe(expected.choices[0]!.message.content);
    expect(completion.choices[0]!.finish_reason).toBe(expected.choices[0]!.finish_reason);
    expect(completion.usage).toEqual(expected.usage);
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });

  test('a streamed completion (include_usage) concatenates to the same text and ends with usage', async () => {
    const stream = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 24, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    const single = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 24 });
    expect(text).toBe(single.choices[0]!.message.content);
    expect(finish).toBe(single.choices[0]!.finish_reason);
    expect(usage).toEqual(single.usage);
    expect(chunks).toBeGreaterThan(3);
  });

  test('seeded sampling repeats; stop sequences end the text', async () => {
    const ask = () => openai.chat.completions.create({ model: CHAT, messages, temperature: 0.9, top_p: 0.95, seed: 42, max_tokens: 16 });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
    const full = (await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 24 })).choices[0]!.message.content!;
    const word = full.trim().split(/\s+/)[1];
    if (word) {
      const stopped = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 24, stop: [word] });
      expect(stopped.choices[0]!.message.content).not.toContain(word);
      expect(stopped.choices[0]!.finish_reason).toBe('stop');
    }
  });

  test('embeddings: float and base64 agree with each other and with the enclave', async () => {
    const input = ['In the beginning', 'was the Word'];
    const floats = await openai.embeddings.create({ model: EMBED, input, encoding_format: 'float' });
    const expected = await direct.run('embeddings', EMBED, { model: EMBED, input }) as OpenAI.CreateEmbeddingResponse;
    expect(floats.data).toHaveLength(2);
    expect(floats.usage).toEqual(expected.usage);
    floats.data.forEach((d, i) => expect(d.embedding).toEqual(expected.data[i]!.embedding));
    // The SDK asks for base64 by default and decodes it itself.
    const viaBase64 = await openai.embeddings.create({ model: EMBED, input });
    viaBase64.data.forEach((d, i) => d.embedding.forEach((v, j) => expect(v).toBeCloseTo(floats.data[i]!.embedding[j]!, 6)));
    const raw = await openai.embeddings.create({ model: EMBED, input: 'x', encoding_format: 'base64' });
    expect(typeof raw.data[0]!.embedding).toBe('string');
  });

  test('errors arrive as the SDK expects: unknown model 404, bad parameter 400 naming it, context too long 400', async () => {
    await expect(openai.chat.completions.create({ model: 'no-such-model', messages })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(openai.chat.completions.create({ model: CHAT, messages, n: 2 })).rejects.toMatchObject({ status: 400, param: 'n' });
    await expect(openai.chat.completions.create({ model: CHAT, messages, temperature: 7 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    const long = 'and it was so '.repeat(400);
    const err = await openai.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: long }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect((err as Error).message).not.toContain('and it was so');
  });

  test('a retry with the same Idempotency-Key returns the stored answer (generation ran once); another key runs again', async () => {
    const body = { model: CHAT, messages, temperature: 0.9, max_tokens: 12 };
    const first = await openai.chat.completions.create(body, { headers: { 'Idempotency-Key': 'retry-1' } });
    const again = await openai.chat.completions.create(body, { headers: { 'Idempotency-Key': 'retry-1' } });
    // Each generation draws a fresh random id; the same id means the answer was not generated twice.
    expect(again.id).toBe(first.id);
    expect(again.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    const other = await openai.chat.completions.create(body, { headers: { 'Idempotency-Key': 'retry-2' } });
    expect(other.id).not.toBe(first.id);
    await expect(openai.chat.completions.create({ ...body, max_tokens: 13 }, { headers: { 'Idempotency-Key': 'retry-1' } })).rejects.toMatchObject({ status: 409 });
  });

  test('GET /v1/attestation on the proxy says what it verified', async () => {
    const answer = await (await fetch(`${proxy.url}/v1/attestation`)).json() as { data?: unknown[] } | unknown[];
    const list = Array.isArray(answer) ? answer : (answer as { data: unknown[] }).data;
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ model: CHAT, node_id: 'local', platform: 'simulated', simulated: true, simulated_key: 'pinned' })]));
  });

  test('canary: the prompt and the completion never reach the gateway\'s logs, spans, data directory or relayed bytes', async () => {
    const before = relay.bytes().length;
    const canaryMessages = [{ role: 'user' as const, content: `${CANARY} said unto them` }];
    const completion = await openai.chat.completions.create({ model: CHAT, messages: canaryMessages, temperature: 0, max_tokens: 24 });
    const stream = await openai.chat.completions.create({ model: CHAT, messages: canaryMessages, temperature: 0, max_tokens: 24, stream: true });
    for await (const _ of stream) { /* drain */ }
    await openai.embeddings.create({ model: EMBED, input: CANARY });
    const text = completion.choices[0]!.message.content!;
    expect(text.length).toBeGreaterThan(8);
    const relayed = relay.bytes().subarray(before);
    expect(relayed.length).toBeGreaterThan(1000);
    const probes = [CANARY, 'Zerubbabel', text];
    for (const probe of probes) {
      expect(relayed.includes(Buffer.from(probe))).toBe(false);
      expect(relayed.includes(Buffer.from(Buffer.from(probe).toString('base64')))).toBe(false);
      expect(lines.join('\n')).not.toContain(probe);
      expect(JSON.stringify(spans)).not.toContain(probe);
      for (const file of filesUnder(dataDir)) expect(fs.readFileSync(file).includes(Buffer.from(probe))).toBe(false);
    }
    // The relay did carry this traffic, sealed: the routing header names the model.
    expect(relayed.toString('latin1')).toContain(`x-veil-model: ${CHAT}`);
  });
});
