import type { PaymentLedger } from '../../payments';
import { gatewayInstrument } from './gateway-instruments';

type LedgerOperation = Exclude<keyof PaymentLedger, 'close'>;

/**
 * The ledger with every operation timed (histogram `veil.ledger.duration` by operation and outcome): the latency a paid
 * call adds, SQLite or PostgreSQL alike. The wrapped ledger behaves exactly as the original.
 */
export function timeLedger(ledger: PaymentLedger): PaymentLedger {
  const histogram = () => gatewayInstrument('veil.ledger.duration', (m) => m.createHistogram('veil.ledger.duration', { description: 'payments ledger operation latency', unit: 'ms' }));
  const timed = { ...ledger } as PaymentLedger;
  for (const name of Object.keys(ledger) as (keyof PaymentLedger)[]) {
    const original = ledger[name];
    if (name === 'close' || typeof original !== 'function') continue;
    (timed as Record<LedgerOperation, unknown>)[name as LedgerOperation] = async (...args: unknown[]) => {
      const started = performance.now();
      let outcome = 'ok';
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(ledger, args);
      } catch (err) {
        outcome = 'error';
        throw err;
      } finally {
        histogram().record(performance.now() - started, { operation: name, outcome });
      }
    };
  }
  return timed;
}

/**
 * Gauges read from the ledger at each scrape: the amount charged and not yet claimed on chain (unsettled), the amount
 * reserved by calls in flight, claims sent and not yet mined, and the settlement lag — how long the oldest of those
 * claims has been waiting (0 when none is). Amounts are in the asset's atomic units.
 */
export function observePayments(ledger: Pick<PaymentLedger, 'totals' | 'pendingClaims'>, now: () => number = Date.now): () => void {
  const make = (name: string, description: string, unit?: string) =>
    gatewayInstrument(name, (m) => m.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }));
  const unsettled = make('veil.payments.unsettled', 'charged and not yet claimed on chain (atomic units)');
  const reserved = make('veil.payments.reserved', 'reserved by paid calls in flight (atomic units)');
  const pending = make('veil.payments.pending_claims', 'claim transactions sent and not yet settled');
  const lag = make('veil.payments.settlement_lag', 'age of the oldest claim still waiting to be mined', 's');
  const gauges = [unsettled, reserved, pending, lag];
  // One ledger read per scrape for all four gauges (a batch callback).
  const meter = gatewayInstrument('veil.payments.meter', (m) => m);
  const callback = async (result: { observe(gauge: (typeof gauges)[number], value: number): void }) => {
    const [totals, claims] = await Promise.all([ledger.totals(), ledger.pendingClaims()]);
    result.observe(unsettled, Number(totals.charged - totals.claimedOnchain));
    result.observe(reserved, Number(totals.reserved));
    result.observe(pending, claims.length);
    const oldest = claims.reduce((min, c) => Math.min(min, c.sentAt), Number.POSITIVE_INFINITY);
    result.observe(lag, claims.length === 0 ? 0 : Math.max(0, (now() - oldest) / 1000));
  };
  meter.addBatchObservableCallback(callback, gauges);
  return () => meter.removeBatchObservableCallback(callback, gauges);
}
