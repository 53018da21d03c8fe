/**
 * VeilPaymentChannels end to end against a real anvil: open/top-up, batched claims, cumulative vouchers, every voucher
 * refusal with its custom error, the withdraw race, authorizer rotation and cooperative close.
 */
import { erc20Abi, parseEventLogs, parseSignature, type Address, type Hex, type LocalAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { veilDevTokenAbi } from './artifacts/veil-dev-token';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import type { ChannelConfig } from './channel-config';
import { channelId, toChannelConfigMessage } from './channel-id';
import { claimVouchers, type VoucherClaim } from './claim-vouchers';
import { closeChannel } from './close-channel';
import { deployDevPayments } from './deploy-dev-payments';
import { depositChannel } from './deposit-channel';
import { ChainError } from './errors';
import { finalizeWithdraw } from './finalize-withdraw';
import { getChannel } from './get-channel';
import { initiateWithdraw } from './initiate-withdraw';
import { rotateAuthorizer } from './rotate-authorizer';
import { signClose } from './sign-close';
import { signVoucher, type SignedVoucher } from './sign-voucher';
import { toChainError } from './to-chain-error';
import { topUpChannel } from './top-up-channel';
import { DEV_ACCOUNTS } from './dev-accounts';
import { randomHex, startPaymentsTestChain, type Party, type TestChain } from './testing/start-test-chain';

const DELAY = 15 * 60;
const DEV_KEY_2 = DEV_ACCOUNTS[2].privateKey; // the receiver (t.stranger)
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

const balanceOf = (who: Address) => t.owner.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [who] });

function newChannel(authorizer: LocalAccount = privateKeyToAccount(generatePrivateKey())) {
  const config: ChannelConfig = { payer: payer.account, payerAuthorizer: authorizer.address, receiver: receiver.account, token, withdrawDelay: DELAY, salt: randomHex(32) };
  return { config, authorizer, id: channelId({ chainId, contractAddress, config }) };
}

async function open(amount = 1_000n, allowance: 'approve' | 'permit' = 'approve') {
  const ch = newChannel();
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount, allowance });
  return ch;
}

const voucher = (ch: { id: Hex; authorizer: LocalAccount }, maxClaimableAmount: bigint) =>
  signVoucher(ch.authorizer, { chainId, contractAddress, channelId: ch.id, maxClaimableAmount });
/** A claim of the voucher's whole ceiling (what the receiver charged equals the ceiling). */
const full = (config: ChannelConfig, v: SignedVoucher): VoucherClaim => ({ config, voucher: v, totalClaimed: v.maxClaimableAmount });

async function advance(seconds: number) {
  await t.testClient.increaseTime({ seconds });
  await t.testClient.mine({ blocks: 1 });
}

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ChainError);
  expect((err as ChainError).code).toBe(code);
}

test('the off-chain channel id equals the contract’s', async () => {
  const { config, id } = newChannel();
  const onchain = await t.owner.publicClient.readContract({ address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'channelId', args: [toChannelConfigMessage(config)] });
  expect(id).toBe(onchain);
  // and the id is bound to the contract: the same config elsewhere is another channel
  expect(channelId({ chainId, contractAddress: payer.account, config })).not.toBe(id);
});

test('deposit opens, top-up adds, and one transaction claims three channels', async () => {
  const a = await open(1_000n, 'permit');
  const b = await open(1_000n);
  const c = await open(1_000n);
  await topUpChannel(payer.walletClient, payer.publicClient, { contractAddress, config: a.config, amount: 500n });
  expect(await getChannel(t.owner.publicClient, { contractAddress, config: a.config })).toMatchObject({ open: true, deposited: 1_500n, claimed: 0n, authorizer: a.authorizer.address });
  await expectCode(topUpChannel(payer.walletClient, payer.publicClient, { contractAddress, config: newChannel().config, amount: 1n }), 'channel_not_found');

  const before = await balanceOf(receiver.account);
  const claims = [
    full(a.config, await voucher(a, 1_200n)),
    full(b.config, await voucher(b, 300n)),
    full(c.config, await voucher(c, 50n)),
  ];
  const { transactionHash } = await claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims });
  const receipt = await t.owner.publicClient.getTransactionReceipt({ hash: transactionHash });
  expect(receipt.logs.filter((l) => l.address.toLowerCase() === token.toLowerCase())).toHaveLength(1); // one transfer for the batch
  expect((await balanceOf(receiver.account)) - before).toBe(1_550n);
  expect((await getChannel(t.owner.publicClient, { contractAddress, channelId: b.id })).claimed).toBe(300n);
});

test('claims are cumulative: each claim pays the increase, an older voucher pays nothing', async () => {
  const ch = await open();
  const v100 = await voucher(ch, 100n);
  const claim = (v: typeof v100) => claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(ch.config, v)] });
  const start = await balanceOf(receiver.account);
  await claim(v100);
  await claim(await voucher(ch, 250n));
  expect((await balanceOf(receiver.account)) - start).toBe(250n);
  await claim(v100); // replay of the older voucher: accepted as a no-op
  await claim(await voucher(ch, 250n)); // the same amount again: no-op
  expect((await balanceOf(receiver.account)) - start).toBe(250n);
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: ch.config })).claimed).toBe(250n);
});

test('forged, wrong-channel, wrong-domain and over-deposit vouchers are refused with their custom errors', async () => {
  const ch = await open(1_000n);
  const other = await open(1_000n);
  const claim = (config: ChannelConfig, v: Awaited<ReturnType<typeof voucher>>) =>
    claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(config, v)] });
  const stranger = privateKeyToAccount(generatePrivateKey());
  await expectCode(claim(ch.config, await signVoucher(stranger, { chainId, contractAddress, channelId: ch.id, maxClaimableAmount: 10n })), 'invalid_voucher_signature');
  await expectCode(claim(other.config, await voucher(ch, 10n)), 'invalid_voucher_signature'); // signed for ch, submitted for other
  await expectCode(claim(ch.config, await signVoucher(ch.authorizer, { chainId: 1, contractAddress, channelId: ch.id, maxClaimableAmount: 10n })), 'invalid_voucher_signature');
  await expectCode(claim(ch.config, await signVoucher(ch.authorizer, { chainId, contractAddress: token, channelId: ch.id, maxClaimableAmount: 10n })), 'invalid_voucher_signature');
  await expectCode(claim(ch.config, await voucher(ch, 1_001n)), 'voucher_exceeds_deposit');
  await expectCode(claimVouchers(payer.walletClient, payer.publicClient, { contractAddress, claims: [full(ch.config, await voucher(ch, 10n))] }), 'not_receiver');
  // one bad entry fails the whole batch: nothing was paid out
  await expectCode(
    claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(other.config, await voucher(other, 5n)), full(ch.config, await voucher(ch, 2_000n))] }),
    'voucher_exceeds_deposit',
  );
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: other.config })).claimed).toBe(0n);
});

test('withdraw race: the receiver claims during the delay, finalize refunds only the rest', async () => {
  const ch = await open(1_000n);
  const v = await voucher(ch, 400n);
  await expectCode(initiateWithdraw(receiver.walletClient, receiver.publicClient, { contractAddress, config: ch.config }), 'not_payer');
  await initiateWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
  const state = await getChannel(t.owner.publicClient, { contractAddress, config: ch.config });
  expect(state.withdrawReadyAt).toBe((await t.chainTime()) + BigInt(DELAY));
  await expectCode(finalizeWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config }), 'withdraw_not_ready');
  await expectCode(depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount: 1n }), 'withdraw_pending');

  await claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(ch.config, v)] });
  await advance(DELAY);
  const payerBefore = await balanceOf(payer.account);
  await finalizeWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
  expect((await balanceOf(payer.account)) - payerBefore).toBe(600n);
  expect(await getChannel(t.owner.publicClient, { contractAddress, config: ch.config })).toMatchObject({ open: false, closed: true, claimed: 400n });
  await expectCode(claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(ch.config, await voucher(ch, 500n))] }), 'channel_closed');
  await expectCode(depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, amount: 1n }), 'channel_closed');
});

test('authorizer rotation: the old key stays valid for the delay, then its new vouchers are refused', async () => {
  const ch = await open(1_000n);
  const next = privateKeyToAccount(generatePrivateKey());
  const claim = (v: Awaited<ReturnType<typeof voucher>>) =>
    claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(ch.config, v)] });
  await expectCode(rotateAuthorizer(receiver.walletClient, receiver.publicClient, { contractAddress, config: ch.config, newAuthorizer: next.address }), 'not_payer');
  await rotateAuthorizer(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, newAuthorizer: next.address });
  await expectCode(rotateAuthorizer(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config, newAuthorizer: next.address }), 'rotation_pending');
  await claim(await voucher(ch, 100n)); // old key, inside the delay: the receiver's outstanding vouchers stay good
  await claim(await signVoucher(next, { chainId, contractAddress, channelId: ch.id, maxClaimableAmount: 200n })); // new key at once
  await advance(DELAY);
  await expectCode(claim(await voucher(ch, 300n)), 'invalid_voucher_signature');
  await claim(await signVoucher(next, { chainId, contractAddress, channelId: ch.id, maxClaimableAmount: 300n }));
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: ch.config })).claimed).toBe(300n);
});

test('cooperative close refunds the rest at once, by the receiver or with its signature', async () => {
  const ch = await open(1_000n);
  await claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims: [full(ch.config, await voucher(ch, 200n))] });
  await expectCode(closeChannel(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config }), 'not_receiver');
  const before = await balanceOf(payer.account);
  await closeChannel(receiver.walletClient, receiver.publicClient, { contractAddress, config: ch.config });
  expect((await balanceOf(payer.account)) - before).toBe(800n);
  expect((await getChannel(t.owner.publicClient, { contractAddress, config: ch.config })).closed).toBe(true);

  const relayed = await open(700n);
  const receiverKey = privateKeyToAccount(DEV_KEY_2);
  await expectCode(
    closeChannel(payer.walletClient, payer.publicClient, { contractAddress, config: relayed.config, receiverSignature: await signClose(relayed.authorizer, { chainId, contractAddress, channelId: relayed.id }) }),
    'invalid_voucher_signature',
  );
  const beforeRelay = await balanceOf(payer.account);
  const receiverSignature = await signClose(receiverKey, { chainId, contractAddress, channelId: relayed.id });
  await closeChannel(payer.walletClient, payer.publicClient, { contractAddress, config: relayed.config, receiverSignature });
  expect((await balanceOf(payer.account)) - beforeRelay).toBe(700n);
});

test('channel configs are checked on open', async () => {
  await expectCode(depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config: { ...newChannel().config, withdrawDelay: 60 }, amount: 1n }), 'withdraw_delay_out_of_range');
  // native ETH: the contract itself refuses token 0 (simulated directly, since the action reads the token first)
  const native = toChannelConfigMessage({ ...newChannel().config, token: '0x0000000000000000000000000000000000000000' });
  await expectCode(
    payer.publicClient
      .simulateContract({ account: payer.account, address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [native, 1n] })
      .catch((e: unknown) => Promise.reject(toChainError(e, 'deposit'))),
    'native_token_unsupported',
  );
});

test('deployDevPayments deploys both contracts and funds the dev accounts', async () => {
  const { paymentChannelsAddress, tokenAddress, funded } = await deployDevPayments(t.owner.walletClient, t.owner.publicClient);
  expect(funded).toEqual(DEV_ACCOUNTS.map((a) => a.address));
  for (const who of funded) {
    expect(await t.owner.publicClient.readContract({ address: tokenAddress, abi: erc20Abi, functionName: 'balanceOf', args: [who] })).toBe(1_000_000n * 10n ** 6n);
  }
  // (runtime code differs from the artifact's: the chain id and domain separator are immutables filled in at deploy)
  expect(await t.owner.publicClient.readContract({ address: paymentChannelsAddress, abi: veilPaymentChannelsAbi, functionName: 'MIN_WITHDRAW_DELAY' })).toBe(900);
});

test('depositWithPermit still succeeds when someone front-runs the permit', async () => {
  const { config } = newChannel();
  const deadline = (await t.chainTime()) + 3600n;
  const nonce = await t.owner.publicClient.readContract({ address: token, abi: veilDevTokenAbi, functionName: 'nonces', args: [payer.account] });
  const signature = await payer.walletClient.signTypedData({
    domain: { name: 'Veil Dev USD', version: '1', chainId, verifyingContract: token },
    types: { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] },
    primaryType: 'Permit',
    message: { owner: payer.account, spender: contractAddress, value: 300n, nonce, deadline },
  });
  const { r, s, v } = parseSignature(signature);
  // The front-runner spends the permit first.
  const front = await receiver.walletClient.writeContract({ address: token, abi: veilDevTokenAbi, functionName: 'permit', args: [payer.account, contractAddress, 300n, deadline, Number(v), r, s] });
  await t.owner.publicClient.waitForTransactionReceipt({ hash: front });
  const hash = await payer.walletClient.writeContract({
    address: contractAddress,
    abi: veilPaymentChannelsAbi,
    functionName: 'depositWithPermit',
    args: [toChannelConfigMessage(config), 300n, deadline, Number(v), r, s],
  });
  expect((await t.owner.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  expect((await getChannel(t.owner.publicClient, { contractAddress, config })).deposited).toBe(300n);
});

// ───────────── metered claims: the receiver claims what it charged (totalClaimed), at most the voucher's ceiling ─────────────

/** A claim with an explicit charged total, below (or at) the voucher's ceiling. */
const charged = (config: ChannelConfig, v: SignedVoucher, totalClaimed: bigint): VoucherClaim => ({ config, voucher: v, totalClaimed });
const claimAs = (claims: VoucherClaim[]) => claimVouchers(receiver.walletClient, receiver.publicClient, { contractAddress, claims });
/** One after the other: the payer's deposits would race for its nonce. */
async function openMany(n: number, amount: bigint) {
  const chans = [];
  for (let i = 0; i < n; i++) chans.push(await open(amount));
  return chans;
}
const claimedOf = async (config: ChannelConfig) => (await getChannel(t.owner.publicClient, { contractAddress, config })).claimed;

/** Sent straight to the contract, past claimVouchers' own checks, so the contract's refusal is what is tested. */
function claimRaw(claims: VoucherClaim[]) {
  const args = claims.map(({ config, voucher: v, totalClaimed }) => ({ config: toChannelConfigMessage(config), maxClaimableAmount: v.maxClaimableAmount, signature: v.signature, totalClaimed }));
  return receiver.publicClient
    .simulateContract({ account: receiver.account, address: contractAddress, abi: veilPaymentChannelsAbi, functionName: 'claim', args: [args] })
    .catch((e: unknown) => Promise.reject(toChainError(e, 'claim')));
}

test('a claim below the voucher’s ceiling pays exactly the charged total, and close refunds the unused ceiling', async () => {
  const ch = await open(1_000n);
  const start = await balanceOf(receiver.account);
  const { transactionHash } = await claimAs([charged(ch.config, await voucher(ch, 500n), 320n)]);
  expect((await balanceOf(receiver.account)) - start).toBe(320n);
  expect(await claimedOf(ch.config)).toBe(320n);
  const receipt = await t.owner.publicClient.getTransactionReceipt({ hash: transactionHash });
  const [claimed] = parseEventLogs({ abi: veilPaymentChannelsAbi, eventName: 'Claimed', logs: receipt.logs });
  expect(claimed?.args).toMatchObject({ channelId: ch.id, receiver: receiver.account, amount: 320n, claimed: 320n });
  // Cooperative close refunds deposited − claimed: the 180 of ceiling the receiver did not charge goes back too.
  const payerBefore = await balanceOf(payer.account);
  await closeChannel(receiver.walletClient, receiver.publicClient, { contractAddress, config: ch.config });
  expect((await balanceOf(payer.account)) - payerBefore).toBe(680n);
});

test('a higher total under the same voucher, then under a newer one, pays only the difference each time', async () => {
  const ch = await open(1_000n);
  const start = await balanceOf(receiver.account);
  const v400 = await voucher(ch, 400n);
  await claimAs([charged(ch.config, v400, 100n)]);
  await claimAs([charged(ch.config, v400, 370n)]); // same voucher, more charged since
  expect((await balanceOf(receiver.account)) - start).toBe(370n);
  await claimAs([charged(ch.config, await voucher(ch, 900n), 610n)]); // newer voucher
  expect((await balanceOf(receiver.account)) - start).toBe(610n);
  expect(await claimedOf(ch.config)).toBe(610n);
});

test('a total above the voucher’s ceiling is refused by the contract (claim_exceeds_voucher) and by claimVouchers before sending', async () => {
  const ch = await open(1_000n);
  const other = await open(1_000n);
  const v = await voucher(ch, 300n);
  const err = await claimRaw([charged(other.config, await voucher(other, 50n), 50n), charged(ch.config, v, 301n)]).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ChainError);
  expect((err as ChainError).code).toBe('claim_exceeds_voucher');
  expect((err as ChainError).details).toMatchObject({ contractError: 'ClaimExceedsVoucher', args: [ch.id, '301', '300'] });
  // The action refuses it locally, naming the entry, and sends nothing.
  const nonce = await t.owner.publicClient.getTransactionCount({ address: receiver.account });
  const local = await claimAs([charged(other.config, await voucher(other, 50n), 50n), charged(ch.config, v, 301n)]).then(() => undefined, (e: unknown) => e);
  expect(local).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('claims[1].totalClaimed') });
  await expectCode(claimAs([charged(ch.config, v, -1n)]), 'invalid_argument');
  await expectCode(claimAs([charged(ch.config, { ...v, maxClaimableAmount: 1n << 130n }, 1n << 128n)]), 'invalid_argument');
  expect(await t.owner.publicClient.getTransactionCount({ address: receiver.account })).toBe(nonce);
  expect(await claimedOf(other.config)).toBe(0n);
});

test('the deposit bounds the charged total, not the ceiling', async () => {
  const ch = await open(1_000n);
  const v = await voucher(ch, 1_500n); // the last call's ceiling passed the deposit; what it actually cost did not
  await expectCode(claimRaw([charged(ch.config, v, 1_001n)]), 'voucher_exceeds_deposit');
  const start = await balanceOf(receiver.account);
  await claimAs([charged(ch.config, v, 1_000n)]);
  expect((await balanceOf(receiver.account)) - start).toBe(1_000n);
});

test('a stale total is a no-op inside a batch with fresh claims on other channels', async () => {
  const a = await open(1_000n);
  const b = await open(1_000n);
  const va = await voucher(a, 600n);
  await claimAs([charged(a.config, va, 450n)]);
  const start = await balanceOf(receiver.account);
  const { transactionHash } = await claimAs([charged(a.config, va, 200n), charged(b.config, await voucher(b, 300n), 120n), charged(a.config, va, 450n)]);
  expect((await balanceOf(receiver.account)) - start).toBe(120n);
  expect(await claimedOf(a.config)).toBe(450n); // a lower total never lowers what was claimed
  const receipt = await t.owner.publicClient.getTransactionReceipt({ hash: transactionHash });
  expect(parseEventLogs({ abi: veilPaymentChannelsAbi, eventName: 'Claimed', logs: receipt.logs }).map((l) => l.args.channelId)).toEqual([b.id]);
  // a stale entry is still checked in full: a forged one fails the batch
  const forged = await signVoucher(privateKeyToAccount(generatePrivateKey()), { chainId, contractAddress, channelId: a.id, maxClaimableAmount: 600n });
  await expectCode(claimAs([charged(b.config, await voucher(b, 300n), 200n), charged(a.config, forged, 10n)]), 'invalid_voucher_signature');
  expect(await claimedOf(b.config)).toBe(120n);
});

test('one transaction claims partial totals on several channels with one transfer', async () => {
  const chans = await openMany(4, 1_000n);
  const totals = [1n, 250n, 999n, 500n];
  const start = await balanceOf(receiver.account);
  const claims = await Promise.all(chans.map(async (ch, i) => charged(ch.config, await voucher(ch, 1_000n), totals[i]!)));
  const { transactionHash } = await claimAs(claims);
  const receipt = await t.owner.publicClient.getTransactionReceipt({ hash: transactionHash });
  expect(receipt.logs.filter((l) => l.address.toLowerCase() === token.toLowerCase())).toHaveLength(1);
  expect((await balanceOf(receiver.account)) - start).toBe(1_750n);
  for (const [i, ch] of chans.entries()) expect(await claimedOf(ch.config)).toBe(totals[i]);
});

test('during a pending withdrawal the receiver claims partial totals; finalize refunds deposited − claimed', async () => {
  const ch = await open(1_000n);
  const v = await voucher(ch, 700n);
  await claimAs([charged(ch.config, v, 100n)]);
  await initiateWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
  const start = await balanceOf(receiver.account);
  await claimAs([charged(ch.config, v, 430n)]);
  await advance(DELAY - 60);
  await claimAs([charged(ch.config, await voucher(ch, 800n), 560n)]); // still inside the delay
  expect((await balanceOf(receiver.account)) - start).toBe(460n);
  await advance(60);
  const payerBefore = await balanceOf(payer.account);
  await finalizeWithdraw(payer.walletClient, payer.publicClient, { contractAddress, config: ch.config });
  expect((await balanceOf(payer.account)) - payerBefore).toBe(440n);
  await expectCode(claimAs([charged(ch.config, v, 700n)]), 'channel_closed');
});

test('property: what the receiver is paid always equals the sum of totalClaimed increases (seeded random runs)', async () => {
  // Metered billing as the gateway runs it: per call, the client signs charged + ceiling, the call costs ≤ ceiling;
  // now and then the receiver claims a channel with its charged total, sometimes resending an older (stale) total.
  let seed = 0x9e3779b9;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const chans = await openMany(4, 100_000n);
  const state = chans.map(() => ({ charged: 0n, claimed: 0n, best: undefined as SignedVoucher | undefined, history: [] as bigint[] }));
  const start = await balanceOf(receiver.account);
  let expectedPaid = 0n;
  for (let round = 0; round < 40; round++) {
    for (const [i, ch] of chans.entries()) {
      const s = state[i]!;
      for (let call = 0; call < 1 + rand(3); call++) {
        const ceiling = BigInt(1 + rand(500));
        s.best = await voucher(ch, s.charged + ceiling);
        s.charged += BigInt(rand(Number(ceiling) + 1)); // the actual cost, 0 … ceiling
        s.history.push(s.charged);
      }
    }
    const batch: VoucherClaim[] = [];
    for (const [i, ch] of chans.entries()) {
      const s = state[i]!;
      const pick = rand(4);
      if (pick === 0) continue; // not claimed this round
      const total = pick === 1 ? s.history[rand(s.history.length)]! : s.charged; // an older total, or the latest
      batch.push(charged(ch.config, s.best!, total));
      if (total > s.claimed) {
        expectedPaid += total - s.claimed;
        s.claimed = total;
      }
    }
    if (batch.length > 0) await claimAs(batch);
    expect((await balanceOf(receiver.account)) - start).toBe(expectedPaid);
  }
  for (const [i, ch] of chans.entries()) expect(await claimedOf(ch.config)).toBe(state[i]!.claimed);
  expect(expectedPaid).toBeGreaterThan(0n);
}, 120_000);
