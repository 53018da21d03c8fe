/**
 * The arrival times of an open-model (constant arrival rate) load step: request i is due at `i × 1000 / rate` ms after
 * the step starts, whatever happened to the requests before it. A closed loop ("send the next when the last answers")
 * slows down exactly when the server queues, so its latencies hide the queueing (coordinated omission); an open
 * schedule keeps issuing, and each latency is measured from the time the request was *due*, not when it left.
 */
export type ArrivalSchedule = {
  /** Arrivals in the whole step: ⌊rate × duration⌋. */
  readonly total: number;
  /** When arrival i is due, in ms from the step's start. */
  dueAt(index: number): number;
  /**
   * The arrivals due by `elapsedMs` that were not taken yet, in order, marked taken. A generator that woke late takes
   * all it missed at once: they still count from their own due times.
   */
  takeDue(elapsedMs: number): number[];
  /** When the next untaken arrival is due (ms from the start), or undefined when all were taken. */
  nextDueAt(): number | undefined;
};

export type ArrivalScheduleParameters = { ratePerSecond: number; durationMs: number };

export class InvalidScheduleError extends Error {
  readonly code = 'invalid_schedule' as const;
  override readonly name = 'InvalidScheduleError';
}

export function createArrivalSchedule({ ratePerSecond, durationMs }: ArrivalScheduleParameters): ArrivalSchedule {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new InvalidScheduleError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new InvalidScheduleError(`durationMs must be a positive number, got ${durationMs}`);
  const intervalMs = 1000 / ratePerSecond;
  // Arrival i is due at i × interval, for every such time strictly inside the step.
  const total = Math.max(1, Math.ceil((durationMs * ratePerSecond) / 1000 - 1e-9));
  const dueAt = (index: number) => index * intervalMs;
  let next = 0;
  return {
    total,
    dueAt,
    takeDue(elapsedMs) {
      const taken: number[] = [];
      while (next < total && dueAt(next) <= elapsedMs) taken.push(next++);
      return taken;
    },
    nextDueAt: () => (next < total ? dueAt(next) : undefined),
  };
}
