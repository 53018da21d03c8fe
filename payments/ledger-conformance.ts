/**
 * The one behaviour suite every PaymentLedger passes (issue #11 §3): each money rule of payment-ledger.ts, the
 * refusals and their order, exact uint128 arithmetic, claims, and concurrency on one channel. The SQLite and the
 * PostgreSQL test files run it unchanged, so the two ledgers cannot drift apart. Test support only: not exported from
 * payments/index.ts, and never imported by production code.
 */
import fc from 'fast-check';
import { budgetChannelId } from './budget-channel';
import type { ChannelConfig } from '../chain';
import { isLedgerError, type LedgerErrorCode } from './ledger-error';
import type { LedgerChannel, OnchainChannelState, PaymentLedger, ReserveRequest, ReserveResult } from './payment-ledger';

export const U128_MAX = (1n << 128n) - 1n;

export function testChannelId(n: number): string {
  return `0x${n.toString(16).padStart(64, '0')}`;
}

export function testConfig(n: number): ChannelConfig {
  return {
    payer: '0x1111111111111111111111111111111111111111',
    payerAuthorizer: '0x2222222222222222222222222222222222222222',
    receiver: '0x3333333333333333333333333333333333333333',
    token: '0x4444444444444444444444444444444444444444',
    withdrawDelay: 3600,
    salt: `0x${n.toString(16).padStart(64, '0')}`,
  };
}

export function testState(overrides: Partial<OnchainChannelState> = {}): OnchainChannelState {
  return { deposited: 1_000_000n, claimed: 0n, withdrawReadyAt: 0, closed: false, authorizer: '0x2222222222222222222222222222222222222222', block: 10n, ...overrides };
}

/** A signature stand-in that names its amount, so a test sees which voucher the ledger kept. */
export const sig = (amount: bigint) => `0xsig-${amount}`;

export function testRequest(n: number, overrides: Partial<ReserveRequest> & { voucherMax?: bigint } = {}): ReserveRequest {
  const { voucherMax = 1_000n, ...rest } = overrides;
  return {
    requestId: `req-${n}`,
    channelId: testChannelId(1),
    config: testConfig(1),
    voucher: { maxClaimableAmount: voucherMax, signature: sig(voucherMax) },
    ceiling: 100n,
    resource: 'tee:llm-tiny:call',
    at: 1_000,
    expiresAt: 61_000,
    ...rest,
  };
}

/** Mirrors channel `n` so it can be reserved against. */
export async function openChannel(ledger: PaymentLedger, n = 1, state: Partial<OnchainChannelState> = {}): Promise<void> {
  await ledger.updateOnchain(testChannelId(n), testConfig(n), testState(state));
}

export function reservedId(result: ReserveResult): string {
  if (result.kind !== 'reserved') throw new Error(`expected a reservation, got ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return result.reservationId;
}

async function expectLedgerError(promise: Promise<unknown>, code: LedgerErrorCode, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLedgerError(error, code) ? `${code}: ${error.message}` : error).toMatch(new RegExp(`^${code}: .*${message.source}`));
}

export function describeLedgerConformance(name: string, open: () => Promise<PaymentLedger>): void {
  describe(`${name}: PaymentLedger conformance`, () => {
    let ledger: PaymentLedger;
    beforeEach(async () => {
      ledger = await open();
    });
    afterEach(async () => {
      await ledger.close();
    });

    test('a channel never mirrored is channel_unknown; updateOnchain creates it with nothing charged and no voucher', async () => {
      expect(await ledger.reserve(testRequest(1))).toEqual({ kind: 'channel_unknown' });
      expect(await ledger.channel(testChannelId(1))).toBeUndefined();
      await openChannel(ledger, 1, { deposited: 500n, claimed: 20n, block: 7n });
      expect(await ledger.channel(testChannelId(1))).toEqual<LedgerChannel>({
        channelId: testChannelId(1),
        config: testConfig(1),
        charged: 0n,
        reserved: 0n,
        signedMax: 0n,
        signature: '',
        deposited: 500n,
        claimedOnchain: 20n,
        withdrawReadyAt: 0,
        closed: false,
        authorizer: testState().authorizer,
        onchainBlock: 7n,
      });
    });

    test('reserve holds the ceiling and records the voucher; commit charges the actual and writes the receipt', async () => {
      await openChannel(ledger);
      const reserved = await ledger.reserve(testRequest(1, { voucherMax: 100n, ceiling: 100n }));
      expect(reserved).toMatchObject({ kind: 'reserved', channel: { charged: 0n, reserved: 100n, signedMax: 100n, signature: sig(100n) } });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: 100n, signedMax: 100n });
      expect(await ledger.receipt('req-1')).toBeUndefined();

      const receipt = await ledger.commit(reservedId(reserved), 60n, 2_000);
      expect(receipt).toEqual({
        requestId: 'req-1',
        channelId: testChannelId(1),
        charged: 60n,
        cumulative: 60n,
        ceiling: 100n,
        voucherMax: 100n,
        resource: 'tee:llm-tiny:call',
        at: 2_000,
      });
      expect(await ledger.receipt('req-1')).toEqual(receipt);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 60n, reserved: 0n, signedMax: 100n });

      // The next call's voucher covers the 60 charged plus its own ceiling; its receipt carries the cumulative total.
      const next = await ledger.commit(reservedId(await ledger.reserve(testRequest(2, { voucherMax: 160n, ceiling: 100n }))), 100n, 3_000);
      expect(next).toMatchObject({ charged: 100n, cumulative: 160n, voucherMax: 160n });
      expect(await ledger.totals()).toEqual({ charged: 160n, reserved: 0n, claimedOnchain: 0n, receipts: 2, channels: 1 });
    });

    test('a committed request id is a replay with its stored receipt, never a second charge (whatever the retry carries)', async () => {
      await openChannel(ledger);
      await openChannel(ledger, 2);
      const receipt = await ledger.commit(reservedId(await ledger.reserve(testRequest(1))), 70n, 2_000);
      for (const retry of [testRequest(1), testRequest(1, { voucherMax: 5_000n, ceiling: 1n }), testRequest(1, { channelId: testChannelId(2), config: testConfig(2) })]) {
        expect(await ledger.reserve(retry)).toEqual({ kind: 'replay', receipt });
      }
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 70n, reserved: 0n });
      expect(await ledger.channel(testChannelId(2))).toMatchObject({ charged: 0n, reserved: 0n, signedMax: 0n });
      expect((await ledger.totals()).receipts).toBe(1);
    });

    test('a request id holding a live reservation is busy; once released it may reserve again', async () => {
      await openChannel(ledger);
      const first = reservedId(await ledger.reserve(testRequest(1)));
      expect(await ledger.reserve(testRequest(1))).toEqual({ kind: 'busy' });
      expect(await ledger.reserve(testRequest(1, { voucherMax: 10_000n }))).toEqual({ kind: 'busy' });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: 100n, signedMax: 1_000n });
      await ledger.release(first);
      const second = reservedId(await ledger.reserve(testRequest(1)));
      expect(second).not.toBe(first);
    });

    test('insufficient_voucher when charged + reserved + ceiling exceeds the call\'s own voucher, with that sum as required', async () => {
      await openChannel(ledger);
      await ledger.commit(reservedId(await ledger.reserve(testRequest(1, { voucherMax: 100n, ceiling: 100n }))), 40n, 2_000);
      reservedId(await ledger.reserve(testRequest(2, { voucherMax: 140n, ceiling: 100n }))); // charged 40 + 100 = 140: exactly covered
      reservedId(await ledger.reserve(testRequest(3, { voucherMax: 249n, ceiling: 10n }))); // 40 + 100 + 10 = 150 ≤ 249
      const short = await ledger.reserve(testRequest(4, { voucherMax: 199n, ceiling: 50n })); // 40 + 110 + 50 = 200 > 199
      expect(short).toMatchObject({ kind: 'insufficient_voucher', required: 200n, channel: { charged: 40n, reserved: 110n, signedMax: 249n, signature: sig(249n) } });
      // Refused: nothing held, and its voucher is not recorded.
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: 110n, signedMax: 249n });
      // An older voucher does not cover a new call even though the stored one would: old vouchers buy nothing new.
      expect(await ledger.reserve(testRequest(5, { voucherMax: 140n, ceiling: 1n }))).toMatchObject({ kind: 'insufficient_voucher', required: 151n });
      expect(await ledger.receipt('req-4')).toBeUndefined();
    });

    test('insufficient_deposit when charged + reserved + ceiling exceeds the deposit (claims already paid out are part of charged)', async () => {
      await openChannel(ledger, 1, { deposited: 100n });
      await ledger.commit(reservedId(await ledger.reserve(testRequest(1, { voucherMax: 10_000n, ceiling: 40n }))), 40n, 2_000);
      await ledger.recordClaim({ txHash: '0xclaim1', entries: [{ channelId: testChannelId(1), amount: 40n }], sentAt: 2_100 });
      await ledger.settleClaim('0xclaim1', 'mined', 2_200);
      await openChannel(ledger, 1, { deposited: 100n, claimed: 40n, block: 11n });
      // Unclaimed 0 + 61 > deposited 100 − claimed 40 = 60: refused; required is the cumulative total the deposit must cover.
      expect(await ledger.reserve(testRequest(2, { voucherMax: 10_000n, ceiling: 61n }))).toMatchObject({
        kind: 'insufficient_deposit',
        required: 101n,
        channel: { deposited: 100n, claimedOnchain: 40n, charged: 40n, reserved: 0n },
      });
      const held = reservedId(await ledger.reserve(testRequest(3, { voucherMax: 10_000n, ceiling: 50n })));
      // Reservations count too: 40 + 50 + 11 > 100.
      expect(await ledger.reserve(testRequest(4, { voucherMax: 10_000n, ceiling: 11n }))).toMatchObject({ kind: 'insufficient_deposit', required: 101n });
      reservedId(await ledger.reserve(testRequest(5, { voucherMax: 10_000n, ceiling: 10n })));
      await ledger.release(held);
      // A top-up mirrored at a newer block admits more.
      await openChannel(ledger, 1, { deposited: 300n, claimed: 40n, block: 12n });
      reservedId(await ledger.reserve(testRequest(6, { voucherMax: 10_000n, ceiling: 250n })));
    });

    test('channel_closing while a withdrawal is pending or once the channel is closed; nothing is held', async () => {
      await openChannel(ledger, 1, { withdrawReadyAt: 1_700_000_000 });
      expect(await ledger.reserve(testRequest(1))).toMatchObject({ kind: 'channel_closing', channel: { withdrawReadyAt: 1_700_000_000, reserved: 0n } });
      await openChannel(ledger, 2, { closed: true });
      expect(await ledger.reserve(testRequest(2, { channelId: testChannelId(2) }))).toMatchObject({ kind: 'channel_closing', channel: { closed: true } });
      // A live reservation made before the withdrawal still commits: the call was admitted and served.
      await openChannel(ledger, 3);
      const before = reservedId(await ledger.reserve(testRequest(3, { channelId: testChannelId(3) })));
      await openChannel(ledger, 3, { withdrawReadyAt: 1_700_000_000, block: 11n });
      expect(await ledger.reserve(testRequest(4, { channelId: testChannelId(3) }))).toMatchObject({ kind: 'channel_closing' });
      expect(await ledger.commit(before, 30n, 2_000)).toMatchObject({ charged: 30n });
    });

    test('commit above the ceiling throws actual_exceeds_ceiling and leaves the reservation to commit or release', async () => {
      await openChannel(ledger);
      const id = reservedId(await ledger.reserve(testRequest(1, { ceiling: 100n })));
      await expectLedgerError(ledger.commit(id, 101n, 2_000), 'actual_exceeds_ceiling', /actual 101 exceeds the ceiling 100/);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 0n, reserved: 100n });
      expect(await ledger.receipt('req-1')).toBeUndefined();
      expect(await ledger.commit(id, 100n, 2_000)).toMatchObject({ charged: 100n });
    });

    test('a second commit throws reservation_committed; a released or unknown reservation throws reservation_unknown', async () => {
      await openChannel(ledger);
      const id = reservedId(await ledger.reserve(testRequest(1)));
      await ledger.commit(id, 10n, 2_000);
      await expectLedgerError(ledger.commit(id, 10n, 2_001), 'reservation_committed', /already committed \(request req-1\)/);
      const released = reservedId(await ledger.reserve(testRequest(2)));
      await ledger.release(released);
      await expectLedgerError(ledger.commit(released, 1n, 2_002), 'reservation_unknown', /no live reservation/);
      await expectLedgerError(ledger.commit('no-such-reservation', 1n, 2_003), 'reservation_unknown', /no-such-reservation/);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 10n, reserved: 0n });
      expect((await ledger.totals()).receipts).toBe(1);
    });

    test('release of an unknown, released or committed reservation is a no-op', async () => {
      await openChannel(ledger);
      await ledger.release('no-such-reservation');
      const committed = reservedId(await ledger.reserve(testRequest(1)));
      await ledger.commit(committed, 25n, 2_000);
      await ledger.release(committed);
      const released = reservedId(await ledger.reserve(testRequest(2)));
      await ledger.release(released);
      await ledger.release(released);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 25n, reserved: 0n });
      expect(await ledger.receipt('req-1')).toMatchObject({ charged: 25n });
    });

    test('reapExpired drops exactly the reservations with expiresAt ≤ at, frees their ceilings and returns how many', async () => {
      await openChannel(ledger);
      await openChannel(ledger, 2);
      const early = reservedId(await ledger.reserve(testRequest(1, { ceiling: 10n, expiresAt: 5_000 })));
      reservedId(await ledger.reserve(testRequest(2, { ceiling: 20n, expiresAt: 5_000, channelId: testChannelId(2) })));
      const late = reservedId(await ledger.reserve(testRequest(3, { ceiling: 30n, expiresAt: 9_000 })));
      expect(await ledger.reapExpired(4_999)).toBe(0);
      expect(await ledger.reapExpired(5_000)).toBe(2);
      expect(await ledger.reapExpired(5_000)).toBe(0);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: 30n });
      expect(await ledger.channel(testChannelId(2))).toMatchObject({ reserved: 0n });
      await expectLedgerError(ledger.commit(early, 1n, 6_000), 'reservation_unknown', /no live reservation/);
      // The crashed call's request id is free again; the live one still commits.
      reservedId(await ledger.reserve(testRequest(1, { ceiling: 10n, at: 6_000, expiresAt: 66_000 })));
      expect(await ledger.commit(late, 30n, 6_000)).toMatchObject({ cumulative: 30n });
      expect(await ledger.totals()).toMatchObject({ charged: 30n, reserved: 10n });
    });

    test('a lapsed lease holds nothing: reserving on its channel drops it, so the cut call\'s retry is admitted at once', async () => {
      await openChannel(ledger, 1, { deposited: 100n });
      // A call cut by a dead replica: its reservation (the whole deposit) was never committed or released.
      reservedId(await ledger.reserve(testRequest(1, { ceiling: 100n, voucherMax: 100n, at: 1_000, expiresAt: 5_000 })));
      expect(await ledger.reserve(testRequest(1, { ceiling: 100n, voucherMax: 100n, at: 4_999, expiresAt: 9_999 }))).toEqual({ kind: 'busy' });
      expect(await ledger.reserve(testRequest(2, { ceiling: 1n, voucherMax: 101n, at: 4_999, expiresAt: 9_999 }))).toMatchObject({ kind: 'insufficient_deposit', required: 101n });
      // At the lapse the same request id is admitted again, against the whole deposit.
      const retry = reservedId(await ledger.reserve(testRequest(1, { ceiling: 100n, voucherMax: 100n, at: 5_000, expiresAt: 9_000 })));
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: 100n });
      expect(await ledger.commit(retry, 60n, 5_001)).toMatchObject({ charged: 60n, cumulative: 60n });
      expect(await ledger.totals()).toMatchObject({ charged: 60n, reserved: 0n, receipts: 1 });
    });

    test('renew extends live leases (never shortens one) and counts them; a renewed reservation stays busy', async () => {
      await openChannel(ledger);
      const a = reservedId(await ledger.reserve(testRequest(1, { ceiling: 10n, at: 1_000, expiresAt: 5_000 })));
      const b = reservedId(await ledger.reserve(testRequest(2, { ceiling: 10n, at: 1_000, expiresAt: 8_000 })));
      expect(await ledger.renew([a, b, '00000000-0000-4000-8000-000000000000'], 7_000)).toBe(2);
      expect(await ledger.renew([], 7_000)).toBe(0);
      // a now lapses at 7 000 (renewed), b still at 8 000 (not shortened).
      expect(await ledger.reserve(testRequest(1, { ceiling: 10n, at: 6_999, expiresAt: 9_999 }))).toEqual({ kind: 'busy' });
      expect(await ledger.reapExpired(7_999)).toBe(1);
      expect(await ledger.reapExpired(8_000)).toBe(1);
      await ledger.release(b);
      expect(await ledger.renew([a, b], 9_000)).toBe(0);
      await expectLedgerError(ledger.renew([a], -1), 'invalid_argument', /expiresAt/);
    });

    test('updateOnchain ignores states older than the stored block, and a mirrored claim never goes down', async () => {
      await openChannel(ledger, 1, { deposited: 500n, claimed: 0n, block: 20n });
      await openChannel(ledger, 1, { deposited: 100n, closed: true, withdrawReadyAt: 5, block: 19n });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ deposited: 500n, closed: false, withdrawReadyAt: 0, onchainBlock: 20n });
      await openChannel(ledger, 1, { deposited: 700n, claimed: 50n, block: 20n, authorizer: '0x5555555555555555555555555555555555555555' });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ deposited: 700n, claimedOnchain: 50n, authorizer: '0x5555555555555555555555555555555555555555' });
      await openChannel(ledger, 1, { deposited: 700n, claimed: 30n, withdrawReadyAt: 99, block: 21n });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ claimedOnchain: 50n, withdrawReadyAt: 99, onchainBlock: 21n });
    });

    test('the highest voucher is kept: a lower one that still covers a call never replaces it', async () => {
      await openChannel(ledger);
      await ledger.commit(reservedId(await ledger.reserve(testRequest(1, { voucherMax: 500n, ceiling: 10n }))), 10n, 2_000);
      const lower = await ledger.reserve(testRequest(2, { voucherMax: 300n, ceiling: 10n }));
      expect(lower).toMatchObject({ kind: 'reserved', channel: { signedMax: 500n, signature: sig(500n) } });
      await ledger.commit(reservedId(lower), 10n, 2_001);
      expect(await ledger.receipt('req-2')).toMatchObject({ voucherMax: 300n });
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 20n, signedMax: 500n, signature: sig(500n) });
      await ledger.reserve(testRequest(3, { voucherMax: 501n, ceiling: 10n }));
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ signedMax: 501n, signature: sig(501n) });
    });

    test('an API-key budget (a channel only the ledger knows) is charged by the same rules but is never claimable', async () => {
      const budget = budgetChannelId('00112233aabbccdd');
      await ledger.updateOnchain(budget, testConfig(9), testState({ deposited: 100n }));
      const id = reservedId(await ledger.reserve(testRequest(1, { channelId: budget, config: testConfig(9), voucherMax: 100n, ceiling: 60n })));
      expect(await ledger.reserve(testRequest(2, { channelId: budget, config: testConfig(9), voucherMax: 100n, ceiling: 60n }))).toMatchObject({ kind: 'insufficient_voucher', required: 120n });
      await ledger.commit(id, 60n, 2_000);
      await openChannel(ledger, 1);
      await ledger.commit(reservedId(await ledger.reserve(testRequest(3, { voucherMax: 100n, ceiling: 10n }))), 10n, 2_000);
      expect((await ledger.channel(budget))!.charged).toBe(60n);
      expect((await ledger.claimable(10)).map((c) => c.channelId)).toEqual([testChannelId(1)]);
    });

    test('claimable, recordClaim, settleClaim and pendingClaims: amounts are the charged totals and settle exactly once', async () => {
      for (const n of [1, 2, 3, 4]) await openChannel(ledger, n);
      const charge = async (n: number, request: number, amount: bigint, voucherMax: bigint) =>
        ledger.commit(reservedId(await ledger.reserve(testRequest(request, { channelId: testChannelId(n), voucherMax, ceiling: amount }))), amount, 2_000);
      await charge(1, 1, 30n, 100n);
      await charge(2, 2, 70n, 100n);
      await charge(3, 3, 70n, 100n);
      await charge(4, 4, 50n, 100n);
      await openChannel(ledger, 4, { closed: true, block: 11n }); // a closed channel can no longer be claimed
      expect(await ledger.claimable(10)).toEqual([
        { channelId: testChannelId(2), config: testConfig(2), amount: 70n, signedMax: 100n, signature: sig(100n), claimedOnchain: 0n },
        { channelId: testChannelId(3), config: testConfig(3), amount: 70n, signedMax: 100n, signature: sig(100n), claimedOnchain: 0n },
        { channelId: testChannelId(1), config: testConfig(1), amount: 30n, signedMax: 100n, signature: sig(100n), claimedOnchain: 0n },
      ]);
      expect((await ledger.claimable(1)).map((c) => c.channelId)).toEqual([testChannelId(2)]);

      await expectLedgerError(
        ledger.recordClaim({ txHash: '0xbad', entries: [{ channelId: testChannelId(1), amount: 31n }], sentAt: 3_000 }),
        'claim_exceeds_charged',
        /31 for channel .* exceeds its charged total 30/,
      );
      await expectLedgerError(ledger.recordClaim({ txHash: '0xbad', entries: [{ channelId: testChannelId(9), amount: 1n }], sentAt: 3_000 }), 'claim_exceeds_charged', /not in the ledger/);
      expect(await ledger.pendingClaims()).toEqual([]); // a refused claim records nothing

      const a = { txHash: '0xaaa', entries: [{ channelId: testChannelId(2), amount: 70n }, { channelId: testChannelId(1), amount: 30n }], sentAt: 3_000 };
      await ledger.recordClaim(a);
      await expectLedgerError(ledger.recordClaim({ ...a, sentAt: 3_001 }), 'claim_exists', /0xaaa is already recorded/);
      // A replacement (same claim, new hash) may be pending beside it.
      const b = { txHash: '0xbbb', entries: [{ channelId: testChannelId(3), amount: 70n }], sentAt: 3_005 };
      await ledger.recordClaim(b);
      expect((await ledger.claimable(10)).map((c) => c.channelId)).toEqual([]);
      expect(await ledger.pendingClaims()).toEqual([
        { txHash: '0xaaa', entries: [{ channelId: testChannelId(1), amount: 30n }, { channelId: testChannelId(2), amount: 70n }], sentAt: 3_000 },
        b,
      ]);

      // More charged while the claim is in flight: offered again only after it settles.
      await charge(1, 5, 20n, 100n);
      expect(await ledger.claimable(10)).toEqual([]);
      await ledger.settleClaim('0xaaa', 'mined', 4_000);
      await ledger.settleClaim('0xaaa', 'dropped', 4_001); // settled already: no-op
      await ledger.settleClaim('0xbbb', 'dropped', 4_002);
      await expectLedgerError(ledger.settleClaim('0xnever', 'mined', 4_003), 'claim_unknown', /0xnever was never recorded/);
      expect(await ledger.pendingClaims()).toEqual([]);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 50n, claimedOnchain: 30n });
      expect(await ledger.channel(testChannelId(2))).toMatchObject({ charged: 70n, claimedOnchain: 70n });
      expect(await ledger.channel(testChannelId(3))).toMatchObject({ charged: 70n, claimedOnchain: 0n });
      expect(await ledger.claimable(10)).toEqual([
        { channelId: testChannelId(3), config: testConfig(3), amount: 70n, signedMax: 100n, signature: sig(100n), claimedOnchain: 0n },
        { channelId: testChannelId(1), config: testConfig(1), amount: 50n, signedMax: 100n, signature: sig(100n), claimedOnchain: 30n },
      ]);
      expect(await ledger.totals()).toEqual({ charged: 240n, reserved: 0n, claimedOnchain: 100n, receipts: 5, channels: 4 });
    });

    test('uint128 amounts are exact end to end (2^127 + 1 and 2^128 − 1), and larger or negative amounts are refused', async () => {
      const big = (1n << 127n) + 1n;
      await openChannel(ledger, 1, { deposited: U128_MAX, claimed: big });
      const reserved = await ledger.reserve(testRequest(1, { voucherMax: U128_MAX, ceiling: big }));
      expect(reserved).toMatchObject({ kind: 'reserved', channel: { reserved: big, signedMax: U128_MAX, deposited: U128_MAX, claimedOnchain: big } });
      expect(await ledger.commit(reservedId(reserved), big, 2_000)).toMatchObject({ charged: big, cumulative: big, ceiling: big, voucherMax: U128_MAX });
      const rest = U128_MAX - big; // 2^127 − 2
      await ledger.commit(reservedId(await ledger.reserve(testRequest(2, { voucherMax: U128_MAX, ceiling: rest }))), rest, 2_001);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: U128_MAX, reserved: 0n });
      expect(await ledger.reserve(testRequest(3, { voucherMax: U128_MAX, ceiling: 1n }))).toMatchObject({ kind: 'insufficient_voucher', required: U128_MAX + 1n });
      await openChannel(ledger, 2, { deposited: U128_MAX });
      await ledger.commit(reservedId(await ledger.reserve(testRequest(4, { channelId: testChannelId(2), voucherMax: U128_MAX, ceiling: big }))), big, 2_002);
      expect(await ledger.totals()).toMatchObject({ charged: U128_MAX + big, claimedOnchain: big });
      expect(await ledger.claimable(5)).toEqual([expect.objectContaining({ channelId: testChannelId(2), amount: big }), expect.objectContaining({ amount: U128_MAX })]);

      await expectLedgerError(ledger.reserve(testRequest(5, { voucherMax: U128_MAX + 1n })), 'invalid_argument', /voucher.maxClaimableAmount must be between 0 and 2\^128 - 1/);
      await expectLedgerError(ledger.reserve(testRequest(5, { ceiling: -1n })), 'invalid_argument', /ceiling must be between/);
      await expectLedgerError(ledger.updateOnchain(testChannelId(3), testConfig(3), testState({ deposited: U128_MAX + 1n })), 'invalid_argument', /state.deposited/);
    });

    test('malformed arguments are refused with invalid_argument naming the field, and nothing is stored', async () => {
      await openChannel(ledger);
      await expectLedgerError(ledger.reserve(testRequest(1, { ceiling: 5 as unknown as bigint })), 'invalid_argument', /ceiling must be a bigint, got number/);
      await expectLedgerError(ledger.reserve(testRequest(1, { requestId: '' })), 'invalid_argument', /requestId must be a non-empty string/);
      await expectLedgerError(ledger.reserve(testRequest(1, { requestId: 'x'.repeat(257) })), 'invalid_argument', /requestId/);
      await expectLedgerError(ledger.reserve(testRequest(1, { at: 5_000, expiresAt: 5_000 })), 'invalid_argument', /expiresAt \(5000\) must be after at \(5000\)/);
      await expectLedgerError(ledger.reserve(testRequest(1, { at: 1.5 })), 'invalid_argument', /at must be a non-negative integer/);
      const id = reservedId(await ledger.reserve(testRequest(1)));
      await expectLedgerError(ledger.commit(id, -1n, 2_000), 'invalid_argument', /actual must be between/);
      await expectLedgerError(ledger.claimable(0), 'invalid_argument', /limit must be a positive integer/);
      await expectLedgerError(ledger.recordClaim({ txHash: '0x1', entries: [], sentAt: 1 }), 'invalid_argument', /entries must be a non-empty array/);
      await expectLedgerError(
        ledger.recordClaim({ txHash: '0x1', entries: [{ channelId: testChannelId(1), amount: 0n }, { channelId: testChannelId(1), amount: 0n }], sentAt: 1 }),
        'invalid_argument',
        /appears twice/,
      );
      await expectLedgerError(ledger.settleClaim('0x1', 'maybe' as 'mined', 1), 'invalid_argument', /outcome must be 'mined' or 'dropped'/);
      await expectLedgerError(ledger.updateOnchain(testChannelId(2), testConfig(2), testState({ claimed: 2n, deposited: 1n })), 'invalid_argument', /state.claimed \(2\) exceeds/);
      expect(await ledger.totals()).toEqual({ charged: 0n, reserved: 100n, claimedOnchain: 0n, receipts: 0, channels: 1 });
    });

    test('100 concurrent reserve → commit cycles on one channel: charged = the sum of the actuals, never above the voucher', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.bigInt({ min: 0n, max: 100n }), { minLength: 100, maxLength: 100 }), async (actuals) => {
          const n = ++run;
          await openChannel(ledger, n);
          const voucherMax = 100n * 100n;
          const receipts = await Promise.all(
            actuals.map(async (actual, i) => {
              const reserved = await ledger.reserve(testRequest(n * 1000 + i, { channelId: testChannelId(n), voucherMax, ceiling: 100n }));
              return ledger.commit(reservedId(reserved), actual, 2_000 + i);
            }),
          );
          const sum = actuals.reduce((a, b) => a + b, 0n);
          const channel = (await ledger.channel(testChannelId(n)))!;
          expect(channel).toMatchObject({ charged: sum, reserved: 0n, signedMax: voucherMax });
          expect(channel.charged <= channel.signedMax).toBe(true);
          // Each receipt's cumulative is the channel total right after it: all distinct, the largest is the sum.
          const cumulative = receipts.map((r) => r.cumulative).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(cumulative.at(-1)).toBe(sum);
          expect(new Set(receipts.map((r) => r.requestId)).size).toBe(100);
        }),
        { numRuns: 3 },
      );
    });

    test('100 concurrent reservations against a voucher that covers 37 of them: exactly 37 admitted, charged exact', async () => {
      await openChannel(ledger);
      const ceiling = 1_000n;
      const voucherMax = 37n * ceiling;
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.reserve(testRequest(i, { voucherMax, ceiling }))));
      const admitted = results.filter((r) => r.kind === 'reserved');
      expect(admitted).toHaveLength(37);
      expect(results.filter((r) => r.kind === 'insufficient_voucher')).toHaveLength(63);
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ reserved: voucherMax });
      const actuals = admitted.map((_, i) => BigInt((i * 7919) % 1001));
      await Promise.all(admitted.map((r, i) => ledger.commit(reservedId(r), actuals[i]!, 3_000)));
      const channel = (await ledger.channel(testChannelId(1)))!;
      expect(channel).toMatchObject({ charged: actuals.reduce((a, b) => a + b, 0n), reserved: 0n });
      expect(channel.charged <= channel.signedMax).toBe(true);
    });

    test('one request id reserved 20 times at once: one reservation, the rest busy; after its commit every retry replays', async () => {
      await openChannel(ledger);
      const results = await Promise.all(Array.from({ length: 20 }, () => ledger.reserve(testRequest(1))));
      expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'busy')).toHaveLength(19);
      const receipt = await ledger.commit(reservedId(results.find((r) => r.kind === 'reserved')!), 50n, 2_000);
      const retries = await Promise.all(Array.from({ length: 20 }, () => ledger.reserve(testRequest(1))));
      expect(retries).toEqual(Array.from({ length: 20 }, () => ({ kind: 'replay', receipt })));
      expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 50n, reserved: 0n });
    });

    test('random sequences of reserve, commit, release, renew, reap and on-chain updates agree with a reference model at every step', async () => {
      // Small amounts, so the boundaries (exactly covered, one unit short) come up often.
      const op = fc.oneof(
        fc.record({ kind: fc.constant('reserve' as const), ch: fc.integer({ min: 1, max: 2 }), req: fc.integer({ min: 1, max: 12 }), voucher: fc.bigInt({ min: 0n, max: 40n }), ceiling: fc.bigInt({ min: 0n, max: 10n }), ttl: fc.integer({ min: 1, max: 6 }) }),
        fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), over: fc.boolean(), frac: fc.integer({ min: 0, max: 100 }) }),
        fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
        fc.record({ kind: fc.constant('reap' as const) }),
        fc.record({ kind: fc.constant('renew' as const), pick: fc.nat(), by: fc.integer({ min: 0, max: 6 }) }),
        fc.record({ kind: fc.constant('onchain' as const), ch: fc.integer({ min: 1, max: 2 }), deposited: fc.bigInt({ min: 0n, max: 50n }), closing: fc.boolean() }),
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
          // Fresh channels per run (ids 100·run + 1, 2) so runs share the ledger but not state.
          const base = 100 * ++run;
          // reapExpired is ledger-wide: clear what earlier runs left live, then run on a later clock.
          const start = 1_000 * run;
          await ledger.reapExpired(start);
          const model = new Map<number, { charged: bigint; reserved: bigint; signedMax: bigint; deposited: bigint; closing: boolean }>();
          const live = new Map<string, { ch: number; requestId: string; ceiling: bigint; expiresAt: number }>();
          const receipts = new Map<string, bigint>();
          let block = 1n;
          for (const ch of [1, 2]) {
            model.set(ch, { charged: 0n, reserved: 0n, signedMax: 0n, deposited: 30n, closing: false });
            await openChannel(ledger, base + ch, { deposited: 30n, block });
          }
          for (const [t, o] of ops.entries()) {
            const at = start + 1 + t;
            if (o.kind === 'reserve') {
              const requestId = `r${base}-${o.req}`;
              const m = model.get(o.ch)!;
              // Reserving first drops the channel's lapsed leases (expiresAt ≤ at).
              for (const [id, r] of [...live.entries()]) {
                if (r.ch === o.ch && r.expiresAt <= at) {
                  m.reserved -= r.ceiling;
                  live.delete(id);
                }
              }
              const own = [...live.values()].find((r) => r.requestId === requestId);
              const required = m.charged + m.reserved + o.ceiling;
              const result = await ledger.reserve(
                testRequest(0, { requestId, channelId: testChannelId(base + o.ch), voucherMax: o.voucher, ceiling: o.ceiling, at, expiresAt: at + o.ttl }),
              );
              const expected = receipts.has(requestId)
                ? 'replay'
                : own && own.expiresAt > at
                  ? 'busy'
                  : m.closing
                    ? 'channel_closing'
                    : required > o.voucher
                      ? 'insufficient_voucher'
                      : required > m.deposited
                        ? 'insufficient_deposit'
                        : own // lapsed, on the other channel: the id is held until the reaper frees it
                          ? 'busy'
                          : 'reserved';
              expect(result.kind).toBe(expected);
              if (result.kind === 'insufficient_voucher' || result.kind === 'insufficient_deposit') expect(result.required).toBe(required);
              if (result.kind === 'replay') expect(result.receipt.charged).toBe(receipts.get(requestId));
              if (result.kind === 'reserved') {
                live.set(result.reservationId, { ch: o.ch, requestId, ceiling: o.ceiling, expiresAt: at + o.ttl });
                m.reserved += o.ceiling;
                if (o.voucher > m.signedMax) m.signedMax = o.voucher;
              }
            } else if (o.kind === 'commit' || o.kind === 'release') {
              const ids = [...live.keys()];
              const id = ids.length === 0 ? 'none' : ids[o.pick % ids.length]!;
              const r = live.get(id);
              if (o.kind === 'release') {
                await ledger.release(id);
                if (r) model.get(r.ch)!.reserved -= r.ceiling;
                live.delete(id);
              } else {
                const actual = r ? (o.over ? r.ceiling + 1n : (r.ceiling * BigInt(o.frac)) / 100n) : 1n;
                const outcome = await ledger.commit(id, actual, at).then(
                  (receipt) => receipt,
                  (e: unknown) => (isLedgerError(e) ? e.code : e),
                );
                if (!r) expect(outcome).toBe('reservation_unknown');
                else if (o.over) expect(outcome).toBe('actual_exceeds_ceiling');
                else {
                  const m = model.get(r.ch)!;
                  m.charged += actual;
                  m.reserved -= r.ceiling;
                  live.delete(id);
                  receipts.set(r.requestId, actual);
                  expect(outcome).toMatchObject({ requestId: r.requestId, charged: actual, cumulative: m.charged, ceiling: r.ceiling });
                }
              }
            } else if (o.kind === 'renew') {
              const ids = [...live.keys()];
              const id = ids.length === 0 ? 'none' : ids[o.pick % ids.length]!;
              const r = live.get(id);
              expect(await ledger.renew([id], at + o.by)).toBe(r ? 1 : 0);
              if (r && at + o.by > r.expiresAt) r.expiresAt = at + o.by;
            } else if (o.kind === 'reap') {
              const due = [...live.entries()].filter(([, r]) => r.expiresAt <= at);
              expect(await ledger.reapExpired(at)).toBe(due.length);
              for (const [id, r] of due) {
                model.get(r.ch)!.reserved -= r.ceiling;
                live.delete(id);
              }
            } else {
              block += 1n;
              await openChannel(ledger, base + o.ch, { deposited: o.deposited, withdrawReadyAt: o.closing ? 1_700_000_000 : 0, block });
              Object.assign(model.get(o.ch)!, { deposited: o.deposited, closing: o.closing });
            }
            for (const [ch, m] of model) {
              const stored = (await ledger.channel(testChannelId(base + ch)))!;
              expect({ charged: stored.charged, reserved: stored.reserved, signedMax: stored.signedMax }).toEqual({ charged: m.charged, reserved: m.reserved, signedMax: m.signedMax });
              expect(stored.charged + stored.reserved <= stored.signedMax || stored.signedMax === 0n).toBe(true);
            }
          }
        }),
        { numRuns: 50 },
      );
    });

    test('a closed ledger refuses every call with ledger_closed; close is idempotent', async () => {
      await openChannel(ledger);
      await ledger.close();
      await ledger.close();
      await expectLedgerError(ledger.reserve(testRequest(1)), 'ledger_closed', /closed/);
      await expectLedgerError(ledger.channel(testChannelId(1)), 'ledger_closed', /closed/);
      await expectLedgerError(ledger.totals(), 'ledger_closed', /closed/);
    });
  });
}
