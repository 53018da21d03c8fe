/**
 * readChannelEvents and confirmedBlock against a real anvil: every channel event decoded in chain order with its block,
 * only this contract's, and nothing from the last `depth` blocks reported as confirmed.
 */
import type { Address, Hash } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { ChannelConfig } from './channel-config';
import { channelId } from './channel-id';
import { claimVouchers } from './claim-vouchers';
import { closeChannel } from './close-channel';
import { confirmedBlock } from './confirmed-block';
import { deployPaymentChannels } from './deploy-payment-channels';
import { depositChannel } from './deposit-channel';
import { ChainError } from './errors';
import { initiateWithdraw } from './initiate-withdraw';
import { readChannelEvents, type ChannelEvent } from './read-channel-events';
import { rotateAuthorizer } from './rotate-authorizer';
import { signVoucher } from './sign-voucher';
import { topUpChannel } from './top-up-channel';
import { randomHex, startPaymentsTestChain, type Party, type TestChain } from './testing/start-test-chain';

let t: TestChain;
let payer: Party;
let receiver: Party;
let contractAddress: Address;
let token: Address;
let chainId: number;

beforeAll(async () => {
  ({ t, payer, receiver, contractAddress, token, chainId } = await startPaymentsTestChain());
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ChainError);
  expect((err as ChainError).code).toBe(code);
}

function newChannel(at: Address = contractAddress) {
  const authorizer = privateKeyToAccount(generatePrivateKey());
  const config: ChannelConfig = { payer: payer.account, payerAuthorizer: authorizer.address, receiver: receiver.account, token, withdrawDelay: 900, salt: randomHex(32) };
  return { config, authorizer, id: channelId({ chainId, contractAddress: at, config }) };
}

const head = () => t.owner.publicClient.getBlockNumber({ cacheTime: 0 });
const blockOf = async (hash: Hash) => (await t.owner.publicClient.getTransactionReceipt({ hash })).blockNumber;

test('every channel event comes back decoded, in chain order, with the block it was mined in', async () => {
  const fromBlock = (await head()) + 1n;
  const ch = newChannel();
  const opened = await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount: 1_000n });
  const topUp = await topUpChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount: 500n });
  const next = privateKeyToAccount(generatePrivateKey());
  const rotated = await rotateAuthorizer(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, newAuthorizer: next.address });
  const voucher = await signVoucher(next, { chainId, contractAddress, channelId: ch.id, maxClaimableAmount: 600n });
  const claimed = await claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [{ config: ch.config, voucher, totalClaimed: 420n }] });
  const withdraw = await initiateWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
  const closed = await closeChannel(receiver.walletClient, receiver.publicClient, { contractAddress, config: ch.config });

  const events = await readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock, toBlock: await head() });
  const mine = events.filter((e) => e.channelId === ch.id);
  expect(mine.map((e) => e.eventName)).toEqual(['ChannelOpened', 'Deposited', 'Deposited', 'AuthorizerRotationStarted', 'Claimed', 'WithdrawInitiated', 'ChannelClosed']);
  expect(mine.map((e) => e.blockNumber)).toEqual([opened, opened, topUp, rotated, claimed, withdraw, closed].map((w) => w.blockNumber));
  expect(mine[0]!.transactionHash).toBe(opened.transactionHash);
  expect(mine[0]!.args).toMatchObject({ payer: payer.account, receiver: receiver.account, payerAuthorizer: ch.authorizer.address, token, withdrawDelay: 900, salt: ch.config.salt });
  expect(mine[2]!.args).toMatchObject({ amount: 500n, deposited: 1_500n });
  expect(mine[3]!.args).toMatchObject({ from: ch.authorizer.address, to: next.address });
  expect(mine[4]!.args).toMatchObject({ receiver: receiver.account, amount: 420n, claimed: 420n });
  expect(mine[6]!.args).toMatchObject({ claimed: 420n, refunded: 1_080n, cooperative: true });
  const block = await t.owner.publicClient.getBlock({ blockNumber: closed.blockNumber });
  expect(mine[6]!.blockHash).toBe(block.hash);
  // strictly increasing (block, log index), and a narrower range returns just its part
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1]!, events[i]!];
    expect(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex)).toBe(true);
  }
  const middle = await readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock: topUp.blockNumber, toBlock: claimed.blockNumber });
  expect(middle.map((e) => e.eventName)).toEqual(['Deposited', 'AuthorizerRotationStarted', 'Claimed']);
});

test('only the given contract’s events are returned', async () => {
  const other = (await deployPaymentChannels(t.owner.walletClient, t.owner.publicClient)).address;
  const fromBlock = (await head()) + 1n;
  const here = newChannel();
  const there = newChannel(other);
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress: other, config: there.config, amount: 10n });
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: here.config, amount: 10n });
  const events = await readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock, toBlock: await head() });
  expect(new Set(events.map((e: ChannelEvent) => e.channelId))).toEqual(new Set([here.id]));
});

test('confirmedBlock is head − depth, never negative, and an event in the last `depth` blocks is not yet confirmed', async () => {
  const depth = 3;
  const fromBlock = (await head()) + 1n;
  const ch = newChannel();
  const { transactionHash } = await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount: 10n });
  const minedAt = await blockOf(transactionHash);
  expect(await confirmedBlock(t.owner.publicClient, 0)).toBe(await head());
  expect(await confirmedBlock(t.owner.publicClient, depth)).toBe((await head()) - BigInt(depth));
  const readConfirmed = async () => {
    const toBlock = await confirmedBlock(t.owner.publicClient, depth);
    return toBlock < fromBlock ? [] : readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock, toBlock });
  };
  expect(await readConfirmed()).toEqual([]); // mined in the head block: 0 confirmations on top
  await t.testClient.mine({ blocks: depth - 1 });
  expect(await readConfirmed()).toEqual([]); // depth − 1 blocks on top: still inside the window
  await t.testClient.mine({ blocks: 1 });
  const confirmed = await readConfirmed();
  expect(confirmed.map((e) => e.eventName)).toEqual(['ChannelOpened', 'Deposited']);
  expect(confirmed.every((e) => e.blockNumber === minedAt)).toBe(true);
  expect(await confirmedBlock(t.owner.publicClient, 10n ** 9n)).toBe(0n);
  expect(await confirmedBlock(t.owner.publicClient, Number.MAX_SAFE_INTEGER)).toBe(0n);
});

test('bad ranges, bad depths and an address without the contract are refused with their codes', async () => {
  await expectCode(confirmedBlock(t.owner.publicClient, -1), 'invalid_argument');
  await expectCode(confirmedBlock(t.owner.publicClient, 1.5), 'invalid_argument');
  await expectCode(confirmedBlock(t.owner.publicClient, -1n), 'invalid_argument');
  await expectCode(readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock: 5n, toBlock: 4n }), 'invalid_argument');
  await expectCode(readChannelEvents(t.owner.publicClient, { contractAddress, fromBlock: -1n, toBlock: 4n }), 'invalid_argument');
  await expectCode(readChannelEvents(t.owner.publicClient, { contractAddress: payer.account, fromBlock: 0n, toBlock: await head() }), 'registry_not_found');
});
