import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ChannelConfig } from '../chain';
import { LedgerError } from './ledger-error';
import { channelParams, receiptValues, toChannel, toReceipt, toReservation, type ChannelRow, type ReceiptRow, type ReservationRow } from './ledger-rows';
import {
  afterClaimMined,
  afterRelease,
  checkClaimEntry,
  decideAdmission,
  decideCommit,
  mirrorOnchain,
  toClaimable,
} from './ledger-rules';
import { checkAmount, checkConfig, checkId, checkLimit, checkOnchainState, checkPendingClaim, checkReserveRequest, checkTime } from './ledger-validate';
import type { LedgerChannel, PaymentLedger, PaymentReceipt, ReserveResult } from './payment-ledger';

export type OpenPostgresLedgerOptions = {
  /** `postgres://user:pass@host:port/db`; without it (and without `pool.host`…) pg reads the PG* environment variables. */
  connectionString?: string;
  /** Further pool settings (`max`, `ssl`, timeouts…). Point the ledger at its own database or schema: its tables are named plainly. */
  pool?: Omit<pg.PoolConfig, 'connectionString'>;
  /** Errors of idle pooled connections (a server restart): the next query fails visibly anyway, so the default only drops them. */
  onIdleError?: (error: Error) => void;
};

/**
 * Each entry moves the schema one version up (index + 1 = the version it reaches); never edit a shipped entry.
 * NUMERIC(39,0) holds every uint128; ids are COLLATE "C" so ordering is byte order, as in SQLite. The CHECKs restate
 * the money rules so even a hand-edited row cannot break them.
 */
const MIGRATIONS = [
  `CREATE TABLE channels (
     channel_id TEXT COLLATE "C" PRIMARY KEY,
     config TEXT NOT NULL,
     charged NUMERIC(39,0) NOT NULL CHECK (charged >= 0),
     reserved NUMERIC(39,0) NOT NULL CHECK (reserved >= 0),
     signed_max NUMERIC(39,0) NOT NULL,
     signature TEXT NOT NULL,
     deposited NUMERIC(39,0) NOT NULL,
     claimed_onchain NUMERIC(39,0) NOT NULL,
     withdraw_ready_at BIGINT NOT NULL,
     closed BOOLEAN NOT NULL,
     authorizer TEXT NOT NULL,
     onchain_block NUMERIC(39,0) NOT NULL,
     CHECK (charged + reserved <= signed_max)
   );
   CREATE TABLE reservations (
     reservation_id TEXT COLLATE "C" PRIMARY KEY,
     request_id TEXT COLLATE "C" NOT NULL UNIQUE,
     channel_id TEXT COLLATE "C" NOT NULL REFERENCES channels (channel_id),
     ceiling NUMERIC(39,0) NOT NULL,
     voucher_max NUMERIC(39,0) NOT NULL,
     resource TEXT NOT NULL,
     reserved_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   CREATE INDEX reservations_by_expiry ON reservations (expires_at);
   CREATE INDEX reservations_by_channel ON reservations (channel_id);
   CREATE TABLE receipts (
     request_id TEXT COLLATE "C" PRIMARY KEY,
     reservation_id TEXT COLLATE "C" NOT NULL UNIQUE,
     channel_id TEXT COLLATE "C" NOT NULL REFERENCES channels (channel_id),
     charged NUMERIC(39,0) NOT NULL,
     cumulative NUMERIC(39,0) NOT NULL,
     ceiling NUMERIC(39,0) NOT NULL,
     voucher_max NUMERIC(39,0) NOT NULL,
     resource TEXT NOT NULL,
     at BIGINT NOT NULL
   );
   CREATE TABLE claims (
     tx_hash TEXT COLLATE "C" PRIMARY KEY,
     sent_at BIGINT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'mined', 'dropped')),
     settled_at BIGINT
   );
   CREATE INDEX claims_by_status ON claims (status);
   CREATE TABLE claim_entries (
     tx_hash TEXT COLLATE "C" NOT NULL REFERENCES claims (tx_hash),
     channel_id TEXT COLLATE "C" NOT NULL REFERENCES channels (channel_id),
     amount NUMERIC(39,0) NOT NULL,
     PRIMARY KEY (tx_hash, channel_id)
   );
   CREATE INDEX claim_entries_by_channel ON claim_entries (channel_id);`,
];

/** pg_advisory_xact_lock key ("VeilLedg"): replicas opening one database at once migrate one after the other. */
const MIGRATION_LOCK = '6225768917338367079';

/** Serialization failures and deadlocks: PostgreSQL rolled the transaction back and asks for a retry. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 4;

const channelValues = (c: LedgerChannel) => Object.values(channelParams(c, (closed) => closed));

// Named statements: pg prepares each once per connection and reuses the plan.
const SQL = {
  lockChannel: { name: 'ledger_lock_channel', text: 'SELECT * FROM channels WHERE channel_id = $1 FOR UPDATE' },
  channel: { name: 'ledger_channel', text: 'SELECT * FROM channels WHERE channel_id = $1' },
  insertChannel: {
    name: 'ledger_insert_channel',
    text: `INSERT INTO channels (channel_id, config, charged, reserved, signed_max, signature, deposited, claimed_onchain, withdraw_ready_at, closed, authorizer, onchain_block)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (channel_id) DO NOTHING RETURNING 1`,
  },
  // Only under the row lock taken in the same transaction, so the values written were computed from the current row.
  writeChannel: {
    name: 'ledger_write_channel',
    text: `UPDATE channels SET charged = $2, reserved = $3, signed_max = $4, signature = $5, deposited = $6, claimed_onchain = $7,
             withdraw_ready_at = $8, closed = $9, authorizer = $10, onchain_block = $11 WHERE channel_id = $1`,
  },
  // Runs after the channel lock, so a receipt or reservation committed by the lock's previous holder is seen.
  // A lapsed reservation of the request is not "busy": under this channel's lock it was just dropped (lapseOfChannel),
  // and one on another channel loses the unique index to this insert only if it is still there.
  requestState: {
    name: 'ledger_request_state',
    text: `SELECT r.*, EXISTS (SELECT 1 FROM reservations WHERE request_id = $1 AND expires_at > $2) AS busy
           FROM (SELECT 1) AS one LEFT JOIN receipts r ON r.request_id = $1`,
  },
  lapseOfChannel: {
    name: 'ledger_lapse_of_channel',
    text: 'DELETE FROM reservations WHERE channel_id = $1 AND expires_at <= $2 RETURNING ceiling',
  },
  // No channel lock: a lease is not part of the channel's money, and a reservation taken meanwhile is simply not renewed.
  renew: {
    name: 'ledger_renew',
    text: 'UPDATE reservations SET expires_at = GREATEST(expires_at, $2) WHERE reservation_id = ANY ($1)',
  },
  insertReservation: {
    name: 'ledger_insert_reservation',
    text: `INSERT INTO reservations (reservation_id, request_id, channel_id, ceiling, voucher_max, resource, reserved_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_id) DO NOTHING RETURNING 1`,
  },
  lockChannelOfReservation: {
    name: 'ledger_lock_channel_of_reservation',
    text: `SELECT c.* FROM channels c JOIN reservations r ON r.channel_id = c.channel_id WHERE r.reservation_id = $1 FOR UPDATE OF c`,
  },
  // The compare-and-set of commit and release: only one transaction gets the row back.
  takeReservation: { name: 'ledger_take_reservation', text: 'DELETE FROM reservations WHERE reservation_id = $1 RETURNING *' },
  receiptOfReservation: { name: 'ledger_receipt_of_reservation', text: 'SELECT request_id FROM receipts WHERE reservation_id = $1' },
  insertReceipt: {
    name: 'ledger_insert_receipt',
    text: `INSERT INTO receipts (request_id, reservation_id, channel_id, charged, cumulative, ceiling, voucher_max, resource, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (request_id) DO NOTHING RETURNING 1`,
  },
  receipt: { name: 'ledger_receipt', text: 'SELECT * FROM receipts WHERE request_id = $1' },
} as const;

/**
 * The ledger for several gateway replicas on one PostgreSQL database. Every change is one transaction that first
 * locks the channel row (`SELECT … FOR UPDATE`) and re-reads what it decides on under that lock, and takes a
 * reservation with `DELETE … RETURNING` (only one transaction gets it back), so two replicas can never spend the same
 * credit, commit one reservation twice, or write two receipts for a request id. Locks are always taken channel rows
 * first (in id order when several), then their reservations, so replicas cannot deadlock one another; a deadlock or
 * serialization failure reported anyway is retried. Commits use `synchronous_commit = on` whatever the server's default.
 *
 * @example
 * const ledger = await openPostgresLedger({ connectionString: 'postgres://veil@db/veil' })
 * @throws {LedgerError} `schema_too_new` when the database was migrated by a newer Veil
 */
export async function openPostgresLedger({ connectionString, pool: poolOptions, onIdleError = () => {} }: OpenPostgresLedgerOptions = {}): Promise<PaymentLedger> {
  // Loaded here, not at import: the SDK imports payments/ for its wire messages and never needs a SQL driver.
  const { Pool } = require('pg') as typeof import('pg');
  const pool = new Pool({
    // Bounded waits by default: a pool that is exhausted or a server that does not answer fails the call instead of
    // hanging it, and a replica that dies inside a transaction (holding a channel's row lock) is cut off by the server.
    connectionTimeoutMillis: 10_000,
    idle_in_transaction_session_timeout: 30_000,
    keepAlive: true,
    ...poolOptions,
    ...(connectionString === undefined ? {} : { connectionString }),
  });
  // Without a listener, an idle connection's error (server restart) would be an uncaught 'error' event.
  pool.on('error', onIdleError);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return postgresLedger(pool);
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Transactional DDL under one advisory lock: a second replica waits, then finds the tables and the version.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const current = Number((await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')).rows[0]?.v ?? 0);
    if (current > MIGRATIONS.length) {
      throw new LedgerError('schema_too_new', `the ledger database has schema version ${current}; this Veil knows up to ${MIGRATIONS.length}`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

function postgresLedger(pool: pg.Pool): PaymentLedger {
  let closed = false;

  /** Runs `fn` in one READ COMMITTED transaction with durable commit; retries what PostgreSQL asks to retry. */
  async function transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (closed) throw new LedgerError('ledger_closed', 'the ledger is closed');
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO on');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error; // the connection is gone: do not hand it back to the pool
        }
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }
  async function query<R extends pg.QueryResultRow>(client: pg.ClientBase | pg.Pool, config: { name?: string; text: string }, values: unknown[]) {
    return (await client.query<R>({ ...config, values })).rows;
  }
  const lockChannel = async (client: pg.PoolClient, id: string) => {
    const [row] = await query<ChannelRow>(client, SQL.lockChannel, [id]);
    return row && toChannel(row);
  };
  // The config is immutable (it is what the id hashes): only the insert writes it.
  const writeChannel = (client: pg.PoolClient, channel: LedgerChannel) => query(client, SQL.writeChannel, channelValues(channel).toSpliced(1, 1));
  const read = () => {
    if (closed) throw new LedgerError('ledger_closed', 'the ledger is closed');
    return pool;
  };

  /** A reservation that could not be taken: committed before (its receipt names it) or never/no longer live. */
  async function missingReservation(client: pg.PoolClient, reservationId: string): Promise<never> {
    const [committed] = await query<{ request_id: string }>(client, SQL.receiptOfReservation, [reservationId]);
    if (committed) throw new LedgerError('reservation_committed', `commit: reservation ${reservationId} was already committed (request ${committed.request_id})`);
    throw new LedgerError('reservation_unknown', `commit: no live reservation ${reservationId} (never made, released or reaped)`);
  }

  return {
    async reserve(request) {
      checkReserveRequest(request);
      return transaction(async (client): Promise<ReserveResult> => {
        let channel = await lockChannel(client, request.channelId);
        if (channel) {
          const lapsed = await query<{ ceiling: string }>(client, SQL.lapseOfChannel, [request.channelId, request.at]);
          for (const row of lapsed) channel = afterRelease(channel, BigInt(row.ceiling));
          if (lapsed.length > 0) await writeChannel(client, channel);
        }
        const [state] = await query<ReceiptRow & { busy: boolean }>(client, SQL.requestState, [request.requestId, request.at]);
        if (state?.request_id != null) return { kind: 'replay', receipt: toReceipt(state) };
        if (state?.busy) return { kind: 'busy' };
        if (!channel) return { kind: 'channel_unknown' };
        const admission = decideAdmission(channel, request);
        if (admission.kind !== 'admit') return admission;
        const reservationId = randomUUID();
        const inserted = await query(client, SQL.insertReservation, [
          reservationId,
          request.requestId,
          request.channelId,
          request.ceiling.toString(),
          request.voucher.maxClaimableAmount.toString(),
          request.resource,
          request.at,
          request.expiresAt,
        ]);
        // The same request id reserved at this moment on another channel (a different row lock) won the unique index.
        if (inserted.length === 0) return { kind: 'busy' };
        await writeChannel(client, admission.channel);
        return { kind: 'reserved', reservationId, channel: admission.channel };
      });
    },

    async commit(reservationId, actual, at) {
      checkId('reservationId', reservationId);
      checkAmount('actual', actual);
      checkTime('at', at);
      return transaction(async (client) => {
        const [locked] = await query<ChannelRow>(client, SQL.lockChannelOfReservation, [reservationId]);
        if (!locked) return missingReservation(client, reservationId);
        const [taken] = await query<ReservationRow>(client, SQL.takeReservation, [reservationId]);
        if (!taken) return missingReservation(client, reservationId); // a concurrent commit or release got it first
        const { channel, receipt } = decideCommit(toChannel(locked), toReservation(taken), actual, at);
        await writeChannel(client, channel);
        const written = await query(client, SQL.insertReceipt, receiptValues(receipt, reservationId));
        // Only when one request id was reserved on two channels at once and the other was committed first.
        if (written.length === 0) throw new LedgerError('reservation_committed', `commit: request ${receipt.requestId} already has a receipt`);
        return receipt;
      });
    },

    async release(reservationId) {
      checkId('reservationId', reservationId);
      await transaction(async (client) => {
        const [locked] = await query<ChannelRow>(client, SQL.lockChannelOfReservation, [reservationId]);
        if (!locked) return;
        const [taken] = await query<ReservationRow>(client, SQL.takeReservation, [reservationId]);
        if (taken) await writeChannel(client, afterRelease(toChannel(locked), BigInt(taken.ceiling)));
      });
    },

    async renew(reservationIds, expiresAt) {
      for (const id of reservationIds) checkId('reservationId', id);
      checkTime('expiresAt', expiresAt);
      if (reservationIds.length === 0) return 0;
      return (await read().query({ ...SQL.renew, values: [reservationIds, expiresAt] })).rowCount ?? 0;
    },

    async reapExpired(at) {
      checkTime('at', at);
      return transaction(async (client) => {
        const ids = (await query<{ channel_id: string }>(client, { text: 'SELECT DISTINCT channel_id FROM reservations WHERE expires_at <= $1' }, [at])).map(
          (r) => r.channel_id,
        );
        if (ids.length === 0) return 0;
        const channels = new Map(
          (await query<ChannelRow>(client, { text: 'SELECT * FROM channels WHERE channel_id = ANY ($1) ORDER BY channel_id FOR UPDATE' }, [ids])).map((r) => [
            r.channel_id,
            toChannel(r),
          ]),
        );
        const taken = await query<{ channel_id: string; ceiling: string }>(
          client,
          { text: 'DELETE FROM reservations WHERE expires_at <= $1 AND channel_id = ANY ($2) RETURNING channel_id, ceiling' },
          [at, ids],
        );
        for (const row of taken) channels.set(row.channel_id, afterRelease(channels.get(row.channel_id)!, BigInt(row.ceiling)));
        for (const channel of channels.values()) await writeChannel(client, channel);
        return taken.length;
      });
    },

    async receipt(requestId) {
      checkId('requestId', requestId);
      const [row] = await query<ReceiptRow>(read(), SQL.receipt, [requestId]);
      return row && toReceipt(row);
    },

    async channel(channelId) {
      checkId('channelId', channelId);
      const [row] = await query<ChannelRow>(read(), SQL.channel, [channelId]);
      return row && toChannel(row);
    },

    async updateOnchain(channelId, config, state) {
      checkId('channelId', channelId);
      checkConfig(config);
      checkOnchainState(state);
      // Two replicas may mirror a new channel at once: the loser of the insert locks the winner's row and mirrors onto it.
      for (let attempt = 0; attempt < 2; attempt++) {
        const done = await transaction(async (client) => {
          const existing = await lockChannel(client, channelId);
          const next = mirrorOnchain(existing, channelId, config, state);
          if (!next) return true;
          if (existing) {
            await writeChannel(client, next);
            return true;
          }
          return (await query(client, SQL.insertChannel, channelValues(next))).length === 1;
        });
        if (done) return;
      }
      throw new LedgerError('invariant_violated', `updateOnchain: channel ${channelId} could not be inserted nor locked`);
    },

    async claimable(limit) {
      checkLimit(limit);
      const rows = await query<ChannelRow>(
        read(),
        {
          name: 'ledger_claimable',
          text: `SELECT * FROM channels c WHERE NOT closed AND charged > claimed_onchain AND channel_id NOT LIKE 'apikey:%' AND NOT EXISTS
                   (SELECT 1 FROM claim_entries e JOIN claims k ON k.tx_hash = e.tx_hash WHERE k.status = 'pending' AND e.channel_id = c.channel_id)
                 ORDER BY charged - claimed_onchain DESC, channel_id LIMIT $1`,
        },
        [limit],
      );
      return rows.map((r) => toClaimable(toChannel(r)));
    },

    async recordClaim(claim) {
      checkPendingClaim(claim);
      await transaction(async (client) => {
        const inserted = await query(client, { text: "INSERT INTO claims (tx_hash, sent_at, status) VALUES ($1, $2, 'pending') ON CONFLICT DO NOTHING RETURNING 1" }, [
          claim.txHash,
          claim.sentAt,
        ]);
        if (inserted.length === 0) throw new LedgerError('claim_exists', `recordClaim: transaction ${claim.txHash} is already recorded`);
        const ids = claim.entries.map((e) => e.channelId);
        // No lock: charged only grows, so an amount within it now stays within it.
        const rows = await query<ChannelRow>(client, { text: 'SELECT * FROM channels WHERE channel_id = ANY ($1)' }, [ids]);
        const channels = new Map(rows.map((r) => [r.channel_id, toChannel(r)]));
        for (const entry of claim.entries) checkClaimEntry(channels.get(entry.channelId), entry.channelId, entry.amount);
        await query(client, { text: 'INSERT INTO claim_entries (tx_hash, channel_id, amount) SELECT $1, * FROM unnest($2::text[], $3::numeric[])' }, [
          claim.txHash,
          ids,
          claim.entries.map((e) => e.amount.toString()),
        ]);
      });
    },

    async settleClaim(txHash, outcome, at) {
      checkId('txHash', txHash);
      if (outcome !== 'mined' && outcome !== 'dropped') throw new LedgerError('invalid_argument', `outcome must be 'mined' or 'dropped', got ${String(outcome)}`);
      checkTime('at', at);
      await transaction(async (client) => {
        const [claim] = await query<{ status: string }>(client, { text: 'SELECT status FROM claims WHERE tx_hash = $1 FOR UPDATE' }, [txHash]);
        if (!claim) throw new LedgerError('claim_unknown', `settleClaim: transaction ${txHash} was never recorded`);
        if (claim.status !== 'pending') return; // settled before (a restarted worker settling again): nothing changes
        await query(client, { text: 'UPDATE claims SET status = $2, settled_at = $3 WHERE tx_hash = $1' }, [txHash, outcome, at]);
        if (outcome !== 'mined') return;
        const rows = await query<ChannelRow & { amount: string }>(
          client,
          {
            text: `SELECT c.*, e.amount FROM channels c JOIN claim_entries e ON e.channel_id = c.channel_id WHERE e.tx_hash = $1
                   ORDER BY c.channel_id FOR UPDATE OF c`,
          },
          [txHash],
        );
        for (const row of rows) await writeChannel(client, afterClaimMined(toChannel(row), BigInt(row.amount)));
      });
    },

    async pendingClaims() {
      const rows = await query<{ tx_hash: string; sent_at: string; channel_id: string; amount: string }>(
        read(),
        {
          text: `SELECT k.tx_hash, k.sent_at, e.channel_id, e.amount FROM claims k JOIN claim_entries e ON e.tx_hash = k.tx_hash
                 WHERE k.status = 'pending' ORDER BY k.sent_at, k.tx_hash, e.channel_id`,
        },
        [],
      );
      const claims = new Map<string, { txHash: string; sentAt: number; entries: { channelId: string; amount: bigint }[] }>();
      for (const row of rows) {
        let claim = claims.get(row.tx_hash);
        if (!claim) claims.set(row.tx_hash, (claim = { txHash: row.tx_hash, sentAt: Number(row.sent_at), entries: [] }));
        claim.entries.push({ channelId: row.channel_id, amount: BigInt(row.amount) });
      }
      return [...claims.values()];
    },

    async totals() {
      const [row] = await query<{ charged: string; reserved: string; claimed: string; channels: string; receipts: string }>(
        read(),
        {
          text: `SELECT coalesce(sum(charged), 0) AS charged, coalesce(sum(reserved), 0) AS reserved, coalesce(sum(claimed_onchain), 0) AS claimed,
                   count(*) AS channels, (SELECT count(*) FROM receipts) AS receipts FROM channels`,
        },
        [],
      );
      return {
        charged: BigInt(row!.charged),
        reserved: BigInt(row!.reserved),
        claimedOnchain: BigInt(row!.claimed),
        receipts: Number(row!.receipts),
        channels: Number(row!.channels),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
