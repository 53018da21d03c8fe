import type { PaymentLedger } from './payment-ledger';

export type ReservationLeasesOptions = {
  ledger: Pick<PaymentLedger, 'renew'>;
  /**
   * How long a reservation holds its ceiling without a renewal: how long a dead replica's cut call blocks its retry.
   * Default DEFAULT_LEASE_MS; never longer than maxMs.
   */
  leaseMs?: number;
  /** The longest any one reservation is renewed for (payments.reservationTtlSeconds): a wedged call stops holding credit. */
  maxMs: number;
  now?: () => number;
  /** A renewal that failed (the ledger is unreachable): the leases lapse unless a later renewal gets through. */
  onError?: (err: unknown) => void;
};

/** 15 s: renewed every 5 s, so a renewal can be late by two periods before another replica may drop the reservation. */
export const DEFAULT_LEASE_MS = 15_000;

export type ReservationLeases = {
  /** The expiry to give a reservation made now: one lease from now. */
  expiresAt(): number;
  /** Renews `reservationId` while its call runs, until drop() or maxMs after this. */
  hold(reservationId: string): void;
  /** Its call committed or released: no more renewals. */
  drop(reservationId: string): void;
  /** Renews every held lease now (the timer does this three times per lease). */
  renew(): Promise<void>;
  /** How many reservations are being renewed. */
  readonly held: number;
};

/**
 * Leases for in-flight reservations (issue #12): a reservation expires one short lease after it was made unless the
 * gateway that made it renews it, and this renews every reservation of this process in one ledger write, three times
 * per lease. A replica that dies stops renewing, so the retry of a call it cut (the same idempotency key, through
 * another replica) is admitted within one lease instead of waiting out a long TTL; a live call keeps its credit however
 * long it legitimately runs (a token stream paused for a top-up), up to `maxMs`. The timer runs only while something
 * is held and never keeps the process alive.
 *
 * A renewal that comes too late (the process stalled for a whole lease) can let another replica drop the reservation;
 * the call's commit then fails and its answer is withheld, so the client retries and is charged once: late, never twice.
 */
export function createReservationLeases(options: ReservationLeasesOptions): ReservationLeases {
  const { ledger, maxMs } = options;
  if (!(maxMs > 0) || !((options.leaseMs ?? 1) > 0)) throw new RangeError(`leases: leaseMs (${options.leaseMs}) and maxMs (${maxMs}) must be positive`);
  const leaseMs = Math.min(options.leaseMs ?? DEFAULT_LEASE_MS, maxMs);
  const now = options.now ?? Date.now;
  const heldSince = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> | undefined;

  const renew = async (): Promise<void> => {
    const at = now();
    for (const [id, since] of heldSince) if (at - since >= maxMs) heldSince.delete(id); // let it lapse
    stopWhenIdle();
    if (heldSince.size === 0) return;
    try {
      await ledger.renew([...heldSince.keys()], at + leaseMs);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const tick = () => {
    renewing ??= renew().finally(() => {
      renewing = undefined;
    });
  };
  const stopWhenIdle = () => {
    if (heldSince.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    expiresAt: () => now() + leaseMs,
    hold(reservationId) {
      heldSince.set(reservationId, now());
      if (!timer) {
        timer = setInterval(tick, Math.max(1, Math.floor(leaseMs / 3)));
        timer.unref();
      }
    },
    drop(reservationId) {
      heldSince.delete(reservationId);
      stopWhenIdle();
    },
    renew,
    get held() {
      return heldSince.size;
    },
  };
}
