// Measures what the language host adds over the bare generation loop on one model, in one process:
// tokens/s and time to first content token of host.stream (OpenAI chunks), in process and on a worker thread
// (startLanguageHostWorker), vs model.chat (generateChat).
// Not a benchmark of the product (bench/chat.ts measures the full proxy → gateway → node path); a check that the
// host's parsing and chunk building cost nothing next to a model step. Rounds run both in random order so machine noise hits both alike.
//   node bin/run-ts.cjs llm/measure-host-overhead.ts [rounds=30] [max_tokens=200]
// (greedy on this toy ends at its eos after 31 tokens; many short rounds, medians reported)
import path from 'node:path';
import { createLanguageHost } from './create-language-host';
import { loadLanguageModel, type ChatModel } from './load-language-model';
import { startLanguageHostWorker } from './start-language-host-worker';

const ROUNDS = Number(process.argv[2] ?? 30);
const TOKENS = Number(process.argv[3] ?? 200);
const DIR = path.resolve(__dirname, '..', 'models', 'llm', 'toy-chat-kjv');
const PROMPT = 'In the beginning God';

type Sample = { tokensPerSecond: number; firstTokenMs: number; tokens: number };

async function main() {
  const model = (await loadLanguageModel(DIR, { id: 'toy-chat-kjv' })) as ChatModel;
  const host = createLanguageHost({ models: [model] });
  const worker = await startLanguageHostWorker({ folders: [{ dir: DIR }] });

  async function bare(): Promise<Sample> {
    const start = performance.now();
    let first = 0;
    let tokens = 0;
    for await (const e of model.chat({ messages: [{ role: 'user', content: PROMPT }], temperature: 0, topP: 1, stop: [], maxTokens: TOKENS })) {
      if (e.type === 'delta' && first === 0) first = performance.now();
      if (e.type === 'done') tokens = e.usage.completionTokens;
    }
    const ms = performance.now() - start;
    return { tokensPerSecond: (tokens / ms) * 1000, firstTokenMs: first - start, tokens };
  }

  async function hosted(on = host): Promise<Sample> {
    const start = performance.now();
    let first = 0;
    let tokens = 0;
    const body = { model: 'toy-chat-kjv', messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: TOKENS, stream: true, stream_options: { include_usage: true } };
    for await (const chunk of on.stream('toy-chat-kjv', body)) {
      const c = chunk as { choices: { delta: { content?: string } }[]; usage?: { completion_tokens: number } | null };
      if (c.choices[0]?.delta.content && first === 0) first = performance.now();
      if (c.usage) tokens = c.usage.completion_tokens;
      JSON.stringify(chunk); // what the node does with every chunk before sealing it
    }
    const ms = performance.now() - start;
    return { tokensPerSecond: (tokens / ms) * 1000, firstTokenMs: first - start, tokens };
  }

  await bare(); // warm-up: ORT's first runs allocate
  await hosted();
  await hosted(worker);
  const samples = { bare: [] as Sample[], host: [] as Sample[], worker: [] as Sample[] };
  const runners: [keyof typeof samples, () => Promise<Sample>][] = [['bare', bare], ['host', () => hosted()], ['worker', () => hosted(worker)]];
  for (let i = 0; i < ROUNDS; i++) {
    // A random order per round: a fixed order measured the second runner of a pair a little differently.
    for (const [name, run] of [...runners].sort(() => Math.random() - 0.5)) samples[name].push(await run());
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = (s: Sample[]) => ({ tokensPerSecond: +median(s.map((x) => x.tokensPerSecond)).toFixed(1), firstTokenMs: +median(s.map((x) => x.firstTokenMs)).toFixed(2), tokens: s[0]!.tokens });
  const bareSummary = summary(samples.bare);
  const hostSummary = summary(samples.host);
  const workerSummary = summary(samples.worker);
  console.log(JSON.stringify({
    model: 'toy-chat-kjv', rounds: ROUNDS, maxTokens: TOKENS, bare: bareSummary, host: hostSummary, worker: workerSummary,
    throughputRatio: +(hostSummary.tokensPerSecond / bareSummary.tokensPerSecond).toFixed(3),
    addedFirstTokenMs: +(hostSummary.firstTokenMs - bareSummary.firstTokenMs).toFixed(2),
    workerThroughputRatio: +(workerSummary.tokensPerSecond / bareSummary.tokensPerSecond).toFixed(3),
    workerAddedFirstTokenMs: +(workerSummary.firstTokenMs - bareSummary.firstTokenMs).toFixed(2),
  }, null, 2));
  await host.close();
  await worker.close();

  // The host's own cost per token, free of model-step noise: the same loop over a model whose steps take no time.
  const FAKE_TOKENS = 20_000;
  const instant: ChatModel = {
    ...model, id: 'instant',
    async *chat() {
      for (let i = 0; i < FAKE_TOKENS; i++) yield { type: 'delta', text: ' the' };
      yield { type: 'done', finishReason: 'length', usage: { promptTokens: 1, completionTokens: FAKE_TOKENS } };
    },
    release: async () => {},
  };
  const instantHost = createLanguageHost({ models: [instant] });
  const perToken = async (run: () => Promise<void>) => {
    const start = performance.now();
    await run();
    return ((performance.now() - start) * 1000) / FAKE_TOKENS;
  };
  const bareLoop = () => perToken(async () => { for await (const e of instant.chat({ messages: [], temperature: 0, topP: 1, stop: [] })) void e; });
  const hostLoop = () => perToken(async () => {
    for await (const chunk of instantHost.stream('instant', { model: 'instant', messages: [{ role: 'user', content: 'x' }], stream: true })) JSON.stringify(chunk);
  });
  await bareLoop();
  await hostLoop();
  const bareMicros = median([await bareLoop(), await bareLoop(), await bareLoop()]);
  const hostMicros = median([await hostLoop(), await hostLoop(), await hostLoop()]);
  const FIRSTS = 5000;
  const firstStart = performance.now();
  for (let i = 0; i < FIRSTS; i++) {
    for await (const chunk of instantHost.stream('instant', { model: 'instant', messages: [{ role: 'user', content: PROMPT }], stream: true })) {
      if ((chunk as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content) break;
    }
  }
  const firstChunkMicros = ((performance.now() - firstStart) * 1000) / FIRSTS;
  console.log(JSON.stringify({ hostFirstContentChunkMicros: +firstChunkMicros.toFixed(1), perTokenMicros: { bareLoop: +bareMicros.toFixed(2), hostWithJson: +hostMicros.toFixed(2), added: +(hostMicros - bareMicros).toFixed(2) } }));
  await instantHost.close();
}

void main();
