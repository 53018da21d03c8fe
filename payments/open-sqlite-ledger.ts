import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { ChannelConfig } from '../chain';
import { LedgerError } from './ledger-error';
import { channelParams, receiptValues, toChannel, toReceipt, toReservation, type ChannelRow, type ReceiptRow, type ReservationRow } from './ledger-rows';
import {
  afterClaimMined,
  afterRelease,
  byUnclaimedDesc,
  checkClaimEntry,
  decideAdmission,
  decideCommit,
  isClaimable,
  mirrorOnchain,
  toClaimable,
} from './ledger-rules';
import { checkAmount, checkConfig, checkId, checkLimit, checkOnchainState, checkPendingClaim, checkReserveRequest, checkTime } from './ledger-validate';
import type { LedgerChannel, OnchainChannelState, PaymentLedger, PaymentReceipt, PendingClaim, ReserveRequest } from './payment-ledger';

export type OpenSqliteLedgerOptions = {
  /** The database file (created with its directory if missing), e.g. `<dataDir>/payments.sqlite`. */
  file: string;
  /**
   * `full` (default): every commit is fsynced before it resolves: it survives kill -9 and power loss. `normal`: WAL
   * without an fsync per commit: it survives kill -9 (the OS holds the WAL), and a power loss can roll back the last
   * commits — the gateway's own charges of those calls, never a payer's money (a payer is never charged twice: a lost
   * receipt takes its charge with it). ~1–3 ms less per paid call on a busy disk.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process's transaction on the same file before failing (SQLITE_BUSY). */
  busyTimeoutMs?: number;
};

/**
 * Each entry moves the schema one version up; the index + 1 is the version it reaches. Never edit a shipped entry:
 * add one. Amounts are decimal TEXT (SQLite integers stop at 2^63) and all arithmetic is bigint in JS, inside the
 * same IMMEDIATE transaction that read them.
 */
const MIGRATIONS = [
  `CREATE TABLE channels (
     channel_id TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     charged TEXT NOT NULL,
     reserved TEXT NOT NULL,
     signed_max TEXT NOT NULL,
     signature TEXT NOT NULL,
     deposited TEXT NOT NULL,
     claimed_onchain TEXT NOT NULL,
     withdraw_ready_at INTEGER NOT NULL,
     closed INTEGER NOT NULL,
     authorizer TEXT NOT NULL,
     onchain_block TEXT NOT NULL
   ) STRICT;
   CREATE TABLE reservations (
     reservation_id TEXT PRIMARY KEY,
     request_id TEXT NOT NULL UNIQUE,
     channel_id TEXT NOT NULL REFERENCES channels (channel_id),
     ceiling TEXT NOT NULL,
     voucher_max TEXT NOT NULL,
     resource TEXT NOT NULL,
     reserved_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX reservations_by_expiry ON reservations (expires_at);
   CREATE TABLE receipts (
     request_id TEXT PRIMARY KEY,
     reservation_id TEXT NOT NULL UNIQUE,
     channel_id TEXT NOT NULL REFERENCES channels (channel_id),
     charged TEXT NOT NULL,
     cumulative TEXT NOT NULL,
     ceiling TEXT NOT NULL,
     voucher_max TEXT NOT NULL,
     resource TEXT NOT NULL,
     at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE claims (
     tx_hash TEXT PRIMARY KEY,
     sent_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'mined', 'dropped')),
     settled_at INTEGER
   ) STRICT;
   CREATE INDEX claims_by_status ON claims (status);
   CREATE TABLE claim_entries (
     tx_hash TEXT NOT NULL REFERENCES claims (tx_hash),
     channel_id TEXT NOT NULL REFERENCES channels (channel_id),
     amount TEXT NOT NULL,
     PRIMARY KEY (tx_hash, channel_id)
   ) STRICT;
   CREATE INDEX claim_entries_by_channel ON claim_entries (channel_id);`,
];

/**
 * The ledger of a single gateway: one SQLite file in WAL mode with `synchronous=FULL` for what moves money, so a
 * committed receipt (and a claim sent) is on disk (WAL fsynced) before the call resolves and survives kill -9 and power
 * loss; reservations and mirrored chain state skip the fsync (see `write`). Every change runs in a
 * `BEGIN IMMEDIATE` transaction, which takes the file's write lock before reading, so two processes on one file are
 * serialised too (the second waits up to `busyTimeoutMs`). better-sqlite3 is synchronous: an operation runs to its
 * end before the next starts, so within a process there is nothing to interleave.
 *
 * @example
 * const ledger = await openSqliteLedger({ file: path.join(dataDir, 'payments.sqlite') })
 * @throws {LedgerError} `schema_too_new` when the file was written by a newer Veil
 */
export async function openSqliteLedger({ file, busyTimeoutMs = 5_000, synchronous = 'full' }: OpenSqliteLedgerOptions): Promise<PaymentLedger> {
  if (synchronous !== 'full' && synchronous !== 'normal') throw new LedgerError('invalid_argument', 'synchronous must be "full" or "normal"');
  checkId('file', file, 4096);
  checkTime('busyTimeoutMs', busyTimeoutMs);
  if (file !== ':memory:') {
    // Owner only: the file holds the payers' latest vouchers, and a voucher not yet spent would pay for a stranger's
    // calls. SQLite gives the -wal and -shm files the main file's permissions.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
  }
  // Loaded here, not at import: the SDK imports payments/ for its wire messages and must not load a native driver.
  const Sqlite = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Sqlite(file);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (file !== ':memory:' && mode !== 'wal') throw new Error(`SQLite refused WAL mode (journal_mode is ${String(mode)})`);
    // FULL: fsync the WAL at every commit (NORMAL would lose the last commits on power loss).
    db.pragma(synchronous === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return sqliteLedger(db, synchronous);
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
    const current = (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new LedgerError('schema_too_new', `the ledger file has schema version ${current}; this Veil knows up to ${MIGRATIONS.length}`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      db.exec(MIGRATIONS[version - 1]!);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(version);
    }
  }).immediate();
}

function sqliteLedger(db: Database.Database, synchronous: 'full' | 'normal'): PaymentLedger {
  const q = {
    channel: db.prepare<[string], ChannelRow>('SELECT * FROM channels WHERE channel_id = ?'),
    writeChannel: db.prepare(
      `INSERT INTO channels (channel_id, config, charged, reserved, signed_max, signature, deposited, claimed_onchain, withdraw_ready_at, closed, authorizer, onchain_block)
       VALUES (@channel_id, @config, @charged, @reserved, @signed_max, @signature, @deposited, @claimed_onchain, @withdraw_ready_at, @closed, @authorizer, @onchain_block)
       ON CONFLICT (channel_id) DO UPDATE SET charged = excluded.charged, reserved = excluded.reserved, signed_max = excluded.signed_max,
         signature = excluded.signature, deposited = excluded.deposited, claimed_onchain = excluded.claimed_onchain,
         withdraw_ready_at = excluded.withdraw_ready_at, closed = excluded.closed, authorizer = excluded.authorizer, onchain_block = excluded.onchain_block`,
    ),
    receipt: db.prepare<[string], ReceiptRow>('SELECT * FROM receipts WHERE request_id = ?'),
    receiptOfReservation: db.prepare<[string], { request_id: string }>('SELECT request_id FROM receipts WHERE reservation_id = ?'),
    insertReceipt: db.prepare(
      `INSERT INTO receipts (request_id, reservation_id, channel_id, charged, cumulative, ceiling, voucher_max, resource, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    reservation: db.prepare<[string], ReservationRow>('SELECT * FROM reservations WHERE reservation_id = ?'),
    reservationOfRequest: db.prepare<[string], ReservationRow>('SELECT * FROM reservations WHERE request_id = ?'),
    lapsedOfChannel: db.prepare<[string, number], ReservationRow>('SELECT * FROM reservations WHERE channel_id = ? AND expires_at <= ? ORDER BY reservation_id'),
    renew: db.prepare<[number, string]>('UPDATE reservations SET expires_at = max(expires_at, ?) WHERE reservation_id = ?'),
    insertReservation: db.prepare(
      `INSERT INTO reservations (reservation_id, request_id, channel_id, ceiling, voucher_max, resource, reserved_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteReservation: db.prepare<[string]>('DELETE FROM reservations WHERE reservation_id = ?'),
    expired: db.prepare<[number], ReservationRow>('SELECT * FROM reservations WHERE expires_at <= ? ORDER BY channel_id, reservation_id'),
    claim: db.prepare<[string], { status: string }>('SELECT status FROM claims WHERE tx_hash = ?'),
    insertClaim: db.prepare("INSERT INTO claims (tx_hash, sent_at, status) VALUES (?, ?, 'pending')"),
    insertEntry: db.prepare('INSERT INTO claim_entries (tx_hash, channel_id, amount) VALUES (?, ?, ?)'),
    settle: db.prepare<[string, number, string]>('UPDATE claims SET status = ?, settled_at = ? WHERE tx_hash = ?'),
    entries: db.prepare<[string], { channel_id: string; amount: string }>('SELECT channel_id, amount FROM claim_entries WHERE tx_hash = ? ORDER BY channel_id'),
    pending: db.prepare<[], { tx_hash: string; sent_at: number }>("SELECT tx_hash, sent_at FROM claims WHERE status = 'pending' ORDER BY sent_at, tx_hash"),
    // Text inequality is numeric inequality for canonical decimals; the ordering and `>` are done in bigint below.
    claimCandidates: db.prepare<[], ChannelRow>(
      `SELECT * FROM channels WHERE closed = 0 AND charged <> claimed_onchain AND channel_id NOT IN
         (SELECT e.channel_id FROM claim_entries e JOIN claims c ON c.tx_hash = e.tx_hash WHERE c.status = 'pending')`,
    ),
    amounts: db.prepare<[], Pick<ChannelRow, 'charged' | 'reserved' | 'claimed_onchain'>>('SELECT charged, reserved, claimed_onchain FROM channels'),
    receiptCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM receipts'),
  };

  const channelOf = (id: string) => {
    const row = q.channel.get(id);
    return row && toChannel(row);
  };
  const writeChannel = (c: LedgerChannel) => q.writeChannel.run(channelParams(c, (closed) => (closed ? 1 : 0)));
  let closed = false;
  // With synchronous=full only what must survive a power loss pays for an fsync: charges with their receipts, and the
  // claims sent to the chain. A reservation, a release, a reap or a mirrored chain state is written without one: a
  // power loss can only lose such a change whole (WAL frames are checksummed), and each is harmless to lose — a
  // reservation of a dead run is freed at start anyway, and chain state is read again. The next durable commit's fsync
  // carries every earlier frame of the WAL with it. One fsync per paid call instead of two.
  let syncMode = synchronous === 'normal' ? 'NORMAL' : 'FULL';
  const setSync = (mode: 'NORMAL' | 'FULL') => {
    if (synchronous === 'normal' || syncMode === mode) return;
    db.pragma(`synchronous = ${mode}`);
    syncMode = mode;
  };
  /** Runs `fn` in one BEGIN IMMEDIATE transaction (rolled back if it throws); `durable` ones are fsynced (see above). */
  const write = <A extends unknown[], T>(fn: (...args: A) => T, durable = false) => {
    const tx = db.transaction(fn);
    return (...args: A): T => {
      if (closed) throw new LedgerError('ledger_closed', 'the ledger is closed');
      setSync(durable ? 'FULL' : 'NORMAL');
      return tx.immediate(...args);
    };
  };
  const read = <A extends unknown[], T>(fn: (...args: A) => T) => {
    const tx = db.transaction(fn);
    return (...args: A): T => {
      if (closed) throw new LedgerError('ledger_closed', 'the ledger is closed');
      return tx.deferred(...args);
    };
  };

  const drop = (row: ReservationRow) => {
    q.deleteReservation.run(row.reservation_id);
    writeChannel(afterRelease(channelOf(row.channel_id)!, BigInt(row.ceiling)));
  };
  const reserve = write((request: ReserveRequest) => {
    // The same steps in the same order as the PostgreSQL ledger (ledger-conformance.ts holds both to one model).
    for (const lapsed of q.lapsedOfChannel.all(request.channelId, request.at)) drop(lapsed);
    const receipt = q.receipt.get(request.requestId);
    if (receipt) return { kind: 'replay' as const, receipt: toReceipt(receipt) };
    const own = q.reservationOfRequest.get(request.requestId);
    if (own && Number(own.expires_at) > request.at) return { kind: 'busy' as const };
    const channel = channelOf(request.channelId);
    if (!channel) return { kind: 'channel_unknown' as const };
    const admission = decideAdmission(channel, request);
    if (admission.kind !== 'admit') return admission;
    // A lapsed reservation of this request id on another channel holds the id until the reaper frees it.
    if (own) return { kind: 'busy' as const };
    const reservationId = randomUUID();
    q.insertReservation.run(
      reservationId,
      request.requestId,
      request.channelId,
      request.ceiling.toString(),
      request.voucher.maxClaimableAmount.toString(),
      request.resource,
      request.at,
      request.expiresAt,
    );
    writeChannel(admission.channel);
    return { kind: 'reserved' as const, reservationId, channel: admission.channel };
  });

  const commit = write((reservationId: string, actual: bigint, at: number) => {
    const row = q.reservation.get(reservationId);
    if (!row) {
      const committed = q.receiptOfReservation.get(reservationId);
      if (committed) throw new LedgerError('reservation_committed', `commit: reservation ${reservationId} was already committed (request ${committed.request_id})`);
      throw new LedgerError('reservation_unknown', `commit: no live reservation ${reservationId} (never made, released or reaped)`);
    }
    const reservation = toReservation(row);
    const { channel, receipt } = decideCommit(channelOf(reservation.channelId)!, reservation, actual, at);
    q.deleteReservation.run(reservationId);
    writeChannel(channel);
    q.insertReceipt.run(...receiptValues(receipt, reservationId));
    return receipt;
  }, true);

  const release = write((reservationId: string) => {
    const row = q.reservation.get(reservationId);
    if (row) drop(row);
  });
  const renew = write((ids: readonly string[], expiresAt: number) => {
    let live = 0;
    for (const id of ids) live += q.renew.run(expiresAt, id).changes;
    return live;
  });
  const reapExpired = write((at: number) => {
    const rows = q.expired.all(at);
    for (const row of rows) drop(row);
    return rows.length;
  });

  const updateOnchain = write((channelId: string, config: ChannelConfig, state: OnchainChannelState) => {
    const next = mirrorOnchain(channelOf(channelId), channelId, config, state);
    if (next) writeChannel(next);
  });

  const claimable = read((limit: number) => q.claimCandidates.all().map(toChannel).filter(isClaimable).sort(byUnclaimedDesc).slice(0, limit).map(toClaimable));

  const recordClaim = write((claim: PendingClaim) => {
    if (q.claim.get(claim.txHash)) throw new LedgerError('claim_exists', `recordClaim: transaction ${claim.txHash} is already recorded`);
    q.insertClaim.run(claim.txHash, claim.sentAt);
    for (const entry of claim.entries) {
      checkClaimEntry(channelOf(entry.channelId), entry.channelId, entry.amount);
      q.insertEntry.run(claim.txHash, entry.channelId, entry.amount.toString());
    }
  }, true);

  const settleClaim = write((txHash: string, outcome: 'mined' | 'dropped', at: number) => {
    const claim = q.claim.get(txHash);
    if (!claim) throw new LedgerError('claim_unknown', `settleClaim: transaction ${txHash} was never recorded`);
    if (claim.status !== 'pending') return; // settled before (a restarted worker settling again): nothing changes
    q.settle.run(outcome, at, txHash);
    if (outcome !== 'mined') return;
    for (const entry of q.entries.all(txHash)) writeChannel(afterClaimMined(channelOf(entry.channel_id)!, BigInt(entry.amount)));
  }, true);

  const pendingClaims = read(() =>
    q.pending.all().map((c) => ({
      txHash: c.tx_hash,
      sentAt: c.sent_at,
      entries: q.entries.all(c.tx_hash).map((e) => ({ channelId: e.channel_id, amount: BigInt(e.amount) })),
    })),
  );

  const totals = read(() => {
    let charged = 0n;
    let reserved = 0n;
    let claimedOnchain = 0n;
    let channels = 0;
    for (const row of q.amounts.iterate()) {
      charged += BigInt(row.charged);
      reserved += BigInt(row.reserved);
      claimedOnchain += BigInt(row.claimed_onchain);
      channels++;
    }
    return { charged, reserved, claimedOnchain, receipts: q.receiptCount.get()!.n, channels };
  });

  const get = <T>(fn: () => T) => {
    if (closed) throw new LedgerError('ledger_closed', 'the ledger is closed');
    return fn();
  };

  return {
    async reserve(request) {
      checkReserveRequest(request);
      return reserve(request);
    },
    async commit(reservationId, actual, at) {
      checkId('reservationId', reservationId);
      checkAmount('actual', actual);
      checkTime('at', at);
      return commit(reservationId, actual, at);
    },
    async release(reservationId) {
      checkId('reservationId', reservationId);
      release(reservationId);
    },
    async renew(reservationIds, expiresAt) {
      for (const id of reservationIds) checkId('reservationId', id);
      checkTime('expiresAt', expiresAt);
      return reservationIds.length === 0 ? 0 : renew(reservationIds, expiresAt);
    },
    async reapExpired(at) {
      checkTime('at', at);
      return reapExpired(at);
    },
    async receipt(requestId) {
      checkId('requestId', requestId);
      return get(() => {
        const row = q.receipt.get(requestId);
        return row && toReceipt(row);
      });
    },
    async channel(channelId) {
      checkId('channelId', channelId);
      return get(() => channelOf(channelId));
    },
    async updateOnchain(channelId, config, state) {
      checkId('channelId', channelId);
      checkConfig(config);
      checkOnchainState(state);
      updateOnchain(channelId, config, state);
    },
    async claimable(limit) {
      return claimable(checkLimit(limit));
    },
    async recordClaim(claim) {
      checkPendingClaim(claim);
      recordClaim(claim);
    },
    async settleClaim(txHash, outcome, at) {
      checkId('txHash', txHash);
      if (outcome !== 'mined' && outcome !== 'dropped') throw new LedgerError('invalid_argument', `outcome must be 'mined' or 'dropped', got ${String(outcome)}`);
      checkTime('at', at);
      settleClaim(txHash, outcome, at);
    },
    async pendingClaims() {
      return pendingClaims();
    },
    async totals() {
      return totals();
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
