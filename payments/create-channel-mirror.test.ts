/**
 * The chain mirror against a real anvil: a payer's withdrawal on a channel the ledger has charged on reaches the
 * ledger and triggers an immediate claim, but only once it is `depth` blocks deep; channels the ledger never saw are
 * skipped; a top-up is mirrored.
 */
import path from 'node:path';
import { createTestClient, http } from 'viem';
import { confirmedBlock, getChannel, initiateWithdraw, readChannelEvents, topUpChannel } from '../chain';
import { openTestChannel, startPaymentsChain, type PaymentsChain } from '../test/support/paid-channel';
import { createChannelMirror } from './create-channel-mirror';
import { createPaymentGate, type PaidAdmission } from './create-payment-gate';
import { openSqliteLedger } from './open-sqlite-ledger';

let chain: PaymentsChain;
beforeAll(async () => {
  chain = await startPaymentsChain();
}, 120_000);
afterAll(async () => {
  await chain?.stop();
});

test('a withdrawal is mirrored and claimed at once, only when confirmed; top-ups are mirrored; unknown channels skipped', async () => {
  const { payer, contract, token, receiver } = chain;
  const pub = payer.publicClient;
  const ledger = await openSqliteLedger({ file: path.join(chain.dir, 'mirror.sqlite') });
  const gate = createPaymentGate({
    ledger, deployment: { chainId: chain.dev.chainId, contractAddress: contract }, receiver, token, minWithdrawDelaySeconds: 900, chainCacheMs: 0,
    readChannel: async (id) => ({ ...(await getChannel(pub, { contractAddress: contract, channelId: id })), block: await pub.getBlockNumber() }),
  });
  const DEPTH = 2;
  const withdrawals: string[] = [];
  const mirror = createChannelMirror({
    ledger,
    confirmedBlock: () => confirmedBlock(pub, DEPTH),
    readEvents: (fromBlock, toBlock) => readChannelEvents(pub, { contractAddress: contract, fromBlock, toBlock }),
    readChannel: (channelId, block) => getChannel(pub, { contractAddress: contract, channelId, blockNumber: block }),
    onWithdrawal: async (channelId) => void withdrawals.push(channelId),
  });
  try {
    const known = await openTestChannel({ payer, chainId: chain.dev.chainId, contract, token, receiver, amount: 10_000n });
    const stranger = await openTestChannel({ payer, chainId: chain.dev.chainId, contract, token, receiver, amount: 10_000n });
    const a = (await gate.admit({ requestId: 'm-1', resource: 'fhe:m', ceiling: 500n, header: await known.header(500n) })) as PaidAdmission;
    await a.commit(400n);
    await mirror.poll(); // the first poll starts at the confirmed head

    await topUpChannel(payer.walletClient, pub, { contractAddress: contract, config: known.config, amount: 5_000n });
    await initiateWithdraw(payer.walletClient, pub, { contractAddress: contract, config: known.config });
    await initiateWithdraw(payer.walletClient, pub, { contractAddress: contract, config: stranger.config });
    // Not yet `DEPTH` deep: nothing reaches the ledger.
    await mirror.poll();
    expect(withdrawals).toEqual([]);
    expect((await ledger.channel(known.id))!.withdrawReadyAt).toBe(0);

    await createTestClient({ mode: 'anvil', transport: http(chain.dev.rpcUrl) }).mine({ blocks: DEPTH });
    const changed = await mirror.poll();
    expect(changed).toBe(1); // the known channel; the stranger's is not the ledger's
    expect(withdrawals).toEqual([known.id]);
    const mirrored = (await ledger.channel(known.id))!;
    expect(mirrored.deposited).toBe(15_000n);
    expect(mirrored.withdrawReadyAt).toBeGreaterThan(0);
    expect(await ledger.channel(stranger.id)).toBeUndefined();
    // A closing channel takes no new calls.
    const refused = await gate.admit({ requestId: 'm-2', resource: 'fhe:m', ceiling: 100n, header: await known.header(500n) }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'channel_closing' });
  } finally {
    await ledger.close();
  }
}, 120_000);
