import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createReservationLeases, DEFAULT_LEASE_MS } from './create-reservation-leases';
import { openChannel, reservedId, testRequest } from './ledger-conformance';
import { openSqliteLedger } from './open-sqlite-ledger';
import type { PaymentLedger } from './payment-ledger';

afterEach(() => jest.useRealTimers());

function fakeLedger() {
  const calls: { ids: string[]; expiresAt: number }[] = [];
  let fail = false;
  return {
    calls,
    failNext: () => (fail = true),
    ledger: {
      async renew(ids: readonly string[], expiresAt: number) {
        if (fail) {
          fail = false;
          throw new Error('ledger unreachable');
        }
        calls.push({ ids: [...ids], expiresAt });
        return ids.length;
      },
    },
  };
}

test('renews every held reservation in one write, three times per lease, only while something is held', async () => {
  jest.useFakeTimers({ now: 1_000_000 });
  const fake = fakeLedger();
  const leases = createReservationLeases({ ledger: fake.ledger, leaseMs: 9_000, maxMs: 60_000, now: Date.now });
  expect(leases.expiresAt()).toBe(1_009_000);
  await jest.advanceTimersByTimeAsync(30_000);
  expect(fake.calls).toEqual([]); // nothing held: no timer, no writes
  leases.hold('a');
  leases.hold('b');
  await jest.advanceTimersByTimeAsync(3_000);
  expect(fake.calls).toEqual([{ ids: ['a', 'b'], expiresAt: 1_033_000 + 9_000 }]);
  leases.drop('a');
  await jest.advanceTimersByTimeAsync(3_000);
  expect(fake.calls.at(-1)).toEqual({ ids: ['b'], expiresAt: 1_036_000 + 9_000 });
  leases.drop('b');
  const before = fake.calls.length;
  await jest.advanceTimersByTimeAsync(30_000);
  expect(fake.calls).toHaveLength(before);
  expect(leases.held).toBe(0);
});

test('a reservation is renewed for at most maxMs; a failed renewal is reported and the next one goes on', async () => {
  jest.useFakeTimers({ now: 0 });
  const fake = fakeLedger();
  const errors: unknown[] = [];
  const leases = createReservationLeases({ ledger: fake.ledger, leaseMs: 3_000, maxMs: 10_000, now: Date.now, onError: (e) => errors.push(e) });
  leases.hold('wedged');
  fake.failNext();
  await jest.advanceTimersByTimeAsync(1_000);
  expect(errors).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1_000);
  expect(fake.calls).toEqual([{ ids: ['wedged'], expiresAt: 5_000 }]);
  await jest.advanceTimersByTimeAsync(8_000);
  // Held since 0: renewals stop at 10 000, so its last lease ends by 10 000 + one lease at the latest.
  expect(Math.max(...fake.calls.map((c) => c.expiresAt))).toBeLessThanOrEqual(13_000);
  expect(leases.held).toBe(0);
});

test('the lease defaults to DEFAULT_LEASE_MS, is never longer than maxMs, and must be positive', () => {
  const { ledger } = fakeLedger();
  expect(createReservationLeases({ ledger, maxMs: 600_000, now: () => 0 }).expiresAt()).toBe(DEFAULT_LEASE_MS);
  expect(createReservationLeases({ ledger, leaseMs: 20_000, maxMs: 10_000, now: () => 0 }).expiresAt()).toBe(10_000);
  expect(() => createReservationLeases({ ledger, leaseMs: 0, maxMs: 10_000 })).toThrow(/positive/);
  expect(() => createReservationLeases({ ledger, maxMs: 0 })).toThrow(/positive/);
});

describe('two replicas on one ledger (SQLite stands in for the shared database)', () => {
  let dir: string;
  let ledger: PaymentLedger;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-leases-'));
    ledger = await openSqliteLedger({ file: path.join(dir, 'ledger.sqlite') });
    await openChannel(ledger, 1, { deposited: 1_000n });
  });
  afterEach(async () => {
    await ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a live call keeps its reservation past many leases; once its replica dies the retry is admitted within one lease', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const replicaA = createReservationLeases({ ledger, leaseMs: 6_000, maxMs: 600_000, now: Date.now });
    const id = reservedId(await ledger.reserve(testRequest(1, { ceiling: 1_000n, at: Date.now(), expiresAt: replicaA.expiresAt() })));
    replicaA.hold(id);
    // A minute of a long call on replica A: its retry through replica B is "busy" all along.
    for (let s = 0; s < 60; s += 5) {
      await jest.advanceTimersByTimeAsync(5_000);
      expect(await ledger.reserve(testRequest(1, { ceiling: 1_000n, at: Date.now(), expiresAt: Date.now() + 6_000 }))).toEqual({ kind: 'busy' });
    }
    // Replica A is SIGKILLed: nothing renews, nothing releases.
    replicaA.drop(id);
    const diedAt = Date.now();
    let admittedAfter = -1;
    for (let waited = 0; waited <= 7_000; waited += 500) {
      const at = diedAt + waited;
      const r = await ledger.reserve(testRequest(1, { ceiling: 1_000n, at, expiresAt: at + 6_000 }));
      if (r.kind === 'reserved') {
        admittedAfter = waited;
        expect(await ledger.commit(r.reservationId, 700n, at)).toMatchObject({ charged: 700n, cumulative: 700n });
        break;
      }
      expect(r).toEqual({ kind: 'busy' });
    }
    expect(admittedAfter).toBeGreaterThan(0);
    expect(admittedAfter).toBeLessThanOrEqual(6_000);
    expect(await ledger.totals()).toMatchObject({ charged: 700n, reserved: 0n, receipts: 1 });
  });
});
