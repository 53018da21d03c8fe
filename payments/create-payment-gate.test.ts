/**
 * The payment gate against a real anvil and the SQLite ledger (issue #11 §5): 100 parallel paid calls on one channel
 * charge exactly, and every bad payment is refused with its own code — no payment, malformed, forged, wrong chain,
 * over the deposit, a voucher short of what is charged (corrective 402 with the channel's state), a closing channel,
 * a replayed request id (the stored receipt, not a second charge).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { toHex, type Address, type Hex } from 'viem';
import {
  channelId, connectChain, DEV_ACCOUNTS, deployDevPayments, depositChannel, getChannel, initiateWithdraw, signVoucher, startDevChain,
  type ChainConnection, type ChannelConfig, type DevChain,
} from '../chain';
import { createPaymentGate, type PaidAdmission, type PaymentGate } from './create-payment-gate';
import { openSqliteLedger } from './open-sqlite-ledger';
import type { PaymentLedger } from './payment-ledger';
import { isPaymentError, type PaymentError } from './payment-error';
import { decodeX402, encodeX402, X402_VERSION, type PaymentRequired } from './x402-messages';

const DELAY = 3600;
let dir: string;
let dev: DevChain;
let payer: ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };
let contractAddress: Address;
let token: Address;
let ledger: PaymentLedger;
let gate: PaymentGate;
const receiver = DEV_ACCOUNTS[2].address;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-gate-'));
  dev = await startDevChain({ dataDir: dir });
  const owner = await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50, retryCount: 0 });
  const deployed = await deployDevPayments(owner.walletClient!, owner.publicClient, { fund: [DEV_ACCOUNTS[1].address] });
  contractAddress = deployed.paymentChannelsAddress;
  token = deployed.tokenAddress;
  payer = (await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[1].privateKey, pollingInterval: 50, retryCount: 0 })) as typeof payer;
  ledger = await openSqliteLedger({ file: path.join(dir, 'ledger.sqlite') });
  gate = createPaymentGate({
    ledger, deployment: { chainId: dev.chainId, contractAddress }, receiver, token, minWithdrawDelaySeconds: 900, chainCacheMs: 0,
    readChannel: async (id) => ({ ...(await getChannel(payer.publicClient, { contractAddress, channelId: id })), block: await payer.publicClient.getBlockNumber() }),
  });
}, 120_000);
afterAll(async () => {
  await ledger?.close();
  await dev?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function openChannel(amount: bigint) {
  const authorizer = privateKeyToAccount(generatePrivateKey());
  const config: ChannelConfig = { payer: payer.account!, payerAuthorizer: authorizer.address, receiver, token, withdrawDelay: DELAY, salt: toHex(crypto.getRandomValues(new Uint8Array(32))) };
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config, amount });
  const id = channelId({ chainId: dev.chainId, contractAddress, config });
  const header = async (max: bigint, opts: { chainId?: number; signer?: typeof authorizer } = {}) => {
    const v = await signVoucher(opts.signer ?? authorizer, { chainId: opts.chainId ?? dev.chainId, contractAddress, channelId: id, maxClaimableAmount: max });
    return encodeX402({
      x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: `eip155:${dev.chainId}` },
      payload: { config, voucher: { channelId: v.channelId, maxClaimableAmount: max, signature: v.signature } },
    });
  };
  return { config, id, header };
}

const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('admitted'); }, (e: unknown) => e as PaymentError);
let n = 0;
const rid = () => `req-${process.pid}-${n++}`;

describe('createPaymentGate (anvil + SQLite ledger)', () => {
  test('100 parallel paid calls on one channel: each reserves its ceiling, the charged total is exactly the sum of actual costs', async () => {
    const ch = await openChannel(1_000_000n);
    const ceiling = 1_000n;
    // One voucher covering all 100 ceilings, as a client with 100 calls in flight signs it.
    const header = await ch.header(100n * ceiling);
    const actuals = Array.from({ length: 100 }, (_, i) => BigInt((i * 37) % 1000));
    const admissions = await Promise.all(actuals.map(() => gate.admit({ requestId: rid(), resource: 'tee:toy-chat-kjv', ceiling, header })));
    expect(admissions.every((a) => a.kind === 'paid')).toBe(true);
    // The 101st does not fit under the voucher while the 100 are in flight.
    const over = await refusal(gate.admit({ requestId: rid(), resource: 'tee:toy-chat-kjv', ceiling, header }));
    expect(over.code).toBe('voucher_insufficient');
    await Promise.all((admissions as PaidAdmission[]).map((a, i) => a.commit(actuals[i]!)));
    const state = await ledger.channel(ch.id);
    expect(state!.charged).toBe(actuals.reduce((a, b) => a + b, 0n));
    expect(state!.reserved).toBe(0n);
    expect(state!.charged).toBeLessThanOrEqual(state!.signedMax);
  }, 60_000);

  test('a retried request id gets its stored receipt and is not charged again', async () => {
    const ch = await openChannel(10_000n);
    const requestId = rid();
    const first = (await gate.admit({ requestId, resource: 'tee:m', ceiling: 500n, header: await ch.header(500n) })) as PaidAdmission;
    const { receipt, response } = await first.commit(321n);
    expect(response).toMatchObject({ success: true, transaction: '', extra: { requestId, chargedAmount: '321', channelState: { charged: '321' } } });
    const again = await gate.admit({ requestId, resource: 'tee:m', ceiling: 500n, header: await ch.header(821n) });
    expect(again).toMatchObject({ kind: 'replay', receipt });
    expect((await ledger.channel(ch.id))!.charged).toBe(321n);
  }, 30_000);

  test('no payment, malformed, forged, wrong chain: each refused with its own code', async () => {
    const ch = await openChannel(10_000n);
    const call = (header: string | undefined) => refusal(gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 100n, header }));
    const none = await call(undefined);
    expect(none.code).toBe('payment_required');
    const required = decodeX402<PaymentRequired>(encodeX402(none.paymentRequired!), 'PAYMENT-REQUIRED');
    expect(required.accepts[0]).toMatchObject({ scheme: 'veil-channel', network: `eip155:${dev.chainId}`, amount: '100', payTo: receiver, extra: { contract: contractAddress } });
    expect((await call('not base64!')).code).toBe('payment_invalid');
    expect((await call(Buffer.from('{"x402Version":2}').toString('base64'))).code).toBe('payment_invalid');
    expect((await call(await ch.header(100n, { signer: privateKeyToAccount(generatePrivateKey()) }))).code).toBe('voucher_signature_invalid');
    expect((await call(await ch.header(100n, { chainId: 1 }))).code).toBe('voucher_signature_invalid'); // signed for chain 1: recovers someone else
    expect((await ledger.channel(ch.id))?.charged ?? 0n).toBe(0n);
  }, 30_000);

  test('a voucher short of charged + ceiling gets a corrective 402 with the channel state; a voucher past the deposit: deposit_insufficient', async () => {
    const ch = await openChannel(1_000n);
    const a = (await gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 400n, header: await ch.header(400n) })) as PaidAdmission;
    await a.commit(300n);
    const stale = await refusal(gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 400n, header: await ch.header(400n) }));
    expect(stale.code).toBe('voucher_insufficient');
    expect(stale.paymentRequired!.accepts[0]!.extra.channelState).toMatchObject({ channelId: ch.id, charged: '300', reserved: '0' });
    // Resynced: 300 charged + 400 ceiling.
    const b = (await gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 400n, header: await ch.header(700n) })) as PaidAdmission;
    await b.release(); // failed call: nothing charged
    expect((await ledger.channel(ch.id))!.charged).toBe(300n);
    const over = await refusal(gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 800n, header: await ch.header(1_100n) }));
    expect(over.code).toBe('deposit_insufficient');
  }, 30_000);

  test('a channel whose payer started a withdrawal takes no new calls; an unopened channel is channel_not_found', async () => {
    const ch = await openChannel(1_000n);
    await initiateWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
    const closing = await refusal(gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 10n, header: await ch.header(10n) }));
    expect(closing.code).toBe('channel_closing');
    const authorizer = privateKeyToAccount(generatePrivateKey());
    const config: ChannelConfig = { payer: payer.account!, payerAuthorizer: authorizer.address, receiver, token, withdrawDelay: DELAY, salt: `0x${'ab'.repeat(32)}` as Hex };
    const id = channelId({ chainId: dev.chainId, contractAddress, config });
    const v = await signVoucher(authorizer, { chainId: dev.chainId, contractAddress, channelId: id, maxClaimableAmount: 10n });
    const header = encodeX402({ x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: `eip155:${dev.chainId}` }, payload: { config, voucher: { channelId: id, maxClaimableAmount: 10n, signature: v.signature } } });
    const unknown = await refusal(gate.admit({ requestId: rid(), resource: 'tee:m', ceiling: 10n, header }));
    expect(isPaymentError(unknown, 'channel_not_found')).toBe(true);
  }, 30_000);
});
