/** Loaded evaluation keys for one session, with the WASM memory they pin. */
export type CachedKeys = { delete(): void };

/**
 * Least-recently-used cache of loaded session keys inside one worker, bounded by (estimated) bytes.
 * Keys live in WASM memory, so evicted entries are freed explicitly rather than left to a finalizer.
 */
export class WorkerKeyCache<K extends CachedKeys, Id = string> {
  private readonly entries = new Map<Id, { keys: K; bytes: number }>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get(sessionId: Id): K | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;
    this.entries.delete(sessionId); // re-insert: Map order is our recency order
    this.entries.set(sessionId, entry);
    return entry.keys;
  }

  set(sessionId: Id, keys: K, bytes: number): void {
    this.delete(sessionId);
    this.entries.set(sessionId, { keys, bytes });
    this.total += bytes;
    for (const [id, entry] of this.entries) {
      if (this.total <= this.maxBytes || id === sessionId) break;
      this.entries.delete(id);
      this.total -= entry.bytes;
      entry.keys.delete();
    }
  }

  delete(sessionId: Id): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    this.total -= entry.bytes;
    entry.keys.delete();
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.delete(id);
  }
}
