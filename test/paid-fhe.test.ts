/**
 * Paid FHE predictions through a real gateway (issue #11 §2): payments on, the embedded anvil dev chain, the SQLite
 * ledger under the data dir. Over HTTP an unpaid predict answers 402 with PAYMENT-REQUIRED (x402 v2) before anything
 * is evaluated; paid with a channel voucher it answers 200 with PAYMENT-RESPONSE, committed to the ledger; a retry
 * under the same Idempotency-Key is not charged again. Over gRPC the same refusal is FAILED_PRECONDITION with a
 * `payment-required` trailer, and a paid call's receipt comes as the `payment-response` trailer. GET /v1/pricing and
 * Models.GetPricing answer the same table.
 */
import path from 'node:path';
import { InterceptingCall, ListenerBuilder, type Interceptor, type Metadata } from '@grpc/grpc-js';
import { getChannel } from '../chain';
import { connectFheModel, createHttpFheClient, createVeilClient, VeilClientError } from '../client';
import { loadDataset } from '../models';
import type { Gateway } from '../gateway';
import { decodeX402, type PaymentRequired, type SettlementResponse } from '../payments';
import { connectDevWallet, openTestChannel, startPaidGateway, type PaidPricing } from './support/paid-channel';

let gateway: Gateway;
let pricing: PaidPricing;
let paid: Awaited<ReturnType<typeof startPaidGateway>>;

beforeAll(async () => {
  paid = await startPaidGateway();
  ({ gateway, pricing } = paid);
}, 180_000);
afterAll(async () => {
  await paid?.stop();
});

async function openChannel(amount: bigint) {
  const registry = gateway.trust!.info();
  const payer = await connectDevWallet(registry, 1);
  const ch = await openTestChannel({ payer, chainId: registry.chainId, contract: pricing.contract, token: pricing.token, receiver: pricing.receiver, amount });
  return { ...ch, payer };
}

test('GET /v1/pricing and Models.GetPricing answer the same table and where to pay', async () => {
  expect(pricing).toMatchObject({ object: 'pricing', enabled: true, scheme: 'veil-channel', network: expect.stringMatching(/^eip155:\d+$/), models: { 'breast-cancer-lr': { perCall: '100', perCiphertextGroup: '1000' } } });
  const client = createVeilClient({ target: gateway.address });
  expect(await client.getPricing()).toEqual(pricing);
  client.close();
});

test('HTTP: 402 with PAYMENT-REQUIRED first; paid, 200 with PAYMENT-RESPONSE; a retried Idempotency-Key is not charged twice', async () => {
  const ch = await openChannel(1_000_000n);
  const ceiling = 1_100n; // perCall 100 + 1 group × 1,000
  let signature: string | undefined;
  let idempotencyKey: string | undefined;
  const seen: { status: number; required?: string; response?: string }[] = [];
  const paying: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (signature && String(input).endsWith('/predict')) headers.set('payment-signature', signature);
    if (idempotencyKey && String(input).endsWith('/predict')) headers.set('idempotency-key', idempotencyKey);
    const res = await fetch(input, { ...init, headers });
    if (String(input).endsWith('/predict')) seen.push({ status: res.status, required: res.headers.get('payment-required') ?? undefined, response: res.headers.get('payment-response') ?? undefined });
    return res;
  };
  const model = await connectFheModel({ client: createHttpFheClient({ baseUrl: gateway.httpUrl!, fetch: paying }), modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const sample = [loadDataset('breast-cancer').test.features[0]!];
    const unpaid = await model.predict(sample).catch((e: unknown) => e);
    expect(unpaid).toBeInstanceOf(VeilClientError);
    expect((unpaid as VeilClientError).code).toBe('payment_required');
    expect(seen.at(-1)!.status).toBe(402);
    const required = decodeX402<PaymentRequired>(seen.at(-1)!.required!, 'PAYMENT-REQUIRED');
    expect(required).toMatchObject({ x402Version: 2, accepts: [{ scheme: 'veil-channel', amount: String(ceiling), payTo: pricing.receiver, asset: pricing.token, extra: { contract: pricing.contract } }] });

    signature = await ch.header(ceiling);
    idempotencyKey = `paid-${Date.now()}`;
    const paid = await model.predict(sample);
    expect(paid.logits).toHaveLength(1);
    const receipt = decodeX402<SettlementResponse>(seen.at(-1)!.response!, 'PAYMENT-RESPONSE');
    expect(receipt).toMatchObject({ success: true, transaction: '', network: pricing.network, extra: { chargedAmount: String(ceiling), channelState: { channelId: ch.id, charged: String(ceiling) } } });

    // The SDK retries the same call (same key, same voucher): answered, not charged again.
    await model.predict(sample);
    expect(decodeX402<SettlementResponse>(seen.at(-1)!.response!, 'PAYMENT-RESPONSE').extra.channelState.charged).toBe(String(ceiling));
    // A new call with the old voucher is short by one ceiling: the corrective 402 says what is charged.
    idempotencyKey = `paid-next-${Date.now()}`;
    const stale = await model.predict(sample).catch((e: unknown) => e);
    expect((stale as VeilClientError).code).toBe('voucher_insufficient');
    expect(decodeX402<PaymentRequired>(seen.at(-1)!.required!, 'PAYMENT-REQUIRED').accepts[0]!.extra.channelState).toMatchObject({ charged: String(ceiling) });
    signature = await ch.header(2n * ceiling);
    await model.predict(sample);
    expect(decodeX402<SettlementResponse>(seen.at(-1)!.response!, 'PAYMENT-RESPONSE').extra.channelState.charged).toBe(String(2n * ceiling));
  } finally {
    await model.close();
  }
}, 120_000);

test('gRPC: FAILED_PRECONDITION with a payment-required trailer when unpaid; the receipt in the payment-response trailer when paid', async () => {
  const ch = await openChannel(1_000_000n);
  let signature: string | undefined;
  const trailers: Metadata[] = [];
  const paying: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      if (signature && options.method_definition.path.endsWith('/Predict')) metadata.set('payment-signature', signature);
      next(metadata, new ListenerBuilder().withOnReceiveStatus((status, nextStatus) => {
        if (options.method_definition.path.endsWith('/Predict')) trailers.push(status.metadata);
        nextStatus(status);
      }).build());
    },
  });
  const client = createVeilClient({ target: gateway.address, interceptors: [paying] });
  const model = await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const sample = [loadDataset('breast-cancer').test.features[1]!];
    const unpaid = await model.predict(sample).catch((e: unknown) => e);
    expect((unpaid as VeilClientError).code).toBe('payment_required');
    expect(decodeX402<PaymentRequired>(String(trailers.at(-1)!.get('payment-required')[0]), 'payment-required').accepts[0]!.amount).toBe('1100');
    signature = await ch.header(1_100n);
    await model.predict(sample);
    const receipt = decodeX402<SettlementResponse>(String(trailers.at(-1)!.get('payment-response')[0]), 'payment-response');
    expect(receipt.extra).toMatchObject({ chargedAmount: '1100', channelState: { channelId: ch.id, charged: '1100' } });
    expect((await getChannel(ch.payer.publicClient, { contractAddress: pricing.contract, channelId: ch.id })).deposited).toBe(1_000_000n);
  } finally {
    await model.close();
    client.close();
  }
}, 120_000);
