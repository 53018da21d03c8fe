import pg from 'pg';
import { findPostgresBin, startPostgres, type StartedPostgres } from '../test/support/start-postgres';
import { describeLedgerConformance, openChannel, reservedId, testChannelId, testRequest } from './ledger-conformance';
import { isLedgerError } from './ledger-error';
import { openPostgresLedger } from './open-postgres-ledger';
import type { PaymentLedger } from './payment-ledger';

// A real server, started from the machine's PostgreSQL binaries (Debian `postgresql`, installed by .ci/run).
const bin = findPostgresBin();

if (!bin) {
  console.warn('openPostgresLedger tests SKIPPED: PostgreSQL server binaries not found (apt-get install postgresql, or set VEIL_TEST_PG_BIN)');
  test.skip('openPostgresLedger against a real PostgreSQL server (binaries not found)', () => {});
} else {
  let server: StartedPostgres;
  let admin: pg.Pool;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres({ bin });
    admin = new pg.Pool({ connectionString: server.connectionString, max: 2 });
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
  /** A fresh empty database per ledger, so every test starts from nothing. */
  const freshDatabase = async () => {
    const name = `ledger_${++databases}`;
    await admin.query(`CREATE DATABASE ${name}`);
    return server.connectionStringFor(name);
  };

  describeLedgerConformance('openPostgresLedger', async () => openPostgresLedger({ connectionString: await freshDatabase() }));

  describe('openPostgresLedger: two replicas on one database', () => {
    let replicas: PaymentLedger[] = [];
    afterEach(async () => {
      await Promise.all(replicas.map((l) => l.close()));
      replicas = [];
    });
    /** Two ledgers with their own pools, opened at the same moment (both migrate under the advisory lock). */
    const twoReplicas = async () => {
      const connectionString = await freshDatabase();
      replicas = await Promise.all([openPostgresLedger({ connectionString }), openPostgresLedger({ connectionString })]);
      return replicas as [PaymentLedger, PaymentLedger];
    };

    test('opened at once, both migrate the fresh database safely: one schema version, both see the same state', async () => {
      const [a, b] = await twoReplicas();
      await openChannel(a);
      expect(await b.channel(testChannelId(1))).toMatchObject({ deposited: 1_000_000n });
      const check = new pg.Client({ connectionString: server.connectionStringFor(`ledger_${databases}`) });
      await check.connect();
      expect((await check.query('SELECT version FROM schema_version')).rows).toEqual([{ version: 1 }]);
      await check.end();
    });

    test('100 reservations raced across two replicas against a voucher that covers 50: exactly 50 admitted, charged exact', async () => {
      const [a, b] = await twoReplicas();
      await openChannel(a);
      const ceiling = 1_000n;
      const voucherMax = 50n * ceiling;
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).reserve(testRequest(i, { voucherMax, ceiling }))));
      const admitted = results.map((r, i) => ({ r, replica: i % 2 === 0 ? a : b })).filter(({ r }) => r.kind === 'reserved');
      expect(admitted).toHaveLength(50);
      expect(results.filter((r) => r.kind === 'insufficient_voucher')).toHaveLength(50);
      // Commit each on the other replica than the one that reserved it.
      const actuals = admitted.map((_, i) => BigInt((i * 7919) % 1001));
      await Promise.all(admitted.map(({ r, replica }, i) => (replica === a ? b : a).commit(reservedId(r), actuals[i]!, 3_000)));
      const channel = (await b.channel(testChannelId(1)))!;
      expect(channel).toMatchObject({ charged: actuals.reduce((x, y) => x + y, 0n), reserved: 0n, signedMax: voucherMax });
      expect(await a.totals()).toMatchObject({ receipts: 50, charged: channel.charged });
    });

    test('one reservation committed by both replicas at once: one receipt, one charge, the other refused', async () => {
      const [a, b] = await twoReplicas();
      await openChannel(a);
      for (let i = 0; i < 10; i++) {
        const id = reservedId(await a.reserve(testRequest(i)));
        const outcomes = await Promise.allSettled([a.commit(id, 10n, 2_000), b.commit(id, 10n, 2_000)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(isLedgerError(refused.reason, 'reservation_committed')).toBe(true);
      }
      expect(await b.channel(testChannelId(1))).toMatchObject({ charged: 100n, reserved: 0n });
    });

    test('one request id reserved on both replicas at once: one reservation, busy elsewhere; reaping and commits race safely', async () => {
      const [a, b] = await twoReplicas();
      await openChannel(a);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).reserve(testRequest(1))));
      expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'busy')).toHaveLength(19);
      // 40 short-lived reservations, reaped by both replicas while the other half is committed.
      const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => a.reserve(testRequest(100 + i, { ceiling: 10n, expiresAt: 5_000 }))));
      const [reapedA, reapedB] = await Promise.all([a.reapExpired(5_000), b.reapExpired(5_000), ...ids.slice(0, 20).map((r) => b.commit(reservedId(r), 10n, 4_000).catch(() => undefined))]);
      const channel = (await a.channel(testChannelId(1)))!;
      const receipts = (await a.totals()).receipts;
      expect((reapedA as number) + (reapedB as number) + receipts).toBe(40);
      expect(channel).toMatchObject({ charged: BigInt(receipts) * 10n, reserved: 100n });
    });
  });

  describe('openPostgresLedger: schema', () => {
    test('a database migrated by a newer Veil is refused with schema_too_new', async () => {
      const connectionString = await freshDatabase();
      await (await openPostgresLedger({ connectionString })).close();
      const client = new pg.Client({ connectionString });
      await client.connect();
      await client.query('INSERT INTO schema_version (version) VALUES (2)');
      await client.end();
      const error = await openPostgresLedger({ connectionString }).catch((e: unknown) => e);
      expect(isLedgerError(error, 'schema_too_new') && error.message).toMatch(/schema version 2; this Veil knows up to 1/);
    });
  });
}
