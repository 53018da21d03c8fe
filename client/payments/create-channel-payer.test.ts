/**
 * The payer against the REAL payment gate and SQLite ledger on a real anvil chain: sequences and concurrency settle exactly, dishonest gateways are caught, foreign requirements
 * refused, caps enforced, a lost receipt resynced, the deposit topped up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClient, http, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { connectChain, deployDevPayments, DEV_ACCOUNTS, getChannel, rotateAuthorizer, startDevChain, type ChainConnection, type DevChain } from '../../chain';
import { openSqliteLedger, type PaymentLedger, type PaymentRequired, type PaymentRequirements } from '../../payments';
import { createChannelPayer, type ChannelPayerOptions } from './create-channel-payer';
import { createSessionKey } from './create-session-key';
import { isPayerError } from './payer-error';
import { payingFetch } from './paying-fetch';
import { PaymentMismatch } from './payment-mismatch';
import { startPaidServer, type PaidCallBody, type PaidServer, type PaidServerOptions } from './test-support/start-paid-server';

type Wallet = ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };

let dataDir: string;
let dev: DevChain;
let payerWallet: Wallet;
let contractAddress: Address;
let token: Address;
const receiver = DEV_ACCOUNTS[2].address;
const servers: PaidServer[] = [];
const ledgers: PaymentLedger[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'veil-payer-test-'));
  dev = await startDevChain({ dataDir });
  const connect = async (i: number) => (await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[i]!.privateKey, pollingInterval: 50, retryCount: 0 })) as Wallet;
  const owner = await connect(0);
  payerWallet = await connect(1);
  const deployed = await deployDevPayments(owner.walletClient, owner.publicClient, { fund: [payerWallet.walletClient.account.address] });
  contractAddress = deployed.paymentChannelsAddress;
  token = deployed.tokenAddress;
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(ledgers.map((l) => l.close()));
  await dev?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function server(extra: Partial<PaidServerOptions> = {}) {
  const ledger = await openSqliteLedger({ file: join(dataDir, `ledger-${ledgers.length}.sqlite`) });
  ledgers.push(ledger);
  const s = await startPaidServer({ publicClient: payerWallet.publicClient, chainId: dev.chainId, contractAddress, receiver, token, ledger, ...extra });
  servers.push(s);
  return Object.assign(s, { ledger });
}

function payer(extra: Partial<ChannelPayerOptions> = {}) {
  return createChannelPayer({
    // the native signer by default; the resumed-channel test uses viem's own account, so both pass the real gate
    publicClient: payerWallet.publicClient, walletClient: payerWallet.walletClient, sessionKey: createSessionKey(),
    contractAddress, receiver, token, withdrawDelay: 900, deposit: 100_000n, ...extra,
  });
}

const post = (fetch: ReturnType<typeof payingFetch>, url: string, body: PaidCallBody) =>
  fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function caught(p: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

test('pays and settles a sequence of calls: the payer, the ledger and the receipts agree', async () => {
  const s = await server();
  const p = payer();
  const receipts: bigint[] = [];
  const fetch = payingFetch(p, globalThis.fetch, { onSettled: (r) => receipts.push(r.cumulative) });
  const costs = [37, 0, 100, 12, 64];
  for (const cost of costs) expect((await post(fetch, s.url, { ceiling: 100, cost })).status).toBe(200);
  const total = BigInt(costs.reduce((a, b) => a + b, 0));
  expect(receipts).toEqual([37n, 37n, 137n, 149n, 213n]);
  expect(p.status()).toMatchObject({ opened: true, confirmed: total, inFlight: 0n, inFlightCalls: 0, spent: total, deposited: 100_000n });
  expect((await s.ledger.channel(p.channelId))?.charged).toBe(total);
  // the voucher never ran ahead of confirmed + in flight + ceiling: one call at a time, so the last was 149 + 100
  expect(p.status().signedMax).toBe(249n);
  expect(await getChannel(payerWallet.publicClient, { contractAddress, channelId: p.channelId })).toMatchObject({ open: true, deposited: 100_000n });
});

test('prepay: after the first 402 a resource is paid up front (one request per call); a higher ceiling costs one more round trip', async () => {
  const s = await server();
  const p = payer();
  const fetch = payingFetch(p);
  for (let i = 0; i < 5; i++) expect((await post(fetch, s.url, { ceiling: 50, cost: 20 })).status).toBe(200);
  expect(s.requests).toBe(2 + 4);
  expect((await post(fetch, `${s.url}?q=1`, { ceiling: 100, cost: 90 })).status).toBe(200); // prepaid 50 is short: 402, paid again
  expect(s.requests).toBe(6 + 2);
  expect(p.status()).toMatchObject({ confirmed: 190n, inFlight: 0n });
  const plain = payingFetch(payer(), globalThis.fetch, { prepay: false });
  for (let i = 0; i < 3; i++) expect((await post(plain, s.url, { ceiling: 50, cost: 20 })).status).toBe(200);
  expect(s.requests).toBe(8 + 6);
});

test('a charged answer is final whatever its status: a 402 with a receipt is not paid again', async () => {
  const s = await server({ statusAfterCommit: 402 });
  const p = payer();
  expect((await post(payingFetch(p), s.url, { ceiling: 100, cost: 9 })).status).toBe(402);
  expect({ requests: s.requests, served: s.served }).toEqual({ requests: 2, served: 1 });
  expect(p.status()).toMatchObject({ confirmed: 9n, inFlight: 0n });
});

test('20 concurrent calls answered in random order settle exactly: payer view = ledger = chain of receipts', async () => {
  const s = await server();
  const p = payer();
  const receipts: { charged: bigint; cumulative: bigint }[] = [];
  const fetch = payingFetch(p, globalThis.fetch, { onSettled: (r) => receipts.push(r) });
  await p.open();
  const costs = Array.from({ length: 20 }, (_, i) => (i * 37) % 90);
  const answers = await Promise.all(costs.map((cost) => post(fetch, s.url, { ceiling: 100, cost, delayMs: Math.floor(Math.random() * 80) })));
  expect(answers.map((a) => a.status)).toEqual(costs.map(() => 200));
  const total = BigInt(costs.reduce((a, b) => a + b, 0));
  expect(receipts).toHaveLength(20);
  // the receipts, sorted by cumulative total, form one chain from 0: each total = the previous + its charge
  const chain = [...receipts].sort((a, b) => (a.cumulative < b.cumulative ? -1 : a.cumulative > b.cumulative ? 1 : 0));
  chain.reduce((prev, r) => {
    expect(r.cumulative - r.charged).toBe(prev);
    return r.cumulative;
  }, 0n);
  expect(chain.at(-1)!.cumulative).toBe(total);
  expect(p.status()).toMatchObject({ confirmed: total, inFlight: 0n, inFlightCalls: 0 });
  expect((await s.ledger.channel(p.channelId))).toMatchObject({ charged: total, reserved: 0n });
  expect(s.served).toBe(20);
  if (process.env.VEIL_PAYER_VERBOSE) console.log(`20 concurrent calls: ${s.corrections} corrective 402s`);
});

test('settle order independent of commit order (the gate in-process): every order gives the exact total', async () => {
  const s = await server();
  const p = payer();
  const requirements = s.gate.requirements('test/call', 50n).accepts[0]!;
  const paid = await Promise.all(Array.from({ length: 12 }, () => p.pay(requirements)));
  // every voucher covers every call started before it: the gate admits them in the order they were signed
  const admitted: Awaited<ReturnType<typeof s.gate.admit>>[] = [];
  for (const [i, call] of paid.entries()) admitted.push(await s.gate.admit({ requestId: `r${i}`, resource: 'test/call', ceiling: 50n, header: call.header }));
  const commitOrder = shuffle(admitted.map((_, i) => i));
  const responses = new Map<number, string>();
  // all commits in flight at once (the ledger serializes them in this order), their receipts read back concurrently
  await Promise.all(commitOrder.map(async (i) => {
    const a = admitted[i]!;
    if (a.kind !== 'paid') throw new Error('expected a paid admission');
    const { response } = await a.commit(BigInt(i * 3));
    responses.set(i, Buffer.from(JSON.stringify(response)).toString('base64'));
  }));
  for (const i of shuffle(admitted.map((_, k) => k))) p.settle(paid[i]!.handle, responses.get(i)!);
  const total = BigInt(Array.from({ length: 12 }, (_, i) => i * 3).reduce((a, b) => a + b, 0));
  expect(p.status()).toMatchObject({ confirmed: total, inFlight: 0n });
  expect((await s.ledger.channel(p.channelId))?.charged).toBe(total);
});

test('a gateway that charges above the ceiling is caught, and the payer stops paying on that channel', async () => {
  const s = await server({ tamper: (r) => ({ ...r, extra: { ...r.extra, chargedAmount: '101' } }) });
  const p = payer();
  const fetch = payingFetch(p);
  const err = await caught(post(fetch, s.url, { ceiling: 100, cost: 10 }));
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as PaymentMismatch).field).toBe('extra.chargedAmount');
  expect((err as Error).message).toMatch(/charged 101, above this call's ceiling 100/);
  expect(p.status().stopped?.field).toBe('extra.chargedAmount');
  const next = await caught(post(fetch, s.url, { ceiling: 100, cost: 10 }));
  expect(isPayerError(next, 'payer_stopped')).toBe(true);
});

test('a gateway whose cumulative charge jumps, or that names another channel, is caught', async () => {
  let jump = false;
  const s = await server({
    tamper: (r) => (jump ? { ...r, extra: { ...r.extra, channelState: { ...r.extra.channelState, charged: (BigInt(r.extra.channelState.charged) + 5n).toString() } } } : r),
  });
  const p = payer();
  const fetch = payingFetch(p);
  const first = await post(fetch, s.url, { ceiling: 100, cost: 30 });
  expect(first.status).toBe(200);
  jump = true;
  const err = await caught(post(fetch, s.url, { ceiling: 100, cost: 30 }));
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as PaymentMismatch).field).toBe('extra.channelState.charged');
  expect((err as Error).message).toMatch(/jumped by 5/);

  const other = await server({ tamper: (r) => ({ ...r, extra: { ...r.extra, channelState: { ...r.extra.channelState, channelId: `0x${'ab'.repeat(32)}` } } }) });
  const q = payer();
  const wrong = await caught(post(payingFetch(q), other.url, { ceiling: 100, cost: 1 }));
  expect((wrong as PaymentMismatch).field).toBe('extra.channelState.channelId');
});

test('requirements for another scheme, network, receiver, asset, contract or domain are refused before anything is signed', async () => {
  const s = await server();
  const p = payer();
  const good = s.gate.requirements('test/call', 10n).accepts[0]!;
  const stranger = DEV_ACCOUNTS[0].address;
  const bad: [Partial<PaymentRequirements> | { extra: PaymentRequirements['extra'] }, RegExp][] = [
    [{ scheme: 'exact' as never }, /scheme "exact" is not veil-channel/],
    [{ network: 'eip155:1' }, /network "eip155:1" is not this channel's eip155:31337/],
    [{ payTo: stranger }, /payTo is not this channel's receiver/],
    [{ asset: stranger }, /asset is not this channel's token/],
    [{ extra: { ...good.extra, contract: stranger } }, /extra.contract is not this channel's contract/],
    [{ extra: { ...good.extra, domain: { name: 'x402 Batch Settlement', version: '1' } } }, /extra.domain/],
    [{ extra: { ...good.extra, minWithdrawDelay: 3600 } }, /withdraw delay of at least 3600 s/],
  ];
  for (const [change, message] of bad) {
    const err = await caught(p.pay({ ...good, ...change } as PaymentRequirements));
    expect(isPayerError(err, 'requirements_refused')).toBe(true);
    expect((err as Error).message).toMatch(message);
  }
  expect(p.status()).toMatchObject({ opened: false, signedMax: 0n }); // nothing opened, nothing signed
  // and payingFetch refuses a gateway offering only foreign requirements
  const foreign = await server({ receiver: stranger });
  const err = await caught(post(payingFetch(p), foreign.url, { ceiling: 10, cost: 1 }));
  expect(isPayerError(err, 'requirements_refused')).toBe(true);
});

test('per-call maximum and budget: the payer signs nothing above them', async () => {
  const s = await server();
  const p = payer({ maxPerCall: 100n, maxSpend: 250n });
  const fetch = payingFetch(p);
  const over = await caught(post(fetch, s.url, { ceiling: 101, cost: 1 }));
  expect(isPayerError(over, 'ceiling_above_max_per_call')).toBe(true);
  // the budget counts confirmed charges plus every ceiling in flight: 60 + 60 + 60 confirmed, the 4th could reach 280
  for (let i = 0; i < 3; i++) expect((await post(fetch, s.url, { ceiling: 100, cost: 60 })).status).toBe(200);
  const spent = await caught(post(fetch, s.url, { ceiling: 100, cost: 60 }));
  expect(isPayerError(spent, 'budget_exceeded')).toBe(true);
  expect((await post(fetch, s.url, { ceiling: 70, cost: 70 })).status).toBe(200); // 180 + 70 = 250 still fits
  expect(p.status()).toMatchObject({ confirmed: 250n, spent: 250n });
  expect(p.status().signedMax).toBeLessThanOrEqual(250n);
  // concurrent calls count each other's ceilings: two of 100 with 50 left cannot both be signed
  const q = payer({ maxSpend: 150n });
  const results = await Promise.allSettled([post(payingFetch(q), s.url, { ceiling: 100, cost: 1 }), post(payingFetch(q), s.url, { ceiling: 100, cost: 1 })]);
  expect(results.filter((r) => r.status === 'rejected' && isPayerError(r.reason, 'budget_exceeded'))).toHaveLength(1);
});

test('corrective 402: a receipt lost in transit is resynced within what was signed, never beyond', async () => {
  const s = await server({ dropAfterCommit: (b) => b.cost === 44 });
  const p = payer();
  const fetch = payingFetch(p);
  expect((await post(fetch, s.url, { ceiling: 100, cost: 10 })).status).toBe(200);
  await expect(post(fetch, s.url, { ceiling: 100, cost: 44 })).rejects.toThrow(); // charged, but the answer never came
  expect(p.status().confirmed).toBe(10n);
  // the next voucher (10 + 100) does not cover 54 charged + 100: the gate answers a corrective 402, the payer resyncs
  const res = await post(fetch, s.url, { ceiling: 100, cost: 5 });
  expect(res.status).toBe(200);
  expect(p.status()).toMatchObject({ confirmed: 59n, inFlight: 0n });
  expect((await s.ledger.channel(p.channelId))?.charged).toBe(59n);

  // a corrective 402 claiming more than any voucher the payer signed is refused, and stops the payer
  const claim = (charged: bigint): PaymentRequired => {
    const required = s.gate.requirements('test/call', 1n).accepts[0]!;
    return { x402Version: 2, resource: { url: 'test/call' }, accepts: [{ ...required, extra: { ...required.extra, channelState: { channelId: p.channelId, charged: charged.toString(), reserved: '0', signedMax: '0', deposited: '0' } } }] };
  };
  expect(p.resync(claim(20n))).toEqual({ adopted: false, lost: 0n, confirmed: 59n }); // stale: below what receipts confirmed
  const err = await caught(() => p.resync(claim(p.status().signedMax + 1n)));
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as Error).message).toMatch(/more than any voucher this payer signed/);
  expect(isPayerError(await caught(p.pay(claim(0n).accepts[0]!)), 'payer_stopped')).toBe(true);
});

test('a call cut by a crashed replica leaves its reservation held: after one corrective 402 the vouchers cover it, so calls go on', async () => {
  const s = await server({ dropBeforeCommit: (b) => b.cost === 44 });
  const p = payer();
  const fetch = payingFetch(p);
  expect((await post(fetch, s.url, { ceiling: 100, cost: 10 })).status).toBe(200);
  await expect(post(fetch, s.url, { ceiling: 100, cost: 44 })).rejects.toThrow(); // reserved, then no answer at all
  // 10 + 100 does not cover 10 charged + 100 still reserved + 100: the gate corrects, the payer holds the orphan's 100.
  const res = await post(fetch, s.url, { ceiling: 100, cost: 5 });
  expect(res.status).toBe(200);
  expect(p.status()).toMatchObject({ confirmed: 15n, inFlight: 0n });
  expect(await s.ledger.channel(p.channelId)).toMatchObject({ charged: 15n, reserved: 100n });
  expect(p.status().signedMax).toBe(210n); // never more than charged + the orphan's ceiling + the call's own
  expect((await post(fetch, s.url, { ceiling: 100, cost: 5 })).status).toBe(200); // and the next call needs no correction
  expect(s.corrections).toBe(1);
});

test('the retry of a call cut by a dead replica waits out payment_in_progress and is served once, under the same key', async () => {
  // The replica that admitted the first attempt died at once: nothing renews its reservation, which lapses in 1.5 s.
  const deadReplica = { expiresAt: () => Date.now() + 1_500, hold() {}, drop() {}, renew: async () => {}, held: 0 };
  let drops = 0;
  const s = await server({ leases: deadReplica, dropBeforeCommit: (b) => b.cost === 44 && drops++ === 0 });
  const p = payer();
  const fetch = payingFetch(p);
  const keyed = (body: PaidCallBody) => fetch(s.url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'idempotency-key': 'cut-1' } });
  expect((await post(fetch, s.url, { ceiling: 100, cost: 10 })).status).toBe(200);
  await expect(keyed({ ceiling: 100, cost: 44 })).rejects.toThrow(); // admitted, then no answer at all
  const started = Date.now();
  const res = await keyed({ ceiling: 100, cost: 44 }); // the app's retry: refused payment_in_progress until the lapse
  expect(res.status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  expect(await s.ledger.receipt('cut-1')).toMatchObject({ charged: 44n });
  expect(await s.ledger.channel(p.channelId)).toMatchObject({ charged: 54n, reserved: 0n });
  expect(s.served).toBe(2);
  // With waiting turned off the same answer reaches the app as it is.
  drops = 0;
  const impatient = payingFetch(p, globalThis.fetch, { inProgressWaitMs: 0 });
  const cut = () => impatient(s.url, { method: 'POST', body: JSON.stringify({ ceiling: 100, cost: 44 }), headers: { 'content-type': 'application/json', 'idempotency-key': 'cut-2' } });
  await expect(cut()).rejects.toThrow();
  const refused = await cut();
  expect(refused.status).toBe(409);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('payment_in_progress');
});

test('auto top-up: a call the remaining deposit cannot cover tops the channel up first (real anvil)', async () => {
  const s = await server();
  const fixed = payer({ deposit: 250n });
  const fetchFixed = payingFetch(fixed);
  for (let i = 0; i < 2; i++) expect((await post(fetchFixed, s.url, { ceiling: 100, cost: 100 })).status).toBe(200);
  expect(isPayerError(await caught(post(fetchFixed, s.url, { ceiling: 100, cost: 100 })), 'deposit_insufficient')).toBe(true);

  const auto = payer({ deposit: 250n, autoTopUp: 500n });
  const fetch = payingFetch(auto);
  for (let i = 0; i < 5; i++) expect((await post(fetch, s.url, { ceiling: 100, cost: 100 })).status).toBe(200);
  // the 3rd call needed 300 > 250: one top-up of 500; the 5th needed 500 ≤ 750
  expect(await getChannel(payerWallet.publicClient, { contractAddress, channelId: auto.channelId })).toMatchObject({ deposited: 750n });
  expect(auto.status()).toMatchObject({ deposited: 750n, confirmed: 500n });
  // a ceiling beyond one auto top-up step is refused, not topped up for
  expect(isPayerError(await caught(post(fetch, s.url, { ceiling: 1_000, cost: 1 })), 'deposit_insufficient')).toBe(true);
  expect((await getChannel(payerWallet.publicClient, { contractAddress, channelId: auto.channelId })).deposited).toBe(750n);
  // explicit top-up
  await auto.topUp(1_000n);
  expect((await getChannel(payerWallet.publicClient, { contractAddress, channelId: auto.channelId })).deposited).toBe(1_750n);
});

test('a resumed channel (same salt and session key): charges since the last claim resync only within what was signed before', async () => {
  const s = await server();
  const sessionKey = privateKeyToAccount(generatePrivateKey());
  const salt = `0x${'11'.repeat(32)}` as const;
  const first = payer({ sessionKey, salt });
  for (const cost of [90, 90]) expect((await post(payingFetch(first), s.url, { ceiling: 100, cost })).status).toBe(200);
  const signed = first.status().signedMax;

  const resumed = payer({ sessionKey, salt, deposit: 1n, previouslySigned: signed });
  expect(resumed.channelId).toBe(first.channelId);
  expect(await resumed.open()).toMatchObject({ opened: true, deposited: 100_000n, confirmed: 0n, signedMax: signed });
  // its first voucher (0 + 100) is short of the 180 charged: corrective 402, resync adopts 180 (≤ signed), retry
  expect((await post(payingFetch(resumed), s.url, { ceiling: 100, cost: 5 })).status).toBe(200);
  expect(resumed.status()).toMatchObject({ confirmed: 185n, spent: 185n });

  // without the earlier run's record, 185 charged is more than this payer ever signed (its one voucher: 100): refused
  const forgetful = payer({ sessionKey, salt, deposit: 1n });
  const err = await caught(post(payingFetch(forgetful), s.url, { ceiling: 100, cost: 5 }));
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as Error).message).toMatch(/more than any voucher this payer signed/);
  expect((await s.ledger.channel(first.channelId))?.charged).toBe(185n);

  // after the payer rotates the channel's authorizer, the old session key cannot resume it
  const next = createSessionKey();
  expect((await payer({ sessionKey, salt }).open()).opened).toBe(true); // before the rotation: still its key
  await rotateAuthorizer(payerWallet.walletClient, payerWallet.publicClient, { contractAddress, config: first.config, newAuthorizer: next.address });
  const testClient = createTestClient({ mode: 'anvil', transport: http(dev.rpcUrl) });
  await testClient.increaseTime({ seconds: 901 });
  await testClient.mine({ blocks: 1 });
  expect(isPayerError(await caught(payer({ sessionKey, salt }).open()), 'session_key_not_authorizer')).toBe(true);
});

test('a call that fails without a charge shrinks what can explain a gap: fail() then catches the jump', async () => {
  const s = await server();
  const p = payer();
  const requirements = s.gate.requirements('test/call', 100n).accepts[0]!;
  const a = await p.pay(requirements);
  const b = await p.pay(requirements);
  const receipt = (charged: bigint, cumulative: bigint, requestId: string) => Buffer.from(JSON.stringify({
    success: true, transaction: '', network: p.network, payer: p.config.payer,
    extra: { requestId, chargedAmount: charged.toString(), channelState: { channelId: p.channelId, charged: cumulative.toString(), reserved: '0', signedMax: '0', deposited: '0' } },
  })).toString('base64');
  // b says the total went 50 → 60: a (ceiling 100, still in flight) could have been charged those 50 first
  expect(p.settle(b.handle, receipt(10n, 60n, 'b'))).toMatchObject({ charged: 10n, cumulative: 60n });
  const err = await caught(() => p.fail(a.handle)); // a was never charged: 50 units nobody accounts for
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as Error).message).toMatch(/jumped by 50/);
  expect(isPayerError(await caught(p.pay(requirements)), 'payer_stopped')).toBe(true);
});

test('a handle is only an id: a copy claiming a larger ceiling does not loosen the check', async () => {
  const s = await server();
  const p = payer();
  const { handle } = await p.pay(s.gate.requirements('test/call', 100n).accepts[0]!);
  const receipt = Buffer.from(JSON.stringify({
    success: true, transaction: '', network: p.network, payer: p.config.payer,
    extra: { requestId: 'x', chargedAmount: '500', channelState: { channelId: p.channelId, charged: '500', reserved: '0', signedMax: '0', deposited: '0' } },
  })).toString('base64');
  const err = await caught(() => p.settle({ ...handle, ceiling: 10_000n }, receipt));
  expect((err as Error).message).toMatch(/charged 500, above this call's ceiling 100/);
});

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
