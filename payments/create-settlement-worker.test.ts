/**
 * Settlement against a real anvil and the SQLite ledger: what the chain pays the receiver equals what the ledger
 * charged; a claim whose gateway crashed after sending is settled from its recorded hash on restart, never claimed
 * twice; a payer's withdrawal gets everything claimed at once, before finalize.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { erc20Abi, toHex, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  channelId, claimVouchers, connectChain, DEV_ACCOUNTS, deployDevPayments, depositChannel, getChannel, initiateWithdraw, signVoucher, startDevChain,
  type ChainConnection, type ChannelConfig, type DevChain, type VoucherClaim,
} from '../chain';
import { createPaymentGate, type PaidAdmission, type PaymentGate } from './create-payment-gate';
import { createSettlementWorker, type SettlementWorkerOptions } from './create-settlement-worker';
import { openSqliteLedger } from './open-sqlite-ledger';
import type { PaymentLedger } from './payment-ledger';
import { encodeX402, X402_VERSION } from './x402-messages';

type Wallet = ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };
let dir: string;
let dev: DevChain;
let payer: Wallet;
let receiverWallet: Wallet;
let contractAddress: Address;
let token: Address;
const receiver = DEV_ACCOUNTS[2].address;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-settle-'));
  dev = await startDevChain({ dataDir: dir });
  const connect = async (i: 0 | 1 | 2) => (await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[i].privateKey, pollingInterval: 50, retryCount: 0 })) as Wallet;
  const owner = await connect(0);
  const deployed = await deployDevPayments(owner.walletClient, owner.publicClient, { fund: [DEV_ACCOUNTS[1].address] });
  contractAddress = deployed.paymentChannelsAddress;
  token = deployed.tokenAddress;
  payer = await connect(1);
  receiverWallet = await connect(2);
}, 120_000);
afterAll(async () => {
  await dev?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const balance = () => payer.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [receiver] });

async function setup(file: string) {
  const ledger = await openSqliteLedger({ file: path.join(dir, file) });
  const gate = createPaymentGate({
    ledger, deployment: { chainId: dev.chainId, contractAddress }, receiver, token, minWithdrawDelaySeconds: 900, chainCacheMs: 0,
    readChannel: async (id) => ({ ...(await getChannel(payer.publicClient, { contractAddress, channelId: id })), block: await payer.publicClient.getBlockNumber() }),
  });
  return { ledger, gate };
}

async function openChannel(amount: bigint) {
  const authorizer = privateKeyToAccount(generatePrivateKey());
  const config: ChannelConfig = { payer: payer.account!, payerAuthorizer: authorizer.address, receiver, token, withdrawDelay: 3600, salt: toHex(crypto.getRandomValues(new Uint8Array(32))) };
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config, amount });
  const id = channelId({ chainId: dev.chainId, contractAddress, config });
  const header = async (max: bigint) => {
    const v = await signVoucher(authorizer, { chainId: dev.chainId, contractAddress, channelId: id, maxClaimableAmount: max });
    return encodeX402({ x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: `eip155:${dev.chainId}` }, payload: { config, voucher: { channelId: id, maxClaimableAmount: max, signature: v.signature } } });
  };
  return { config, id, header };
}

/** Charges `actuals` as sequential calls of ceiling 1,000 each (voucher = charged so far + ceiling, as a payer signs it). */
async function charge(gate: PaymentGate, ch: Awaited<ReturnType<typeof openChannel>>, actuals: bigint[]) {
  let charged = 0n;
  for (const [i, actual] of actuals.entries()) {
    const a = (await gate.admit({ requestId: `${ch.id}-${i}`, resource: 'fhe:m', ceiling: 1_000n, header: await ch.header(charged + 1_000n) })) as PaidAdmission;
    await a.commit(actual);
    charged += actual;
  }
  return charged;
}

const chainClaim = (onSentExtra?: () => void): SettlementWorkerOptions['claim'] => async (claims: VoucherClaim[], onSent) => {
  await claimVouchers(receiverWallet.walletClient, receiverWallet.publicClient, {
    contractAddress, claims, receiptTimeoutMs: 30_000,
    onSent: async (hash) => {
      await onSent(hash);
      onSentExtra?.();
    },
  });
};
const receiptOf: SettlementWorkerOptions['receiptOf'] = async (hash) => {
  const r = await receiverWallet.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
  return r ? (r.status === 'success' ? 'mined' : 'reverted') : 'unknown';
};

describe('createSettlementWorker (anvil + SQLite ledger)', () => {
  test('claims exactly the charged totals of every channel in one batch: paid out = charged', async () => {
    const { ledger, gate } = await setup('a.sqlite');
    const before = await balance();
    // One after another: the deposits come from one account and would race for its nonce.
    const channels = [await openChannel(100_000n), await openChannel(100_000n), await openChannel(100_000n)];
    let total = 0n;
    for (const [k, ch] of channels.entries()) total += await charge(gate, ch, [120n + BigInt(k), 999n, 1n]);
    const worker = createSettlementWorker({ ledger, claim: chainClaim(), receiptOf, thresholdAmount: 1n, intervalMs: 3_600_000 });
    const round = await worker.run('all');
    expect(round).toEqual({ claimed: 3, amount: total });
    expect((await balance()) - before).toBe(total);
    for (const ch of channels) {
      const onchain = await getChannel(payer.publicClient, { contractAddress, channelId: ch.id });
      expect(onchain.claimed).toBe((await ledger.channel(ch.id))!.charged);
    }
    expect(await ledger.claimable(10)).toEqual([]);
    expect((await worker.run('all')).claimed).toBe(0); // nothing new: no transaction
    await worker.stop();
    await ledger.close();
  }, 90_000);

  test('a gateway that died after sending its claim settles it from the recorded hash on restart and does not claim twice', async () => {
    const { ledger, gate } = await setup('b.sqlite');
    const ch = await openChannel(50_000n);
    const charged = await charge(gate, ch, [300n, 200n]);
    const before = await balance();
    const crashing = createSettlementWorker({ ledger, claim: chainClaim(() => { throw new Error('killed after sending'); }), receiptOf, thresholdAmount: 1n, intervalMs: 3_600_000 });
    await crashing.run('all');
    await crashing.stop();
    expect(await ledger.pendingClaims()).toHaveLength(0); // the next round saw its receipt and settled it
    const restarted = createSettlementWorker({ ledger, claim: chainClaim(), receiptOf, thresholdAmount: 1n, intervalMs: 3_600_000 });
    expect((await restarted.run('all')).claimed).toBe(0);
    await restarted.stop();
    expect((await balance()) - before).toBe(charged);
    expect((await getChannel(payer.publicClient, { contractAddress, channelId: ch.id })).claimed).toBe(charged);
    await ledger.close();
  }, 90_000);

  test('threshold mode leaves small channels for later; a started withdrawal claims everything at once', async () => {
    const { ledger, gate } = await setup('c.sqlite');
    const small = await openChannel(10_000n);
    const big = await openChannel(10_000n);
    await charge(gate, small, [5n]);
    const bigCharged = await charge(gate, big, [900n, 900n]);
    const worker = createSettlementWorker({ ledger, claim: chainClaim(), receiptOf, thresholdAmount: 1_000n, intervalMs: 3_600_000 });
    expect((await worker.run('threshold')).amount).toBe(bigCharged);
    expect((await getChannel(payer.publicClient, { contractAddress, channelId: small.id })).claimed).toBe(0n);
    await initiateWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: small.config });
    await worker.withdrawalStarted(small.id);
    expect((await getChannel(payer.publicClient, { contractAddress, channelId: small.id })).claimed).toBe(5n);
    await worker.stop();
    await ledger.close();
  }, 90_000);
});
