import type { TeeIdempotencySlot } from '../tee';

/** A finished answer the proxy can give again without asking the gateway: a JSON body, or a stream's chunks. */
export type StoredAnswer = { kind: 'json'; body: object; bytes: number } | { kind: 'stream'; chunks: object[]; bytes: number };

/** One Idempotency-Key: the body it was first used with, the sealed request it sent (in `slot`), and its answer. */
export type IdempotencyEntry = {
  readonly bodyHash: string;
  /** The sealed request last sent for this key (connectTeeModel fills it): a retry re-sends exactly those bytes. */
  readonly slot: TeeIdempotencySlot;
  /** Set while a request with this key runs; a concurrent duplicate waits for it instead of sending its own. */
  running?: Promise<void>;
  answer?: StoredAnswer;
  expiresAt: number;
};

export type IdempotencyCache = {
  /**
   * The entry for `key`, created for `bodyHash` if there is none (or it expired).
   * @returns `conflict` when the key was used with another body
   */
  entry(key: string, bodyHash: string): IdempotencyEntry | 'conflict';
  /** Keeps a finished answer (if it fits the byte budget) until the entry expires. */
  store(entry: IdempotencyEntry, answer: StoredAnswer): void;
  readonly size: number;
  readonly bytes: number;
};

export type CreateIdempotencyCacheOptions = {
  /** How long a key is remembered after its first use (default 5 min). */
  ttlMs?: number;
  /** Most keys remembered; the least recently used goes first (default 1000). */
  maxEntries?: number;
  /** Budget for stored answers (default 16 MiB); an answer over a quarter of it is not stored (the gateway's store still answers). */
  maxBytes?: number;
  now?: () => number;
};

/**
 * The proxy's memory of Idempotency-Keys, in process only and bounded by count, bytes and time. A key's sealed
 * request is what makes a retry safe (the gateway's store recognises the same bytes); a stored answer only saves the
 * round trip. Answers are plaintext the app already received, so they never leave this process.
 */
export function createIdempotencyCache(options: CreateIdempotencyCacheOptions = {}): IdempotencyCache {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const maxEntries = options.maxEntries ?? 1000;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const entries = new Map<string, IdempotencyEntry>();
  let bytes = 0;

  const drop = (key: string, entry: IdempotencyEntry) => {
    entries.delete(key);
    bytes -= entry.answer?.bytes ?? 0;
  };
  const sweep = () => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t && !entry.running) drop(key, entry);
  };
  /** Oldest first (Map order is recency order), skipping entries a request is still using. */
  const evictUntil = (fits: () => boolean) => {
    for (const [key, entry] of entries) {
      if (fits()) return;
      if (!entry.running) drop(key, entry);
    }
  };

  return {
    entry(key, bodyHash) {
      sweep();
      const found = entries.get(key);
      if (found) {
        if (found.bodyHash !== bodyHash) return 'conflict';
        entries.delete(key);
        entries.set(key, found);
        return found;
      }
      evictUntil(() => entries.size < maxEntries);
      const entry: IdempotencyEntry = { bodyHash, slot: {}, expiresAt: now() + ttlMs };
      entries.set(key, entry);
      return entry;
    },
    store(entry, answer) {
      if (entry.answer || answer.bytes > maxBytes / 4 || ![...entries.values()].includes(entry)) return;
      // Make room by forgetting the oldest answers, not their keys: a key's sealed request still makes its retry safe.
      for (const other of entries.values()) {
        if (bytes + answer.bytes <= maxBytes) break;
        if (other.answer) {
          bytes -= other.answer.bytes;
          other.answer = undefined;
        }
      }
      entry.answer = answer;
      bytes += answer.bytes;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
