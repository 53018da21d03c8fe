/**
 * Paid vs unpaid TEE chat (issue #11): does money flow at the speed of tokens? Three gateways in this process, each
 * with the in-process TEE node and the toy chat model: payments off; on with a credit window of 64 completion tokens
 * (the default); on with a window of 8 (a stream of 64 tokens then pauses ~8 times for a top-up). Each gets a
 * `veil proxy` (in process; the paid ones pay from dev account 1 with a ChannelPayer) and the official `openai` client.
 * Every round runs the arms in a random order: streamed completions (TTFT, whole-request tokens/s) and single
 * completions (latency). Writes bench/results/paid-chat.{json,md,svg,png}.
 *
 *   node bin/run-ts.cjs bench/paid-chat.ts [streams per round = 6] [rounds = 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { connectChain, DEV_ACCOUNTS } from '../chain';
import { createChannelPayer, createSessionKey, startVeilProxy, type ChannelPayer, type VeilProxy } from '../client';
import { createGateway, createLogger, loadConfig, type Gateway } from '../gateway';
import { svgBars, writeChart } from './svg-bars';
import { readChunk, timeStream } from './time-stream';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';
import { shuffled } from './shuffled';

const STREAMS = Number(process.argv[2] ?? 6);
const ROUNDS = Number(process.argv[3] ?? 5);
const CHAT = 'toy-chat-kjv';
const MAX_TOKENS = 64;
const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const MESSAGES = [{ role: 'user' as const, content: 'In the beginning God created' }];

type Arm = { name: string; gateway: Gateway; proxy: VeilProxy; openai: OpenAI; payer?: ChannelPayer; dir: string; windows: number };
type Samples = { ttft: number[]; tokensPerSecond: number[]; unaryMs: number[]; tokens: number };

async function startArm(name: string, window: number | undefined): Promise<Arm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-bench-paid-chat-'));
  const gateway = await createGateway(loadConfig({
    env: {},
    overrides: {
      dataDir: dir, grpc: { port: 0 }, http: { port: 0 }, fhe: { models: [], workers: 1 }, tee: { models: [], languageModels: [CHAT] },
      chain: { enabled: window !== undefined }, payments: window === undefined ? { enabled: false } : { enabled: true, streamWindowTokens: window },
    },
  }), { logger: createLogger({ level: 'silent', format: 'json' }) });
  let payer: ChannelPayer | undefined;
  if (window !== undefined) {
    const pricing = (await (await fetch(`${gateway.httpUrl}/v1/pricing`)).json()) as { contract: `0x${string}`; token: `0x${string}`; receiver: `0x${string}` };
    const registry = gateway.trust!.info();
    const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
    payer = createChannelPayer({
      publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
      contractAddress: pricing.contract, token: pricing.token, receiver: pricing.receiver, withdrawDelay: 86_400, deposit: 100_000_000n,
    });
  }
  const proxy = await startVeilProxy({
    gateway: gateway.httpUrl, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0,
    models: [CHAT], ...(payer ? { payer } : {}),
  });
  return { name, gateway, proxy, payer, dir, windows: 0, openai: new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 }) };
}

async function streamOnce(arm: Arm): Promise<{ ttft: number; tokensPerSecond: number; tokens: number }> {
  const t0 = performance.now();
  const stream = await arm.openai.chat.completions.create({ model: CHAT, messages: MESSAGES, temperature: 0, max_tokens: MAX_TOKENS, stream: true, stream_options: { include_usage: true } });
  const s = await timeStream(t0, stream, readChunk);
  return { ttft: s.ttftMs, tokensPerSecond: (s.tokens / s.ms) * 1000, tokens: s.tokens };
}

async function unaryOnce(arm: Arm): Promise<number> {
  const t0 = performance.now();
  await arm.openai.chat.completions.create({ model: CHAT, messages: MESSAGES, temperature: 0, max_tokens: 16 });
  return performance.now() - t0;
}

async function main() {
  const arms = [await startArm('unpaid', undefined), await startArm('paid · window 64', 64), await startArm('paid · window 8', 8)];
  const samples = new Map<string, Samples>(arms.map((a) => [a.name, { ttft: [], tokensPerSecond: [], unaryMs: [], tokens: 0 }]));
  try {
    for (const arm of arms) for (let i = 0; i < 2; i++) await streamOnce(arm); // warm: attestation, channel opening, JIT
    for (let r = 0; r < ROUNDS; r++) {
      for (const arm of shuffled(arms)) {
        const s = samples.get(arm.name)!;
        for (let i = 0; i < STREAMS; i++) {
          const one = await streamOnce(arm);
          s.ttft.push(one.ttft);
          s.tokensPerSecond.push(one.tokensPerSecond);
          s.tokens = one.tokens;
          s.unaryMs.push(await unaryOnce(arm));
        }
      }
    }
    const base = samples.get('unpaid')!;
    const rows = arms.map((arm) => {
      const s = samples.get(arm.name)!;
      return {
        arm: arm.name,
        'TTFT p50 ms': round(percentile(s.ttft, 0.5), 2),
        'stream tokens/s p50': round(percentile(s.tokensPerSecond, 0.5), 1),
        'single completion p50 ms (16 tokens)': round(percentile(s.unaryMs, 0.5), 2),
        'added TTFT p50 ms': round(percentile(s.ttft, 0.5) - percentile(base.ttft, 0.5), 2),
        'tokens/s ÷ unpaid': round(percentile(s.tokensPerSecond, 0.5) / percentile(base.tokensPerSecond, 0.5), 3),
        'completion tokens': s.tokens,
      };
    });
    const charged = await Promise.all(arms.filter((a) => a.payer).map(async (a) => ({ arm: a.name, charged: ((await a.gateway.payments!.ledger.channel(a.payer!.channelId))?.charged ?? 0n).toString(), confirmedByPayer: a.payer!.status().confirmed.toString() })));
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
    const md = [
      '# Paid vs unpaid TEE chat: the credit window at token speed',
      '',
      `Machine: ${machineInfo().cpu}, ${machineInfo().cores} cores (shared with other jobs), Node ${process.version}, ${new Date().toISOString()}. Load average ${load}.`,
      '',
      `openai client → veil proxy → gateway HTTP → in-process TEE node → ${CHAT}, all in one process per arm on loopback; the paid gateways each run their embedded anvil and SQLite ledger (synchronous=full). ${ROUNDS} rounds × ${STREAMS} streamed completions (max_tokens ${MAX_TOKENS}, greedy) and ${STREAMS} single ones per arm, arms in random order each round. A paid stream on a window of 8 commits its charge and asks for, signs, posts and admits a top-up voucher every 8 tokens.`,
      '',
      markdownTable(rows),
      '',
      'Every charge the gateways committed equals what the payers confirmed from their receipts:',
      '',
      markdownTable(charged),
    ].join('\n');
    writeBenchReport('paid-chat', { machine: machineInfo(), load, rounds: ROUNDS, streams: STREAMS, maxTokens: MAX_TOKENS, rows, charged }, md);
    const colours = ['#6b93bb', '#c0504d', '#e08a3c'];
    const max = (k: string) => Math.max(...rows.map((r) => Number((r as Record<string, unknown>)[k])));
    writeChart('paid-chat', [
      `<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="230" font-family="sans-serif">`,
      `<rect width="100%" height="100%" fill="white"/>`,
      ...svgBars(10, 'stream tokens/s (p50)', rows.map((r, i) => ({ label: r.arm.replace('paid · ', ''), value: r['stream tokens/s p50'], colour: colours[i]! })), 'tok/s', (v) => v / max('stream tokens/s p50')),
      ...svgBars(420, 'time to first token (p50)', rows.map((r, i) => ({ label: r.arm.replace('paid · ', ''), value: r['TTFT p50 ms'], colour: colours[i]! })), 'ms', (v) => v / max('TTFT p50 ms')),
      ...svgBars(830, 'single completion (p50)', rows.map((r, i) => ({ label: r.arm.replace('paid · ', ''), value: r['single completion p50 ms (16 tokens)'], colour: colours[i]! })), 'ms', (v) => v / max('single completion p50 ms (16 tokens)')),
      '</svg>',
    ].join('\n'));
  } finally {
    for (const arm of arms) {
      await arm.proxy.close();
      await arm.gateway.close();
      fs.rmSync(arm.dir, { recursive: true, force: true });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
