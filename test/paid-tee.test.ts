/**
 * Issue #11 for TEE mode, end to end and all real: the official `openai` client → `veil proxy` paying from dev account 1
 * → the gateway's HTTP API with payments on (embedded anvil, SQLite ledger) → the in-process TEE node → the toy
 * language models. Every charge is what the node signed it used (PROTOCOL §12) at the price table's rates; streams run
 * on a credit window of 8 completion tokens, so they pause for top-ups several times and still arrive whole; the
 * proxy's budget (`maxSpend`) turns into an OpenAI 402 for the app; an abandoned stream is charged only what reached
 * the client.
 */
import * as grpc from '@grpc/grpc-js';
import OpenAI from 'openai';
import { connectChain, DEV_ACCOUNTS } from '../chain';
import { createChannelPayer, createSessionKey, startVeilProxy, type ChannelPayer, type SettledCall, type VeilProxy } from '../client';
import type { Gateway } from '../gateway';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import { run as runProxyCli } from '../cli/proxy';
import { decodeX402, DEFAULT_PRICE_TABLE, type PaymentRequired, type PriceTable, type SettlementResponse } from '../payments';
import { loadVeilProto, type TeeInferResponse, type TeeStreamEvent } from '../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeOperationRequest, newRequestId } from '../tee';
import { connectDevWallet, openTestChannel, startPaidGateway, type PaidPricing } from './support/paid-channel';

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

async function payingProxy(limits: { maxSpend?: bigint } = {}, prices?: PriceTable): Promise<{ proxy: VeilProxy; payer: ChannelPayer; receipts: SettledCall[]; openai: OpenAI }> {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const payer = createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600, deposit: 1_000_000n, ...limits,
  });
  const receipts: SettledCall[] = [];
  const proxy = await startVeilProxy({
    gateway: gateway.httpUrl, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, host: '127.0.0.1', port: 0,
    payer, payment: { onSettled: (r) => receipts.push(r) }, ...(prices ? { prices } : {}),
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
    // More than 3 windows' worth of tokens: it paused for top-ups, each window its own receipt. (How many depends on how
    // many tokens each 16 ms event carries on a loaded machine: an event past the edge buys a window large enough for it.)
    expect(streamed.length).toBeGreaterThanOrEqual(2);
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

test('every TEE receipt carries the enclave\'s signed usage, and the payer checks the charge against it and its prices', async () => {
  const { proxy, payer, receipts, openai } = await payingProxy();
  try {
    await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 5 });
    const stream = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 20, stream: true });
    for await (const _ of stream) { /* read it all */ }
    expect(receipts.length).toBeGreaterThanOrEqual(3);
    expect(payer.status().stopped).toBeUndefined();
  } finally {
    await proxy.close();
  }
}, 120_000);

test('a gateway that charges more than the prices the client holds is caught: the payer stops and the app gets 502 payment_mismatch', async () => {
  // The operator of this proxy agreed to a completion token price of 4; the gateway charges 5.
  const agreed: PriceTable = { ...DEFAULT_PRICE_TABLE, models: { ...DEFAULT_PRICE_TABLE.models, [CHAT]: { ...chatPrice, perOutputToken: 4n } } };
  const { proxy, payer, openai } = await payingProxy({}, agreed);
  try {
    const caught = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 5 }).catch((e: unknown) => e);
    expect((caught as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((caught as InstanceType<typeof OpenAI.APIError>).code).toBe('payment_mismatch');
    expect(payer.status().stopped).toMatchObject({ field: 'extra.chargedAmount' });
    // Stopped: nothing more is signed on this channel.
    const next = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 5 }).catch((e: unknown) => e);
    expect((next as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  } finally {
    await proxy.close();
  }
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

describe('gRPC: Tee.Infer and Tee.InferStream are paid too', () => {
  const call = <T>(stub: grpc.Client, method: string, request: object, metadata: grpc.Metadata) => new Promise<{ error?: grpc.ServiceError; value?: T; trailer: grpc.Metadata }>((resolve) => {
    let result: { error?: grpc.ServiceError; value?: T } = {};
    const c = (stub as unknown as Record<string, (r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: T) => void) => grpc.ClientUnaryCall>)[method]!.call(stub, request, metadata, (e, v) => {
      result = e ? { error: e } : { value: v };
    });
    c.on('status', (s: grpc.StatusObject) => setImmediate(() => resolve({ ...result, trailer: s.metadata })));
  });
  const stream = (stub: grpc.Client, request: object, metadata: grpc.Metadata) => new Promise<{ events: TeeStreamEvent[]; status: grpc.StatusObject }>((resolve) => {
    const events: TeeStreamEvent[] = [];
    const s = (stub as unknown as { InferStream(r: object, m: grpc.Metadata): grpc.ClientReadableStream<TeeStreamEvent> }).InferStream(request, metadata);
    s.on('data', (e: TeeStreamEvent) => events.push(e));
    s.on('error', () => undefined);
    s.on('status', (status: grpc.StatusObject) => resolve({ events, status }));
  });

  test('unpaid → FAILED_PRECONDITION with payment-required; paid → the node-signed usage charged, receipt in the trailer', async () => {
    const stub = new (loadVeilProto().services.Tee)(gateway.address, grpc.credentials.createInsecure());
    const registry = gateway.trust!.info();
    const payerWallet = await connectDevWallet({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress }, 1);
    const channel = await openTestChannel({ payer: payerWallet, chainId: registry.chainId, contract: pricing.contract, token: pricing.token, receiver: pricing.receiver, amount: 1_000_000n });
    try {
      const routed = await new Promise<{ nodeId: string; evidence: { identity: { hpkePublicKey: Uint8Array } } }>((resolve, reject) =>
        (stub as unknown as { GetEvidence(r: object, cb: (e: Error | null, v: never) => void): void }).GetEvidence({ modelId: CHAT, nonce: new Uint8Array(32).fill(7) }, (e, v) => (e ? reject(e) : resolve(v))));
      // One-shot: this test opens no answers, and a session would wait for its handshake's.
      const tee = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: routed.evidence.identity.hpkePublicKey, modelId: CHAT, reuseSession: false });
      const seal = async (body: object) => (await tee.seal(encodeTeeOperationRequest({
        requestId: newRequestId(), timestampMs: Date.now(), modelId: CHAT, operation: 'chat.completions', body: new TextEncoder().encode(JSON.stringify(body)),
      }))).sealed;
      const body = { model: CHAT, messages, temperature: 0, max_tokens: 6 };
      const request = { nodeId: routed.nodeId, modelId: CHAT, sealedRequest: await seal(body) };

      const unpaid = await call<TeeInferResponse>(stub, 'Infer', request, new grpc.Metadata());
      expect(unpaid.error?.code).toBe(grpc.status.FAILED_PRECONDITION);
      const required = decodeX402<PaymentRequired>(String(unpaid.trailer.get('payment-required')[0]), 'PAYMENT-REQUIRED');
      const ceiling = BigInt(required.accepts[0]!.amount);
      expect(ceiling).toBe(chatCost({ prompt_tokens: 512, completion_tokens: 512 }));

      const paidMeta = new grpc.Metadata();
      paidMeta.set('payment-signature', await channel.header(ceiling));
      const answer = await call<TeeInferResponse>(stub, 'Infer', request, paidMeta);
      expect(answer.error).toBeUndefined();
      const receipt = decodeX402<SettlementResponse>(String(answer.trailer.get('payment-response')[0]), 'PAYMENT-RESPONSE');
      const usage = { prompt_tokens: answer.value!.usage!.inputTokens, completion_tokens: answer.value!.usage!.outputTokens };
      expect(usage.completion_tokens).toBe(6);
      expect(BigInt(receipt.extra.chargedAmount)).toBe(chatCost(usage));

      // A stream pays its whole context up front over gRPC and is charged what it delivered.
      const streamRequest = { nodeId: routed.nodeId, modelId: CHAT, sealedRequest: await seal({ ...body, stream: true }) };
      const refused = await stream(stub, streamRequest, new grpc.Metadata());
      expect(refused.status.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(refused.events).toHaveLength(0);
      const charged = BigInt(receipt.extra.channelState.charged);
      const streamMeta = new grpc.Metadata();
      streamMeta.set('payment-signature', await channel.header(charged + ceiling));
      const streamed = await stream(stub, streamRequest, streamMeta);
      expect(streamed.status.code).toBe(grpc.status.OK);
      const last = streamed.events.at(-1)!;
      expect(last.signature).toMatch(/^0x/);
      const streamReceipt = decodeX402<SettlementResponse>(String(streamed.status.metadata.get('payment-response')[0]), 'PAYMENT-RESPONSE');
      expect(BigInt(streamReceipt.extra.chargedAmount)).toBe(chatCost({ prompt_tokens: last.usage!.inputTokens, completion_tokens: last.usage!.outputTokens }));
      expect((await gateway.payments!.ledger.channel(channel.id))!.charged).toBe(charged + BigInt(streamReceipt.extra.chargedAmount));
    } finally {
      stub.close();
    }
  }, 120_000);
});

test('`veil proxy --pay --max-spend`: an unmodified OpenAI app pays per call through the CLI proxy, within its budget', async () => {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const rpcUrl = gateway.trust!.info().rpcUrl;
  const running = runProxyCli([
    '--gateway', gateway.httpUrl!, '--port', '0', '--allow-simulated', '--simulated-key', Buffer.from(gateway.tee!.simulatedKeys[0]!).toString('hex'),
    '--model', CHAT, '--pay', '--pay-rpc', rpcUrl, '--max-spend', '3200',
  ]);
  try {
    for (let i = 0; i < 400 && !out.some((l) => l.includes('paying')); i++) await new Promise((r) => setTimeout(r, 25));
    const banner = out.join('\n');
    expect(banner).toMatch(/paying {7}0x[0-9a-fA-F]{40} on eip155:31337 \(dev account 1\), budget 3200 \(channel 0x[0-9a-f]{64}/);
    const url = /listening on (http:\/\/[^ ]+) /.exec(banner)![1]!;
    const channelId = /\(channel (0x[0-9a-f]{64})/.exec(banner)![1]!;
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused-by-veil', maxRetries: 0 });
    const first = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 8 });
    expect((await gateway.payments!.ledger.channel(channelId))!.charged).toBe(chatCost(first.usage!));
    // A call reserves its whole context (3,122): with the first one's charge confirmed, a second would pass 3,200.
    const refused = await openai.chat.completions.create({ model: CHAT, messages, temperature: 0, max_tokens: 8 }).then(() => undefined, (e: unknown) => e);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    expect((await gateway.payments!.ledger.channel(channelId))!.charged).toBe(chatCost(first.usage!));
  } finally {
    process.emit('SIGINT');
    expect(await running).toBe(0);
    log.mockRestore();
  }
}, 120_000);
