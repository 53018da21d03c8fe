/**
 * The ledger's rows as both drivers return them, and their mapping to the contract's types: one schema (the same
 * column names in SQLite and PostgreSQL), one mapping. Amounts are decimal text (SQLite TEXT, PostgreSQL NUMERIC —
 * which pg returns as strings, no precision lost); times and flags come back as numbers from SQLite and as strings /
 * booleans from pg, so they are read with Number() and a 1-or-true test.
 * @internal
 */
import type { ChannelConfig } from '../chain';
import type { LedgerReservation } from './ledger-rules';
import type { LedgerChannel, PaymentReceipt } from './payment-ledger';

type Int = number | string;
type Flag = number | boolean;

export type ChannelRow = {
  channel_id: string;
  config: string;
  charged: string;
  reserved: string;
  signed_max: string;
  signature: string;
  deposited: string;
  claimed_onchain: string;
  withdraw_ready_at: Int;
  closed: Flag;
  authorizer: string;
  onchain_block: string;
};
export type ReservationRow = {
  reservation_id: string;
  request_id: string;
  channel_id: string;
  ceiling: string;
  voucher_max: string;
  resource: string;
  reserved_at: Int;
  expires_at: Int;
};
export type ReceiptRow = {
  request_id: string;
  channel_id: string;
  charged: string;
  cumulative: string;
  ceiling: string;
  voucher_max: string;
  resource: string;
  at: Int;
};

export const toChannel = (r: ChannelRow): LedgerChannel => ({
  channelId: r.channel_id,
  config: JSON.parse(r.config) as ChannelConfig,
  charged: BigInt(r.charged),
  reserved: BigInt(r.reserved),
  signedMax: BigInt(r.signed_max),
  signature: r.signature,
  deposited: BigInt(r.deposited),
  claimedOnchain: BigInt(r.claimed_onchain),
  withdrawReadyAt: Number(r.withdraw_ready_at),
  closed: r.closed === true || r.closed === 1,
  authorizer: r.authorizer,
  onchainBlock: BigInt(r.onchain_block),
});

export const toReservation = (r: ReservationRow): LedgerReservation => ({
  reservationId: r.reservation_id,
  requestId: r.request_id,
  channelId: r.channel_id,
  ceiling: BigInt(r.ceiling),
  voucherMax: BigInt(r.voucher_max),
  resource: r.resource,
  reservedAt: Number(r.reserved_at),
  expiresAt: Number(r.expires_at),
});

export const toReceipt = (r: ReceiptRow): PaymentReceipt => ({
  requestId: r.request_id,
  channelId: r.channel_id,
  charged: BigInt(r.charged),
  cumulative: BigInt(r.cumulative),
  ceiling: BigInt(r.ceiling),
  voucherMax: BigInt(r.voucher_max),
  resource: r.resource,
  at: Number(r.at),
});

/** A channel as named column values, in the columns' order (pg binds `Object.values` of it positionally). */
export const channelParams = <F>(c: LedgerChannel, flag: (value: boolean) => F) => ({
  channel_id: c.channelId,
  config: JSON.stringify(c.config),
  charged: c.charged.toString(),
  reserved: c.reserved.toString(),
  signed_max: c.signedMax.toString(),
  signature: c.signature,
  deposited: c.deposited.toString(),
  claimed_onchain: c.claimedOnchain.toString(),
  withdraw_ready_at: c.withdrawReadyAt,
  closed: flag(c.closed),
  authorizer: c.authorizer,
  onchain_block: c.onchainBlock.toString(),
});

/** A receipt's insert values, in the receipts table's column order (both drivers bind them positionally). */
export const receiptValues = (r: PaymentReceipt, reservationId: string) => [
  r.requestId, reservationId, r.channelId, r.charged.toString(), r.cumulative.toString(), r.ceiling.toString(), r.voucherMax.toString(), r.resource, r.at,
];
