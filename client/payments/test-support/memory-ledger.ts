import type {
  ClaimableChannel, LedgerChannel, LedgerTotals, OnchainChannelState, PaymentLedger, PaymentReceipt, PendingClaim, ReserveRequest, ReserveResult,
} from '../../../payments';

/**
 * TEST ONLY: a PaymentLedger in memory, for the payer's tests against the real payment gate while the SQLite ledger
 * (payments/open-sqlite-ledger.ts) is written on another branch. It keeps the money rules of payments/payment-ledger.ts:
 * - admission needs charged + reserved + ceiling ≤ this call's own voucher (a replayed lower voucher covers nothing new)
 *   and ≤ the mirrored deposit (deposited and claimed are cumulative, the chain's payouts are part of charged);
 * - commit charges 0 ≤ actual ≤ ceiling at most once per reservation and writes the receipt in the same step;
 * - one receipt per request id: a retry gets the stored receipt;
 * - charged ≤ signedMax always.
 * Every operation runs to completion before the next starts (one async queue), as a transaction would.
 */
export function createMemoryLedger(): PaymentLedger & { readonly commits: number } {
  const channels = new Map<string, LedgerChannel>();
  const reservations = new Map<string, { requestId: string; channelId: string; ceiling: bigint; voucherMax: bigint; resource: string; expiresAt: number }>();
  const liveByRequest = new Map<string, string>();
  const receipts = new Map<string, PaymentReceipt>();
  const pending = new Map<string, PendingClaim>();
  let nextId = 0;
  let commits = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => T): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const pendingFor = (channelId: string) => [...pending.values()].some((c) => c.entries.some((e) => e.channelId === channelId));

  return {
    get commits() {
      return commits;
    },
    reserve: (request: ReserveRequest) => serial((): ReserveResult => {
      const receipt = receipts.get(request.requestId);
      if (receipt) return { kind: 'replay', receipt };
      if (liveByRequest.has(request.requestId)) return { kind: 'busy' };
      const channel = channels.get(request.channelId);
      if (!channel) return { kind: 'channel_unknown' };
      if (channel.closed || channel.withdrawReadyAt !== 0) return { kind: 'channel_closing', channel: { ...channel } };
      const required = channel.charged + channel.reserved + request.ceiling;
      if (required > request.voucher.maxClaimableAmount) return { kind: 'insufficient_voucher', channel: { ...channel }, required };
      if (required > channel.deposited) return { kind: 'insufficient_deposit', channel: { ...channel }, required };
      channel.reserved += request.ceiling;
      if (request.voucher.maxClaimableAmount > channel.signedMax) {
        channel.signedMax = request.voucher.maxClaimableAmount;
        channel.signature = request.voucher.signature;
      }
      const reservationId = `r${++nextId}`;
      reservations.set(reservationId, {
        requestId: request.requestId, channelId: request.channelId, ceiling: request.ceiling, voucherMax: request.voucher.maxClaimableAmount,
        resource: request.resource, expiresAt: request.expiresAt,
      });
      liveByRequest.set(request.requestId, reservationId);
      return { kind: 'reserved', reservationId, channel: { ...channel } };
    }),
    commit: (reservationId, actual, at) => serial(() => {
      const r = reservations.get(reservationId);
      if (!r) throw new Error(`commit: reservation ${reservationId} is not live`);
      if (actual < 0n || actual > r.ceiling) throw new Error(`commit: actual ${actual} is outside 0..${r.ceiling}`);
      const channel = channels.get(r.channelId)!;
      if (channel.charged + actual > channel.signedMax) throw new Error('commit: charged would exceed the voucher');
      channel.charged += actual;
      channel.reserved -= r.ceiling;
      reservations.delete(reservationId);
      liveByRequest.delete(r.requestId);
      const receipt: PaymentReceipt = {
        requestId: r.requestId, channelId: r.channelId, charged: actual, cumulative: channel.charged, ceiling: r.ceiling, voucherMax: r.voucherMax, resource: r.resource, at,
      };
      receipts.set(r.requestId, receipt);
      commits++;
      return receipt;
    }),
    release: (reservationId) => serial(() => {
      const r = reservations.get(reservationId);
      if (!r) return;
      channels.get(r.channelId)!.reserved -= r.ceiling;
      reservations.delete(reservationId);
      liveByRequest.delete(r.requestId);
    }),
    reapExpired: (at) => serial(() => {
      let n = 0;
      for (const [id, r] of reservations) {
        if (r.expiresAt > at) continue;
        channels.get(r.channelId)!.reserved -= r.ceiling;
        reservations.delete(id);
        liveByRequest.delete(r.requestId);
        n++;
      }
      return n;
    }),
    receipt: (requestId) => serial(() => receipts.get(requestId)),
    channel: (channelId) => serial(() => {
      const c = channels.get(channelId);
      return c ? { ...c } : undefined;
    }),
    updateOnchain: (channelId, config, state: OnchainChannelState) => serial(() => {
      const existing = channels.get(channelId);
      if (existing && state.block < existing.onchainBlock) return;
      const base = existing ?? {
        channelId, config, charged: 0n, reserved: 0n, signedMax: 0n, signature: '', deposited: 0n, claimedOnchain: 0n,
        withdrawReadyAt: 0, closed: false, authorizer: state.authorizer, onchainBlock: state.block,
      };
      channels.set(channelId, {
        ...base,
        deposited: state.deposited,
        claimedOnchain: state.claimed > base.claimedOnchain ? state.claimed : base.claimedOnchain,
        withdrawReadyAt: state.withdrawReadyAt,
        closed: state.closed,
        authorizer: state.authorizer,
        onchainBlock: state.block,
      });
    }),
    claimable: (limit) => serial((): ClaimableChannel[] => [...channels.values()]
      .filter((c) => !c.closed && c.charged > c.claimedOnchain && !pendingFor(c.channelId))
      .sort((a, b) => (b.charged - b.claimedOnchain > a.charged - a.claimedOnchain ? 1 : -1))
      .slice(0, limit)
      .map((c) => ({ channelId: c.channelId, config: c.config, amount: c.charged, signedMax: c.signedMax, signature: c.signature, claimedOnchain: c.claimedOnchain }))),
    recordClaim: (claim) => serial(() => {
      for (const e of claim.entries) {
        const c = channels.get(e.channelId);
        if (!c || e.amount > c.charged) throw new Error(`recordClaim: ${e.amount} exceeds the charged total of ${e.channelId}`);
      }
      pending.set(claim.txHash, claim);
    }),
    settleClaim: (txHash, outcome) => serial(() => {
      const claim = pending.get(txHash);
      if (!claim) return;
      pending.delete(txHash);
      if (outcome !== 'mined') return;
      for (const e of claim.entries) {
        const c = channels.get(e.channelId)!;
        if (e.amount > c.claimedOnchain) c.claimedOnchain = e.amount;
      }
    }),
    pendingClaims: () => serial(() => [...pending.values()]),
    totals: () => serial((): LedgerTotals => {
      const all = [...channels.values()];
      const sum = (f: (c: LedgerChannel) => bigint) => all.reduce((n, c) => n + f(c), 0n);
      return { charged: sum((c) => c.charged), reserved: sum((c) => c.reserved), claimedOnchain: sum((c) => c.claimedOnchain), receipts: receipts.size, channels: all.length };
    }),
    close: async () => {},
  };
}
