import { TeeError } from './tee-error';

export type ReplayGuardOptions = {
  /** A request is fresh while |now − timestamp| ≤ windowMs; ids are remembered for that long. Default 60 s. */
  windowMs?: number;
  /** Most ids remembered at once. Default 100 000 (~10 MB worst case). */
  maxEntries?: number;
  /** Injected clock (epoch ms). */
  now?: () => number;
};

/**
 * Refuses a request whose id was already accepted within the freshness window, or whose timestamp lies
 * outside it. Memory is bounded: when full, the oldest id is evicted and the acceptance floor rises to its
 * timestamp, so anything evicted (and any replay of it) is refused as stale instead of being forgotten.
 * This keeps the guarantee "never accepted twice" under load at the price of refusing in-window requests
 * older than the floor.
 * @example const guard = new ReplayGuard({ windowMs: 60_000 }); guard.check(idHex, body.timestampMs);
 */
export class ReplayGuard {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** id → timestamp, in insertion order. */
  private readonly seen = new Map<string, number>();
  private floor = Number.NEGATIVE_INFINITY;

  constructor(options: ReplayGuardOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.windowMs > 0) || !Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('ReplayGuard: windowMs must be > 0 and maxEntries a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `id` or throws.
   * @throws {TeeError} `tee_stale_request` or `tee_replay`
   */
  check(id: string, timestampMs: number): void {
    const now = this.now();
    this.prune(now);
    if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > this.windowMs) {
      throw new TeeError('tee_stale_request', `the request timestamp is outside the ${this.windowMs} ms freshness window (check the client clock)`, { skewMs: now - timestampMs });
    }
    if (this.seen.has(id)) throw new TeeError('tee_replay', 'this request was already received (replay refused)');
    if (timestampMs <= this.floor) {
      throw new TeeError('tee_stale_request', 'the request is older than the replay window the node can still remember', { floor: this.floor });
    }
    while (this.seen.size >= this.maxEntries) {
      const [oldId, oldTs] = this.seen.entries().next().value as [string, number];
      this.seen.delete(oldId);
      this.floor = Math.max(this.floor, oldTs);
    }
    this.seen.set(id, timestampMs);
  }

  /** Ids whose timestamp left the window can no longer pass the freshness check, so they need no memory. */
  private prune(now: number): void {
    for (const [id, ts] of this.seen) {
      if (ts >= now - this.windowMs) break;
      this.seen.delete(id);
    }
  }
}
