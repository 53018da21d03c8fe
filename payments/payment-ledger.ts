import type { ChannelConfig } from '../chain';

/**
 * The gateway's durable record of money (issue #11 §3): per channel what was charged and the best voucher that
 * covers it, the in-flight reservations, one receipt per request id, and the claims sent to the chain. Two
 * implementations behave identically (payments/ledger-conformance.ts runs against both): SQLite for one gateway
 * (the default, under the data dir) and PostgreSQL for replicas, where every change is a compare-and-set so two
 * replicas can never spend the same credit.
 *
 * Amounts are token atomic units as bigint, exact up to 2^128 − 1 (SQLite keeps them as decimal text and computes
 * inside an IMMEDIATE transaction; PostgreSQL as NUMERIC(39,0)). Times are Unix milliseconds from the caller's clock.
 *
 * Money rules every implementation keeps:
 * - charged ≤ signedMax always: nothing is charged that a voucher in the ledger does not cover;
 * - a reservation holds its ceiling: charged + reserved + ceiling ≤ voucher.maxClaimableAmount to admit;
 * - commit charges actual ≤ ceiling, at most once per reservation, and writes the receipt in the same transaction;
 * - a request id has at most one receipt: a retry of a committed request gets the stored receipt, never a new charge.
 */
export type PaymentLedger = {
  /**
   * Admits one call against a channel: atomically checks the channel is usable and the voucher covers what is already
   * charged and reserved plus `ceiling`, records the voucher if it is the highest seen, and holds `ceiling` until
   * commit or release. A request id that already has a receipt answers `{ kind: 'replay' }` (not charged again); one
   * that already holds a live reservation answers `{ kind: 'busy' }`. Reservations on the channel whose `expiresAt` ≤
   * `request.at` are dropped first (their calls were never answered): a lapsed lease holds nothing, so the retry of a
   * call cut by a dead replica is admitted as soon as that replica stopped renewing, not when a reaper next runs.
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;
  /**
   * Extends the leases of live reservations to `expiresAt` (never shortens one); returns how many were live. The
   * gateway that holds them calls this while their calls run, so only a gateway that died stops renewing.
   */
  renew(reservationIds: readonly string[], expiresAt: number): Promise<number>;
  /** Charges `actual` (0 ≤ actual ≤ the reservation's ceiling) and writes the receipt, in one transaction. */
  commit(reservationId: string, actual: bigint, at: number): Promise<PaymentReceipt>;
  /** Drops a reservation without charging (the call failed before it was served). Unknown or done ids: no-op. */
  release(reservationId: string): Promise<void>;
  /** Drops reservations whose `expiresAt` ≤ `at` (a crashed gateway's calls were never served); returns how many. */
  reapExpired(at: number): Promise<number>;
  /** The receipt of a committed request, or undefined. */
  receipt(requestId: string): Promise<PaymentReceipt | undefined>;
  /** The ledger's view of one channel, or undefined when it has never been seen. */
  channel(channelId: string): Promise<LedgerChannel | undefined>;
  /** Mirrors on-chain state (deposits, claims, withdrawals) at a confirmed block; older blocks than the stored one are ignored. */
  updateOnchain(channelId: string, config: ChannelConfig, state: OnchainChannelState): Promise<void>;

  /** Channels whose charged total exceeds what the chain has paid out and no claim is pending: what to claim next. */
  claimable(limit: number): Promise<ClaimableChannel[]>;
  /**
   * Records a claim transaction as sent (before waiting for it): each channel's pending claim holds the voucher
   * amount it claims. A channel with a pending claim is not offered by claimable() until it is settled or dropped.
   */
  recordClaim(claim: PendingClaim): Promise<void>;
  /** The claim was mined (claimed = the amounts) or failed/replaced (dropped): either way it stops being pending. */
  settleClaim(txHash: string, outcome: 'mined' | 'dropped', at: number): Promise<void>;
  /** Claims sent and not yet settled, for a restarted settlement worker to wait on again. */
  pendingClaims(): Promise<PendingClaim[]>;

  /** Sums for proofs and `veil pay status`: charged, reserved, claimed by the chain, receipts. */
  totals(): Promise<LedgerTotals>;
  close(): Promise<void>;
};

export type ReserveRequest = {
  requestId: string;
  channelId: string;
  config: ChannelConfig;
  /** The voucher with this call, already verified (signature by the channel's authorizer, binding). */
  voucher: { maxClaimableAmount: bigint; signature: string };
  ceiling: bigint;
  /** Where the call runs (model, unit), kept on the receipt; never a payload. */
  resource: string;
  at: number;
  /** When the reservation's lease lapses unless its gateway renews it (a crash mid-call stops the renewals). */
  expiresAt: number;
};

export type ReserveResult =
  | { kind: 'reserved'; reservationId: string; channel: LedgerChannel }
  | { kind: 'replay'; receipt: PaymentReceipt }
  | { kind: 'busy' }
  /** The voucher does not cover charged + reserved + ceiling: the client resyncs from `channel` (a corrective 402). */
  | { kind: 'insufficient_voucher'; channel: LedgerChannel; required: bigint }
  /** charged + reserved + ceiling would exceed the mirrored cumulative deposit (the contract pays a claimed total ≤ deposited). */
  | { kind: 'insufficient_deposit'; channel: LedgerChannel; required: bigint }
  /** A withdrawal is pending or the channel is closed: no new calls. */
  | { kind: 'channel_closing'; channel: LedgerChannel }
  /** Never mirrored from the chain: the caller reads it from the chain and calls updateOnchain first. */
  | { kind: 'channel_unknown' };

export type LedgerChannel = {
  channelId: string;
  config: ChannelConfig;
  /** Cumulative charged for committed calls. */
  charged: bigint;
  /** Sum of the ceilings of live reservations. */
  reserved: bigint;
  /** The highest voucher accepted, and its signature (what a claim sends). */
  signedMax: bigint;
  signature: string;
  /** Mirrored on-chain state. */
  deposited: bigint;
  claimedOnchain: bigint;
  /** Unix seconds; 0 when no withdrawal is pending. */
  withdrawReadyAt: number;
  closed: boolean;
  authorizer: string;
  onchainBlock: bigint;
};

export type OnchainChannelState = {
  deposited: bigint;
  claimed: bigint;
  withdrawReadyAt: number;
  closed: boolean;
  authorizer: string;
  /** The confirmed block this state was read at. */
  block: bigint;
};

export type PaymentReceipt = {
  requestId: string;
  channelId: string;
  /** This call's charge. */
  charged: bigint;
  /** The channel's cumulative charged after this call. */
  cumulative: bigint;
  ceiling: bigint;
  voucherMax: bigint;
  resource: string;
  at: number;
};

export type ClaimableChannel = {
  channelId: string;
  config: ChannelConfig;
  /** What the claim transaction asks for: the channel's charged total (≤ signedMax). */
  amount: bigint;
  signedMax: bigint;
  signature: string;
  claimedOnchain: bigint;
};

export type PendingClaim = {
  txHash: string;
  entries: { channelId: string; amount: bigint }[];
  sentAt: number;
};

export type LedgerTotals = { charged: bigint; reserved: bigint; claimedOnchain: bigint; receipts: number; channels: number };
