/**
 * Every gauge, counter and histogram beyond RPC counts, scraped from the Prometheus endpoint `startTelemetry` serves:
 * FHE pool queue depth and utilisation, FHE groups, TEE stream chunks and TTFT, TEE node states, ledger latency,
 * unsettled amount, reserved amount, pending claims and settlement lag. Labels are model, variant, state, operation
 * and outcome — never anything a client sent.
 */
import type { PaymentLedger } from '../../payments';
import { createLogger } from '../logger';
import { observeFhePool, recordFheGroups } from './fhe-metrics';
import { observePayments, timeLedger } from './payments-metrics';
import { startTelemetry, type Telemetry } from './start-telemetry';
import { meterTeeStream, observeTeeNodes } from './tee-metrics';
import { freePort } from '../../test/support/free-port';


let telemetry: Telemetry;
beforeAll(async () => {
  telemetry = await startTelemetry({ prometheusPort: await freePort(), prometheusHost: '127.0.0.1' }, createLogger({ level: 'silent', format: 'text' }), { env: {} });
});
afterAll(() => telemetry.close());

const scrape = async () => (await fetch(telemetry.endpoint!)).text();

test('pool, FHE, TEE, node and payments metrics appear on /metrics with their values', async () => {
  let poolReads = 0;
  const pool = { get queueSize() { poolReads++; return 3; }, idleThreads: 1, threads: 4 };
  const stops = [
    observeFhePool(pool),
    observeTeeNodes(() => [{ state: 'healthy' }, { state: 'healthy' }, { state: 'quarantined' }]),
  ];
  recordFheGroups('breast-cancer-lr', 'blocks', 5);
  recordFheGroups('breast-cancer-lr', 'blocks', 2);

  async function* events() {
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 4; i++) yield new Uint8Array(256);
  }
  let relayed = 0;
  for await (const _ of meterTeeStream({ model: 'toy-chat', node: 'remote-1' }, events)) relayed++;
  expect(relayed).toBe(4);

  const now = 1_000_000;
  const ledger = {
    totals: async () => ({ charged: 1_500n, reserved: 200n, claimedOnchain: 500n, receipts: 3, channels: 1 }),
    pendingClaims: async () => [{ txHash: '0x1', entries: [], sentAt: now - 30_000 }, { txHash: '0x2', entries: [], sentAt: now - 5_000 }],
    receipt: async () => undefined,
    close: async () => undefined,
  } as unknown as PaymentLedger;
  const timed = timeLedger(ledger);
  await timed.totals();
  await timed.receipt('req:1');
  stops.push(observePayments(timed, () => now));

  const text = await scrape();
  expect(text).toMatch(/^veil_fhe_pool_queue_depth(\{[^}]*\})? 3$/m);
  expect(text).toMatch(/^veil_fhe_pool_utilization(\{[^}]*\})? 0\.75$/m);
  expect(text).toMatch(/^veil_fhe_groups_total\{[^}]*model="breast-cancer-lr"[^}]*variant="blocks"[^}]*\} 7$/m);
  expect(text).toMatch(/^veil_tee_stream_chunks_total\{[^}]*model="toy-chat"[^}]*\} 4$/m);
  expect(text).toMatch(/^veil_tee_ttft\w*_count\{[^}]*model="toy-chat"[^}]*\} 1$/m);
  expect(text).toMatch(/^veil_tee_nodes\{[^}]*state="healthy"[^}]*\} 2$/m);
  expect(text).toMatch(/^veil_tee_nodes\{[^}]*state="quarantined"[^}]*\} 1$/m);
  expect(text).toMatch(/^veil_tee_nodes\{[^}]*state="pending"[^}]*\} 0$/m);
  expect(text).toMatch(/^veil_ledger_duration\w*_count\{[^}]*operation="totals"[^}]*outcome="ok"[^}]*\} [12]$/m);
  expect(text).toMatch(/^veil_ledger_duration\w*_count\{[^}]*operation="receipt"[^}]*\} 1$/m);
  expect(text).toMatch(/^veil_payments_unsettled(\{[^}]*\})? 1000$/m);
  expect(text).toMatch(/^veil_payments_reserved(\{[^}]*\})? 200$/m);
  expect(text).toMatch(/^veil_payments_pending_claims(\{[^}]*\})? 2$/m);
  expect(text).toMatch(/^veil_payments_settlement_lag\w*(\{[^}]*\})? 30$/m);

  // Stopped observers are not called again: a closed pool, router or ledger is never read by a later scrape.
  for (const stop of stops) stop();
  const reads = poolReads;
  await scrape();
  expect(poolReads).toBe(reads);
});

test('a failing ledger operation is timed with outcome error and still throws', async () => {
  const failing = timeLedger({ totals: async () => Promise.reject(new Error('db down')), close: async () => undefined } as unknown as PaymentLedger);
  await expect(failing.totals()).rejects.toThrow('db down');
  expect(await scrape()).toMatch(/^veil_ledger_duration\w*_count\{[^}]*operation="totals"[^}]*outcome="error"[^}]*\} 1$/m);
});
