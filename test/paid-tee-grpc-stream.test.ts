/**
 * Issue #11 §2 over gRPC, end to end and all real: Tee.InferStreamPaid on a gateway with payments on (embedded anvil,
 * SQLite ledger, in-process TEE node, the toy chat model) and a credit window of 8 completion tokens. The SDK
 * (connectTeeModel({ gateway, payer })) pays each in-band top-up from its channel payer and checks every window's
 * receipt against the enclave's signed usage; a raw client shows the server's side: no top-up → a clear
 * payment_required, a forged or insufficient top-up → its code, each charged only what was delivered.
 */
import * as grpc from '@grpc/grpc-js';
import { connectChain, DEV_ACCOUNTS } from '../chain';
import { createChannelPayer, createSessionKey, type SettledCall } from '../client';
import { connectTeeModel, createGatewayTeeTransport } from '../client/tee';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../attestation';
import type { Gateway } from '../gateway';
import { costOf, decodeX402, DEFAULT_PRICE_TABLE, type PaymentRequired, type PriceTable, type SettlementResponse } from '../payments';
import { loadVeilProto, type TeePaidStreamMessage, type TeeStreamEvent } from '../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeOperationRequest, newRequestId } from '../tee';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { connectDevWallet, openTestChannel, startPaidGateway, type PaidPricing, type TestChannel } from './support/paid-channel';

const MEASUREMENT = Buffer.from(DEFAULT_SIMULATED_MEASUREMENT).toString('hex');
const POLICY = { measurements: [`simulated:${MEASUREMENT}`], debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;
const CHAT = 'toy-chat-kjv';
const WINDOW = 8;
const PAUSE_SECONDS = 2;
const price = DEFAULT_PRICE_TABLE.models[CHAT]!;
const costOfUsage = (u: { inputTokens: number; outputTokens: number }) => costOf(price, { calls: 1, inputTokens: u.inputTokens, outputTokens: u.outputTokens });
const messages = [{ role: 'user' as const, content: 'And God said' }];

let paid: Awaited<ReturnType<typeof startPaidGateway>>;
let gateway: Gateway;
let pricing: PaidPricing;

beforeAll(async () => {
  paid = await startPaidGateway({ tee: { enabled: true, models: [], languageModels: [CHAT] }, payments: { streamWindowTokens: WINDOW, streamPauseSeconds: PAUSE_SECONDS } });
  ({ gateway, pricing } = paid);
}, 180_000);
afterAll(async () => {
  await paid?.stop();
});

const ledger = (id: `0x${string}`) => gateway.payments!.ledger.channel(id);

test('the dev price table is 50 per call + 1 per prompt token + 5 per completion token', () => {
  expect(price).toMatchObject({ perCall: 50n, perInputToken: 1n, perOutputToken: 5n });
});

test('SDK: a stream longer than 3 credit windows is paid in-stream from the payer and charged exactly its signed usage', async () => {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const payer = createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600, deposit: 1_000_000n,
  });
  const receipts: SettledCall[] = [];
  const model = await connectTeeModel({
    gateway: gateway.address, modelId: CHAT, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] }, payer,
    payment: { onSettled: (r) => receipts.push(r) },
  });
  try {
    let text = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of model.stream({ model: CHAT, messages, temperature: 0, max_tokens: 40, stream_options: { include_usage: true } })) {
      const c = chunk as { choices?: { delta?: { content?: string } }[]; usage?: { prompt_tokens: number; completion_tokens: number } };
      text += c.choices?.[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    const single = (await model.call('chat.completions', { model: CHAT, messages, temperature: 0, max_tokens: 40 })).body as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(text).toBe(single.choices[0]!.message.content);
    expect(usage!.completion_tokens).toBeGreaterThan(3 * WINDOW);
    const streamCost = costOfUsage({ inputTokens: usage!.prompt_tokens, outputTokens: usage!.completion_tokens });
    const streamed = receipts.slice(0, -1);
    // Paused for top-ups: each window its own receipt (how many depends on how many tokens each event carries).
    expect(streamed.length).toBeGreaterThanOrEqual(3);
    expect(streamed.reduce((sum, r) => sum + r.charged, 0n)).toBe(streamCost);
    expect(payer.status()).toMatchObject({ inFlight: 0n, confirmed: streamCost + receipts.at(-1)!.charged });
    expect((await ledger(payer.channelId))!.charged).toBe(payer.status().confirmed);
  } finally {
    model.close();
  }
}, 120_000);

test('SDK: each window\'s charge is checked against the enclave\'s signed usage × the client\'s prices — a dearer gateway is caught (PaymentMismatch), for streams and single calls', async () => {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const newPayer = () => createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600, deposit: 1_000_000n,
  });
  // The app agreed to 4 per completion token; the gateway charges 5.
  const cheaper: PriceTable = { ...DEFAULT_PRICE_TABLE, models: { ...DEFAULT_PRICE_TABLE.models, [CHAT]: { ...price, perOutputToken: 4n } } };
  const connect = async () => connectTeeModel({
    router: createGatewayTeeTransport({ target: gateway.address, payer: newPayer(), prices: cheaper }),
    modelId: CHAT, policy: POLICY, allowSimulated: true, roots: { simulated: [...gateway.tee!.simulatedKeys] },
  });
  const streaming = await connect();
  try {
    const run = (async () => {
      for await (const _ of streaming.stream({ model: CHAT, messages, temperature: 0, max_tokens: 40 })) { /* read it */ }
    })();
    await expect(run).rejects.toMatchObject({ name: 'PaymentMismatch' });
  } finally {
    streaming.close();
  }
  const single = await connect();
  try {
    // payingInterceptor surfaces the payer's refusal as the call's status, its code kept.
    await expect(single.call('chat.completions', { model: CHAT, messages, temperature: 0, max_tokens: 8 })).rejects.toMatchObject({ code: 'payment_mismatch', message: expect.stringMatching(/more than the quoted prices/) });
  } finally {
    single.close();
  }
}, 120_000);

describe('the server side of Tee.InferStreamPaid (a raw client)', () => {
  let stub: grpc.Client;
  let channel: TestChannel;
  let nodeId: string;
  let seal: (body: object) => Promise<Uint8Array>;

  beforeAll(async () => {
    stub = new (loadVeilProto().services.Tee)(gateway.address, grpc.credentials.createInsecure());
    const registry = gateway.trust!.info();
    const payerWallet = await connectDevWallet({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress }, 1);
    channel = await openTestChannel({ payer: payerWallet, chainId: registry.chainId, contract: pricing.contract, token: pricing.token, receiver: pricing.receiver, amount: 1_000_000n });
    const routed = await new Promise<{ nodeId: string; evidence: { identity: { hpkePublicKey: Uint8Array } } }>((resolve, reject) =>
      (stub as unknown as { GetEvidence(r: object, cb: (e: Error | null, v: never) => void): void }).GetEvidence({ modelId: CHAT, nonce: new Uint8Array(32).fill(9) }, (e, v) => (e ? reject(e) : resolve(v))));
    nodeId = routed.nodeId;
    const tee = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: routed.evidence.identity.hpkePublicKey, modelId: CHAT, reuseSession: false });
    seal = async (body) => (await tee.seal(encodeTeeOperationRequest({
      requestId: newRequestId(), timestampMs: Date.now(), modelId: CHAT, operation: 'chat.completions', body: new TextEncoder().encode(JSON.stringify({ ...body, stream: true })),
    }))).sealed;
  }, 60_000);
  afterAll(() => stub?.close());

  type Outcome = { events: TeeStreamEvent[]; required: PaymentRequired[]; receipts: SettlementResponse[]; status: grpc.StatusObject };

  /** Opens a paid stream with `header` for its first window; `onRequired` answers each payment_required (or not). */
  const paidStream = (header: string | undefined, body: object, onRequired: (required: PaymentRequired, n: number) => Promise<string | undefined>) =>
    seal(body).then((sealedRequest) => new Promise<Outcome>((resolve) => {
      const metadata = new grpc.Metadata();
      if (header) metadata.set('payment-signature', header);
      const call = (stub as unknown as { InferStreamPaid(m: grpc.Metadata): grpc.ClientDuplexStream<object, TeePaidStreamMessage> }).InferStreamPaid(metadata);
      const out: Outcome = { events: [], required: [], receipts: [], status: undefined as never };
      call.on('data', (m: TeePaidStreamMessage) => {
        if (m.event) out.events.push(m.event);
        if (m.paymentResponse) out.receipts.push(decodeX402<SettlementResponse>(m.paymentResponse, 'PAYMENT-RESPONSE'));
        if (m.paymentRequired) {
          const required = decodeX402<PaymentRequired>(m.paymentRequired, 'PAYMENT-REQUIRED');
          out.required.push(required);
          void onRequired(required, out.required.length).then((voucher) => {
            if (voucher !== undefined) call.write({ paymentSignature: voucher });
          });
        }
      });
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => resolve({ ...out, status }));
      call.write({ request: { nodeId, modelId: CHAT, sealedRequest } });
    }));

  const code = (status: grpc.StatusObject) => String(status.metadata.get('veil-error-code')[0]);
  const charged = async () => (await ledger(channel.id))?.charged ?? 0n;
  const lastUsage = (events: TeeStreamEvent[]) => events.filter((e) => e.usage).at(-1)!.usage!;

  test('unpaid: refused before the node sees it, FAILED_PRECONDITION with payment-required in the trailer', async () => {
    const out = await paidStream(undefined, { model: CHAT, messages, max_tokens: 20 }, async () => undefined);
    expect(out.status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(code(out.status)).toBe('payment_required');
    expect(out.status.metadata.get('payment-required')).toHaveLength(1);
    expect(out.events).toHaveLength(0);
  }, 60_000);

  test('a client that stops topping up gets a clear payment_required after the pause and is charged only the delivered tokens', async () => {
    const before = await charged();
    const started = Date.now();
    const out = await paidStream(await channel.header(before + 10_000n), { model: CHAT, messages, temperature: 0.9, seed: 1, max_tokens: 200 }, async () => undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(PAUSE_SECONDS * 1000 - 100);
    expect(out.status.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(code(out.status)).toBe('payment_required');
    expect(out.status.details).toMatch(/waited 2 s for a top-up voucher/);
    expect(out.required).toHaveLength(1);
    expect(out.required[0]!.error).toBe('stream_credit_exhausted');
    // Every event that arrived was paid for by the one window; its receipt is exactly their signed usage.
    const usage = lastUsage(out.events);
    expect(usage.outputTokens).toBeLessThanOrEqual(WINDOW);
    expect(out.receipts).toHaveLength(1);
    expect(BigInt(out.receipts[0]!.extra.chargedAmount)).toBe(costOfUsage(usage));
    expect(out.receipts[0]!.extra.usage).toMatchObject({ inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
    expect((await charged()) - before).toBe(costOfUsage(usage));
    expect((await ledger(channel.id))!.reserved).toBe(0n);
  }, 60_000);

  test('valid top-ups answer each pause and the stream completes, charged exactly its signed usage', async () => {
    const before = await charged();
    let paidSoFar = before + 10_000n;
    const out = await paidStream(await channel.header(paidSoFar), { model: CHAT, messages, temperature: 0, max_tokens: 40 }, async (required) => {
      paidSoFar += BigInt(required.accepts[0]!.amount) + 1_000n;
      return channel.header(paidSoFar);
    });
    expect(out.status.code).toBe(grpc.status.OK);
    expect(out.events.at(-1)!.signature).toMatch(/^0x/);
    expect(out.required.length).toBeGreaterThanOrEqual(3);
    const usage = lastUsage(out.events);
    expect(usage.outputTokens).toBeGreaterThan(3 * WINDOW);
    expect(out.receipts.reduce((s, r) => s + BigInt(r.extra.chargedAmount), 0n)).toBe(costOfUsage(usage));
    expect((await charged()) - before).toBe(costOfUsage(usage));
  }, 60_000);

  test.each([
    ['forged (signed by a key the channel never authorized)', 'voucher_signature_invalid', (max: bigint) => channel.header(max, { signer: privateKeyToAccount(generatePrivateKey()) })],
    ['insufficient (no higher than what is already charged)', 'voucher_insufficient', (max: bigint) => channel.header(max - 10_000n)],
    ['malformed', 'payment_invalid', async () => 'not-base64-json!'],
  ])('a %s top-up is refused with %s, the stream ends cleanly, charged what was delivered; the server keeps serving', async (_what, expected, voucher) => {
    const before = await charged();
    const first = before + 10_000n;
    const out = await paidStream(await channel.header(first), { model: CHAT, messages, temperature: 0.9, seed: 2, max_tokens: 200 }, async () => voucher(first));
    expect(out.status.code).not.toBe(grpc.status.OK);
    expect(code(out.status)).toBe(expected);
    expect(out.required).toHaveLength(1);
    const usage = lastUsage(out.events);
    expect((await charged()) - before).toBe(costOfUsage(usage));
    expect((await ledger(channel.id))!.reserved).toBe(0n);
    // The gateway is still serving paid streams.
    const after = await charged();
    const next = await paidStream(await channel.header(after + 10_000n), { model: CHAT, messages, temperature: 0, max_tokens: 4 }, async () => undefined);
    expect(next.status.code).toBe(grpc.status.OK);
    expect((await charged()) - after).toBe(costOfUsage(lastUsage(next.events)));
  }, 60_000);

  test('an abandoned stream (the client cancels) is charged only what was delivered, and nothing stays reserved', async () => {
    const before = await charged();
    const sealedRequest = await seal({ model: CHAT, messages, temperature: 0.9, seed: 4, max_tokens: 200 });
    const metadata = new grpc.Metadata();
    metadata.set('payment-signature', await channel.header(before + 10_000n));
    const call = (stub as unknown as { InferStreamPaid(m: grpc.Metadata): grpc.ClientDuplexStream<object, TeePaidStreamMessage> }).InferStreamPaid(metadata);
    const events: TeeStreamEvent[] = [];
    await new Promise<void>((resolve) => {
      call.on('data', (m: TeePaidStreamMessage) => {
        if (m.event) events.push(m.event);
        if (events.length === 2) {
          call.cancel();
          resolve();
        }
      });
      call.on('error', () => resolve());
      call.write({ request: { nodeId, modelId: CHAT, sealedRequest } });
    });
    let channelRow = await ledger(channel.id);
    for (let i = 0; i < 100 && channelRow!.reserved !== 0n; i++) {
      await new Promise((r) => setTimeout(r, 50));
      channelRow = await ledger(channel.id);
    }
    expect(channelRow!.reserved).toBe(0n);
    const spent = channelRow!.charged - before;
    // At least what reached this client; never more than the one window it paid for (its events may have been in flight).
    expect(spent).toBeGreaterThanOrEqual(costOfUsage(lastUsage(events)));
    expect(spent).toBeLessThanOrEqual(costOfUsage({ inputTokens: lastUsage(events).inputTokens, outputTokens: WINDOW }));
  }, 60_000);
});
