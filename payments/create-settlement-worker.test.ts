/**
 * Settlement against a real anvil and the SQLite ledger: what the chain pays the receiver equals what the ledger
 * charged; a claim whose gateway crashed after sending is settled from its recorded hash on restart, never claimed
 * twice; a payer's withdrawal gets everything claimed at once, before finalize.
 */
import path from 'node:path';
import { erc20Abi } from 'viem';
import { claimVouchers, getChannel, initiateWithdraw, type VoucherClaim } from '../chain';
import { connectDevWallet, openTestChannel, startPaymentsChain, type PaymentsChain, type TestChannel, type TestWallet } from '../test/support/paid-channel';
import { createPaymentGate, type PaidAdmission, type PaymentGate } from './create-payment-gate';
import { createSettlementWorker, type SettlementWorkerOptions } from './create-settlement-worker';
import { openSqliteLedger } from './open-sqlite-ledger';

let chain: PaymentsChain;
let receiverWallet: TestWallet;

beforeAll(async () => {
  chain = await startPaymentsChain();
  receiverWallet = await connectDevWallet(chain.dev, 2);
}, 120_000);
afterAll(async () => {
  await chain?.stop();
});

const balance = () => chain.payer.publicClient.readContract({ address: chain.token, abi: erc20Abi, functionName: 'balanceOf', args: [chain.receiver] });
const onchain = (id: `0x${string}`) => getChannel(chain.payer.publicClient, { contractAddress: chain.contract, channelId: id });

async function setup(file: string) {
  const ledger = await openSqliteLedger({ file: path.join(chain.dir, file) });
  const gate = createPaymentGate({
    ledger, deployment: { chainId: chain.dev.chainId, contractAddress: chain.contract }, receiver: chain.receiver, token: chain.token, minWithdrawDelaySeconds: 900, chainCacheMs: 0,
    readChannel: async (id) => ({ ...(await onchain(id)), block: await chain.payer.publicClient.getBlockNumber() }),
  });
  return { ledger, gate };
}

const openChannel = (amount: bigint) => openTestChannel({ payer: chain.payer, chainId: chain.dev.chainId, contract: chain.contract, token: chain.token, receiver: chain.receiver, amount });

/** Charges `actuals` as sequential calls of ceiling 1,000 each (voucher = charged so far + ceiling, as a payer signs it). */
async function charge(gate: PaymentGate, ch: TestChannel, actuals: bigint[]) {
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
    contractAddress: chain.contract, claims, receiptTimeoutMs: 30_000,
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
      expect((await onchain(ch.id)).claimed).toBe((await ledger.channel(ch.id))!.charged);
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
    // The crashed round looked for its receipt at once; on a loaded machine it may not be there yet, and the claim
    // stays pending. Either way the restarted worker settles it from the recorded hash instead of claiming again.
    const restarted = createSettlementWorker({ ledger, claim: chainClaim(), receiptOf, thresholdAmount: 1n, intervalMs: 3_600_000 });
    expect((await restarted.run('all')).claimed).toBe(0);
    await restarted.stop();
    expect(await ledger.pendingClaims()).toHaveLength(0);
    expect((await balance()) - before).toBe(charged);
    expect((await onchain(ch.id)).claimed).toBe(charged);
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
    expect((await onchain(small.id)).claimed).toBe(0n);
    await initiateWithdraw(chain.payer.walletClient, chain.payer.publicClient, { contractAddress: chain.contract, config: small.config });
    await worker.withdrawalStarted(small.id);
    expect((await onchain(small.id)).claimed).toBe(5n);
    await worker.stop();
    await ledger.close();
  }, 90_000);
});
