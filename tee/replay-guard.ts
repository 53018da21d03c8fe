import { TeeError } from './tee-error';

export type ReplayGuardOptions = {
  /** A request is fresh while |now − timestamp| ≤ windowMs; ids are remembered exactly as long as they could still pass. Default 60 s. */
  windowMs?: number;
  /** Most ids remembered at once, all owners together. Default 100 000 (~10 MB worst case). */
  maxEntries?: number;
  /** Most ids one owner (one channel session) may hold at once. Default maxEntries / 4. */
  maxEntriesPerOwner?: number;
  /** Injected clock (epoch ms). */
  now?: () => number;
};

/** An admitted request id. `release()` forgets it again: only for a request refused before it ran (e.g. `overloaded`). */
export type ReplayTicket = { release(): void };

type Entry = { id: string; timestampMs: number; owner: string };

/**
 * Refuses a request whose id was already admitted while it could still be fresh, or whose timestamp lies outside
 * the freshness window. Ids are kept until their own timestamp leaves the window (evicted lowest timestamp first),
 * never longer and never shorter, so "never admitted twice" holds without an acceptance floor: the only thing
 * that refuses an in-window request as stale is its own timestamp. Memory is bounded by refusing, not by
 * forgetting: when the guard is full (globally, or for one owner) the new request is refused as `overloaded`
 * (retryable) and nothing already admitted is dropped. One caller flooding it with far-future timestamps can
 * therefore at worst make others retry until those entries expire, never make an honest request stale, and
 * never reopen a replay.
 * @example
 * const guard = new ReplayGuard({ windowMs: 60_000 });
 * const ticket = guard.admit(idHex, body.timestampMs, sessionId); // throws tee_stale_request / tee_replay / overloaded
 * if (refusedBeforeRunning) ticket.release();
 */
export class ReplayGuard {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly maxPerOwner: number;
  private readonly now: () => number;
  private readonly seen = new Map<string, Entry>();
  private readonly perOwner = new Map<string, number>();
  /** Min-heap on timestamp; may hold released entries, skipped (and compacted) lazily. */
  private heap: Entry[] = [];

  constructor(options: ReplayGuardOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.maxPerOwner = options.maxEntriesPerOwner ?? Math.max(1, Math.floor(this.maxEntries / 4));
    this.now = options.now ?? Date.now;
    if (!(this.windowMs > 0) || !Number.isInteger(this.maxEntries) || this.maxEntries < 1 || !Number.isInteger(this.maxPerOwner) || this.maxPerOwner < 1) {
      throw new RangeError('ReplayGuard: windowMs must be > 0, maxEntries and maxEntriesPerOwner positive integers');
    }
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Checks freshness, replay and capacity, in that order, and records `id` only when all pass.
   * @throws {TeeError} `tee_stale_request`, `tee_replay` or `overloaded` (nothing recorded)
   */
  admit(id: string, timestampMs: number, owner = ''): ReplayTicket {
    const now = this.now();
    this.prune(now);
    if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > this.windowMs) {
      throw new TeeError('tee_stale_request', `the request timestamp is outside the ${this.windowMs} ms freshness window (check the client clock)`, { skewMs: now - timestampMs });
    }
    if (this.seen.has(id)) throw new TeeError('tee_replay', 'this request was already received (replay refused)');
    const held = this.perOwner.get(owner) ?? 0;
    if (held >= this.maxPerOwner) {
      throw new TeeError('overloaded', 'this channel session has too many requests in flight within the freshness window; retry shortly or start a new session', { held });
    }
    if (this.seen.size >= this.maxEntries) {
      throw new TeeError('overloaded', 'the node is at its replay-memory capacity; retry with backoff', { size: this.seen.size });
    }
    const entry: Entry = { id, timestampMs, owner };
    this.seen.set(id, entry);
    this.perOwner.set(owner, held + 1);
    this.push(entry);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (this.seen.get(id) === entry) this.forget(entry);
      },
    };
  }

  /** Drops every id whose timestamp can no longer pass the freshness check (lowest timestamp first). */
  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.heap.length > 0 && this.heap[0]!.timestampMs < cutoff) {
      const entry = this.pop();
      if (this.seen.get(entry.id) === entry) this.forget(entry);
    }
    // Released entries linger in the heap until they expire; rebuild when they outnumber the live ones.
    if (this.heap.length > 2 * this.seen.size + 1024) {
      this.heap = [...this.seen.values()];
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    }
  }

  private forget(entry: Entry): void {
    this.seen.delete(entry.id);
    const left = (this.perOwner.get(entry.owner) ?? 1) - 1;
    if (left > 0) this.perOwner.set(entry.owner, left);
    else this.perOwner.delete(entry.owner);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.timestampMs <= heap[i]!.timestampMs) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && heap[l]!.timestampMs < heap[min]!.timestampMs) min = l;
      if (r < heap.length && heap[r]!.timestampMs < heap[min]!.timestampMs) min = r;
      if (min === i) return;
      [heap[min], heap[i]] = [heap[i]!, heap[min]!];
      i = min;
    }
  }
}
