/**
 * The SDK's payer against a real gateway (issue #11 §4): payments on, the embedded anvil dev chain, the SQLite ledger.
 * The HTTP FHE client is given `payingFetch(payer)` and nothing else changes: the payer opens a channel from dev
 * account 1, answers each 402, checks every receipt, and its view equals the gateway's charges; its budget stops it.
 * Over gRPC the same payer pays through payingInterceptor (FAILED_PRECONDITION + payment-required trailer).
 */
import type { Address } from 'viem';
import { connectChain, DEV_ACCOUNTS, getChannel } from '../chain';
import { connectFheModel, createChannelPayer, createHttpFheClient, createSessionKey, createVeilClient, isPayerError, payingFetch, payingInterceptor, VeilClientError, type SettledCall } from '../client';
import type { Gateway } from '../gateway';
import { loadDataset } from '../models';
import { startPaidGateway, type PaidPricing } from './support/paid-channel';

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

function findCause(err: unknown, test: (e: unknown) => boolean): unknown {
  for (let e: unknown = err, i = 0; e !== undefined && i < 10; e = (e as { cause?: unknown }).cause, i++) if (test(e)) return e;
  return undefined;
}

test('predictions paid by payingFetch: every receipt checked, the payer\'s view = the gateway\'s charges, the budget holds', async () => {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const ceiling = 1_100n; // perCall 100 + 1 group × 1,000
  const payer = createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600,
    deposit: 1_000_000n, maxPerCall: ceiling, maxSpend: 6n * ceiling,
  });
  const receipts: SettledCall[] = [];
  const client = createHttpFheClient({ baseUrl: gateway.httpUrl!, fetch: payingFetch(payer, globalThis.fetch, { onSettled: (r) => receipts.push(r) }) });
  const model = await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const samples = loadDataset('breast-cancer').test.features;
    for (let i = 0; i < 3; i++) expect((await model.predict([samples[i]!])).logits).toHaveLength(1);
    const concurrent = await Promise.all([3, 4, 5].map((i) => model.predict([samples[i]!])));
    expect(concurrent.map((p) => p.logits.length)).toEqual([1, 1, 1]);
    expect(receipts).toHaveLength(6);
    expect(receipts.every((r) => r.charged === ceiling)).toBe(true);
    expect(payer.status()).toMatchObject({ confirmed: 6n * ceiling, inFlight: 0n, spent: 6n * ceiling });
    expect(receipts.map((r) => r.cumulative).sort((a, b) => (a < b ? -1 : 1)).at(-1)).toBe(6n * ceiling);
    expect((await getChannel(wallet.publicClient, { contractAddress: pricing.contract, channelId: payer.channelId })).deposited).toBe(1_000_000n);

    // the 7th call could take the total past maxSpend: the payer signs nothing and the call fails
    const refused = await model.predict([samples[6]!]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VeilClientError);
    expect((refused as VeilClientError).code).toBe('budget_exceeded'); // the payer's refusal, not "the gateway cannot be reached"
    expect(isPayerError(findCause(refused, (e) => isPayerError(e)), 'budget_exceeded')).toBe(true);
    expect(payer.status().signedMax).toBe(6n * ceiling);
  } finally {
    await model.close();
  }
}, 180_000);

test('gRPC: payingInterceptor pays Predict through FAILED_PRECONDITION + payment-required and settles the payment-response trailer', async () => {
  const registry = gateway.trust!.info();
  const wallet = await connectChain({ rpcUrl: registry.rpcUrl, registryAddress: registry.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 });
  const ceiling = 1_100n;
  const payer = createChannelPayer({
    publicClient: wallet.publicClient, walletClient: wallet.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract, receiver: pricing.receiver, token: pricing.token, withdrawDelay: 3600,
    deposit: 1_000_000n, maxSpend: 4n * ceiling,
  });
  const receipts: SettledCall[] = [];
  const client = createVeilClient({ target: gateway.address, interceptors: [payingInterceptor(payer, { onSettled: (r) => receipts.push(r) })] });
  const model = await connectFheModel({ client, modelId: 'breast-cancer-lr', variant: 'blocks' });
  try {
    const samples = loadDataset('breast-cancer').test.features;
    for (let i = 0; i < 2; i++) expect((await model.predict([samples[i]!])).logits).toHaveLength(1);
    const concurrent = await Promise.all([2, 3].map((i) => model.predict([samples[i]!])));
    expect(concurrent.map((p) => p.logits.length)).toEqual([1, 1]);
    expect(receipts.map((r) => r.charged)).toEqual([ceiling, ceiling, ceiling, ceiling]);
    expect(payer.status()).toMatchObject({ confirmed: 4n * ceiling, inFlight: 0n });
    // unpaid calls (session set-up, spec) passed through; the 5th Predict is refused by the budget, with its code
    const refused = await model.predict([samples[4]!]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VeilClientError);
    expect((refused as VeilClientError).code).toBe('budget_exceeded');
    expect(payer.status()).toMatchObject({ confirmed: 4n * ceiling, inFlight: 0n, signedMax: 4n * ceiling });
  } finally {
    await model.close();
    client.close();
  }
}, 120_000);
