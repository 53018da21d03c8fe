import type { ChannelConfig } from '../chain';
import { isBudgetChannel } from './budget-channel';
import { LedgerError } from './ledger-error';
import type { ClaimableChannel, LedgerChannel, OnchainChannelState, PaymentReceipt, ReserveRequest, ReserveResult } from './payment-ledger';

/**
 * The money rules of payment-ledger.ts as pure functions of the stored state. Both ledgers load the rows they need
 * under their lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT … FOR UPDATE), ask these functions what happens,
 * and write the answer back in the same transaction, so the two behave identically by construction.
 * @internal
 */

/** A live reservation as both stores keep it. */
export type LedgerReservation = {
  reservationId: string;
  requestId: string;
  channelId: string;
  ceiling: bigint;
  /** The voucher that came with the call, kept on its receipt. */
  voucherMax: bigint;
  resource: string;
  reservedAt: number;
  expiresAt: number;
};

export type Admission =
  | { kind: 'admit'; channel: LedgerChannel }
  | Extract<ReserveResult, { kind: 'insufficient_voucher' | 'insufficient_deposit' | 'channel_closing' }>;

/**
 * Decides a reservation on a known channel (replays and busy request ids are answered before, by the store).
 * On admission the returned channel holds the ceiling in `reserved` and the call's voucher if it is the highest.
 * Refusals return the channel as stored: the voucher of a refused call is not recorded (it bought nothing).
 */
export function decideAdmission(channel: LedgerChannel, request: Pick<ReserveRequest, 'voucher' | 'ceiling'>): Admission {
  if (channel.closed || channel.withdrawReadyAt !== 0) return { kind: 'channel_closing', channel };
  // Cumulative amounts throughout: what is charged, held and asked for must all fit under this call's own voucher
  // (an older, lower voucher replayed with a new call covers nothing new, however high the stored one is) …
  const required = channel.charged + channel.reserved + request.ceiling;
  if (required > request.voucher.maxClaimableAmount) return { kind: 'insufficient_voucher', channel, required };
  // … and under the deposit. `deposited` and `claimedOnchain` are both cumulative and the chain's payouts are part of
  // `charged`, so "unclaimed charges + reserved + ceiling ≤ deposited − claimedOnchain" is this same comparison.
  if (required > channel.deposited) return { kind: 'insufficient_deposit', channel, required };
  const higher = request.voucher.maxClaimableAmount > channel.signedMax;
  return {
    kind: 'admit',
    channel: {
      ...channel,
      reserved: channel.reserved + request.ceiling,
      signedMax: higher ? request.voucher.maxClaimableAmount : channel.signedMax,
      signature: higher ? request.voucher.signature : channel.signature,
    },
  };
}

/** Charges `actual` for a reservation: the channel after it and the receipt, or a LedgerError when it may not. */
export function decideCommit(
  channel: LedgerChannel,
  reservation: LedgerReservation,
  actual: bigint,
  at: number,
): { channel: LedgerChannel; receipt: PaymentReceipt } {
  if (actual > reservation.ceiling) {
    throw new LedgerError(
      'actual_exceeds_ceiling',
      `commit: actual ${actual} exceeds the ceiling ${reservation.ceiling} of reservation ${reservation.reservationId} (request ${reservation.requestId})`,
    );
  }
  const after = { ...channel, charged: channel.charged + actual, reserved: checkedReserved(channel, channel.reserved - reservation.ceiling) };
  if (after.charged > after.signedMax) {
    throw new LedgerError('invariant_violated', `commit: channel ${channel.channelId} would be charged ${after.charged}, above its voucher ${after.signedMax}`);
  }
  return {
    channel: after,
    receipt: {
      requestId: reservation.requestId,
      channelId: reservation.channelId,
      charged: actual,
      cumulative: after.charged,
      ceiling: reservation.ceiling,
      voucherMax: reservation.voucherMax,
      resource: reservation.resource,
      at,
    },
  };
}

/** The channel after a reservation is dropped (release, reap) without a charge. */
export function afterRelease(channel: LedgerChannel, ceiling: bigint): LedgerChannel {
  return { ...channel, reserved: checkedReserved(channel, channel.reserved - ceiling) };
}

function checkedReserved(channel: LedgerChannel, reserved: bigint): bigint {
  if (reserved < 0n) throw new LedgerError('invariant_violated', `channel ${channel.channelId}: reserved would fall below zero`);
  return reserved;
}

/**
 * The channel after mirroring on-chain state, or undefined when the state is older than the stored block (a slower
 * reader must not roll the mirror back). A new channel starts with nothing charged and no voucher. The chain's
 * `claimed` only grows, so the mirror keeps the larger of it and what settleClaim() already recorded (a mined claim
 * may be newer than the block read).
 */
export function mirrorOnchain(
  existing: LedgerChannel | undefined,
  channelId: string,
  config: ChannelConfig,
  state: OnchainChannelState,
): LedgerChannel | undefined {
  if (existing && state.block < existing.onchainBlock) return undefined;
  const base: LedgerChannel = existing ?? {
    channelId,
    config,
    charged: 0n,
    reserved: 0n,
    signedMax: 0n,
    signature: '',
    deposited: 0n,
    claimedOnchain: 0n,
    withdrawReadyAt: 0,
    closed: false,
    authorizer: state.authorizer,
    onchainBlock: state.block,
  };
  return {
    ...base,
    deposited: state.deposited,
    claimedOnchain: state.claimed > base.claimedOnchain ? state.claimed : base.claimedOnchain,
    withdrawReadyAt: state.withdrawReadyAt,
    closed: state.closed,
    authorizer: state.authorizer,
    onchainBlock: state.block,
  };
}

/** The channel after a claim of `amount` was mined: the chain has paid out (at least) that much. */
export function afterClaimMined(channel: LedgerChannel, amount: bigint): LedgerChannel {
  return amount > channel.claimedOnchain ? { ...channel, claimedOnchain: amount } : channel;
}

/** A claim may ask for at most what the ledger charged: the claimed total must equal the ledger's charged total. */
export function checkClaimEntry(channel: LedgerChannel | undefined, channelId: string, amount: bigint): void {
  if (!channel) throw new LedgerError('claim_exceeds_charged', `recordClaim: channel ${channelId} is not in the ledger`);
  if (amount > channel.charged) {
    throw new LedgerError('claim_exceeds_charged', `recordClaim: ${amount} for channel ${channelId} exceeds its charged total ${channel.charged}`);
  }
}

/**
 * Whether a channel (with no pending claim) is worth a claim: charges the chain has not paid out yet. A closed
 * channel is left out: the contract refuses claims on it, and one such entry would revert the whole batch.
 */
export function isClaimable(channel: LedgerChannel): boolean {
  // API-key budgets live only in the ledger: there is nothing on chain to claim.
  return !channel.closed && channel.charged > channel.claimedOnchain && !isBudgetChannel(channel.channelId);
}

export function toClaimable(channel: LedgerChannel): ClaimableChannel {
  return {
    channelId: channel.channelId,
    config: channel.config,
    amount: channel.charged,
    signedMax: channel.signedMax,
    signature: channel.signature,
    claimedOnchain: channel.claimedOnchain,
  };
}

/** claimable()'s order: the most unclaimed value first (what a withdrawal would cost most), then by id. */
export function byUnclaimedDesc(a: LedgerChannel, b: LedgerChannel): number {
  const ua = a.charged - a.claimedOnchain;
  const ub = b.charged - b.claimedOnchain;
  if (ua !== ub) return ua > ub ? -1 : 1;
  return a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0;
}
