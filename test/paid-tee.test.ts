/**
 * Issue #11 for TEE mode, end to end and all real: the official `openai` client → `veil proxy` paying from dev account 1
 * → the gateway's HTTP API with payments on (embedded anvil, SQLite ledger) → the in-process TEE node → the toy
 * language models. Every charge is what the node signed it used (PROTOCOL §12) at the price table's rates; streams run
 * on a credit window of 8 completion tokens, so they pause for top-ups several times and still arrive whole; the
 * proxy's budget (`maxSpend`) turns into an OpenAI 402 for the app; an abandoned stream is charged only what reached
 * the client.
 */
import OpenAI from 'openai';
import { connectChain, DEV_ACCOUNTS } from '../chain';
import { createChannelPayer, createSessionKey, startVeilProxy, type ChannelPayer, type SettledCall, type VeilProxy } from '../client';
import type { Gateway } from '../gateway';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { DEFAULT_PRICE_TABLE } from '../payments';
import { startPaidGateway, type PaidPricing } from './support/paid-channel';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const CHAT = 'toy-chat-kjv';
const EMBED = 'toy-embed-kjv';
const WINDOW = 8;
const chatPrice = DEFAULT_PRICE_TABLE.models[CHAT]!;
const embedPrice = DEFAULT_PRICE_TABLE.models[EMBED]!;
const chatCost = (u: { prompt_tokens: number; completion_tokens: number }) => chatPrice.perCall! + chatPrice.perInputToken! * BigInt(u.prompt_tokens) + chatPrice.perOutputToken! * BigInt(u.completion_tokens);

let paid: Awaited<ReturnType<typeof startPaidGateway>>;
let gateway: Gateway;
let pricing: PaidPricing;

beforeAll(async () => {
  paid = await startPaidGateway({ tee: { enabled: true, models: [], languageModels: [CHAT, EMBED] }, payments: { streamWindowTokens: WINDOW, streamPauseSeconds: 5 } });
  ({ gateway, pricing } = paid);
}, 180_000);
afterAll(async () => {
  await paid?.stop();
});

async function payingProxy(limits: { maxSpend?: bigint } = {}): Promise<{ proxy: VeilProxy; payer: ChannelPayer; receipts: SettledCall[]; openai: OpenAI }> {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const payer = createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600, deposit: 1_000_000n, ...limits,
  });
  const receipts: SettledCall[] = [];
  const proxy = await startVeilProxy({
    gateway: gateway.httpUrl, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0,
    payer, payment: { onSettled: (r) => receipts.push(r) },
  });
  return { proxy, payer, receipts, openai: new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused-by-veil', maxRetries: 0 }) };
}

const ledgerCharged = async (payer: ChannelPayer) => (await gateway.payments!.ledger.channel(payer.channelId))?.charged ?? 0n;
const messages = [{ role: 'user' as const, content: 'And God said' }];

test('a chat completion and an embedding are charged exactly what the node signed, at the table\'s rates', async () => {
  const { proxy, payer, receipts, openai } = await payingProxy();
  try {
    const completion = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 12 });
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]!.charged).toBe(chatCost(completion.usage!));
    const embedding = await openai.embeddings.create({ model: EMBED, input: ['In the beginning', 'Jesus wept.'] });
    expect(receipts).toHaveLength(2);
    expect(receipts[1]!.charged).toBe(embedPrice.perCall! + embedPrice.perInputToken! * BigInt(embedding.usage.prompt_tokens));
    const total = receipts[0]!.charged + receipts[1]!.charged;
    expect(payer.status()).toMatchObject({ confirmed: total, inFlight: 0n });
    expect(await ledgerCharged(payer)).toBe(total);
  } finally {
    await proxy.close();
  }
}, 120_000);

test('a stream longer than its credit window pauses for top-ups and arrives whole; its windows add up to its usage', async () => {
  const { proxy, payer, receipts, openai } = await payingProxy();
  try {
    const stream = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 40, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    const single = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 40 });
    expect(text).toBe(single.choices[0]!.message.content);
    expect(usage!.completion_tokens).toBeGreaterThan(3 * WINDOW);
    const streamed = receipts.slice(0, -1);
    // More than 3 windows of tokens (the first also pays the call and the prompt): each window its own receipt.
    expect(streamed.length).toBeGreaterThanOrEqual(4);
    expect(streamed.reduce((sum, r) => sum + r.charged, 0n)).toBe(chatCost(usage!));
    expect(receipts.at(-1)!.charged).toBe(chatCost(single.usage!));
    expect(payer.status()).toMatchObject({ inFlight: 0n, confirmed: chatCost(usage!) + chatCost(single.usage!) });
    expect(await ledgerCharged(payer)).toBe(payer.status().confirmed);
  } finally {
    await proxy.close();
  }
}, 120_000);

test('an abandoned stream is charged only what was delivered, far less than the whole completion, and nothing stays reserved', async () => {
  const { proxy, payer, openai } = await payingProxy();
  let closedMs = 0;
  try {
    const stream = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0.9, seed: 3, max_tokens: 200, stream: true });
    let chunks = 0;
    // Leaving the loop aborts the request (the openai client's stream does): the app went away after 3 chunks.
    for await (const _ of stream) if (++chunks === 3) break;
  } finally {
    const started = Date.now();
    await proxy.close();
    closedMs = Date.now() - started;
  }
  // The proxy notices the app left and cancels upstream; the gateway commits what it had delivered to the proxy.
  let channel = await gateway.payments!.ledger.channel(payer.channelId);
  for (let i = 0; i < 100 && (channel?.reserved ?? 1n) !== 0n; i++) {
    await new Promise((r) => setTimeout(r, 50));
    channel = await gateway.payments!.ledger.channel(payer.channelId);
  }
  expect(channel!.reserved).toBe(0n);
  // At least the call and its prompt (the opening chunk) reached the proxy; far from 200 tokens' worth.
  expect(channel!.charged).toBeGreaterThanOrEqual(chatPrice.perCall! + chatPrice.perInputToken!);
  expect(channel!.charged).toBeLessThan(chatCost({ prompt_tokens: 1, completion_tokens: 100 }));
  // Each window's receipt the proxy saw is within what the ledger charged (the last one may have been cut off).
  expect(payer.status().confirmed).toBeLessThanOrEqual(channel!.charged);
  // A stream cut mid-answer does not hold the proxy's shutdown for a keep-alive timeout.
  expect(closedMs).toBeLessThan(10_000);
}, 120_000);

test('the proxy\'s budget: past maxSpend the app gets an OpenAI 402 insufficient_quota and nothing more is signed', async () => {
  const { proxy, payer, openai } = await payingProxy({ maxSpend: 3_000n });
  try {
    // A chat's ceiling is its whole context window (512 in, 512 out): 50 + 512 + 2,560 = 3,122 > 3,000.
    const refused = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 4 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    expect(payer.status().signedMax).toBe(0n);
    expect(await ledgerCharged(payer)).toBe(0n);
  } finally {
    await proxy.close();
  }
}, 120_000);
