import { VeilError } from '../errors';

/**
 * A complete answer as it was sent: status, the headers that describe the body (content-type, x-veil-*), and either the
 * body bytes or — for a stream — the list of SSE event texts in order. Only sealed bytes and routing metadata: the
 * gateway never had anything else to store.
 */
export type StoredAnswer = {
  status: number;
  headers: Readonly<Record<string, string>>;
} & ({ body: Buffer; events?: undefined } | { events: readonly string[]; body?: undefined });

export type IdempotencyClaim =
  /** First request with this key: run it, then `settle` with what was sent (exactly once, also on failure). */
  | { state: 'new'; settle(answer: StoredAnswer, keep: boolean): void }
  /** An earlier request with this key and body answered: send this again instead of running it. */
  | { state: 'stored'; answer: StoredAnswer }
  /** The same request is running right now: its answer when it settles, and whether it was stored. */
  | { state: 'pending'; answer: Promise<SettledAnswer> };

export type SettledAnswer = { answer: StoredAnswer; kept: boolean };

export type IdempotencyStore = {
  /**
   * @param owner whose key this is (`callerKey`): keys of different callers never meet
   * @param fingerprint hash of everything that makes the request what it is (route, routing headers, body)
   * @throws VeilError `idempotency_key_reused` when the key was used with another fingerprint;
   *   `overloaded` when every slot holds a request still running
   */
  claim(owner: string, key: string, fingerprint: string): IdempotencyClaim;
  /** Stored answers and requests in progress. */
  readonly size: number;
  readonly bytes: number;
};

export type CreateIdempotencyStoreOptions = {
  ttlMs: number;
  /** Stored answers plus requests in progress. */
  maxEntries: number;
  /** Bytes of stored answers; the oldest are dropped to make room, and an answer larger than this is not stored. */
  maxBytes: number;
  now?: () => number;
};

type Done = { fingerprint: string; answer: StoredAnswer; bytes: number; expiresAt: number };
type Pending = { fingerprint: string; answer: Promise<SettledAnswer> };

/**
 * Idempotency-Key answers, in memory only. A retry with the same key and the same request gets the stored answer
 * (not a second run); a concurrent duplicate waits for the first and gets its answer; the same key with another
 * request is refused. Answers the caller asks not to keep (failures worth retrying) resolve the waiters and are then
 * forgotten, so the next retry really runs. Bounded by entries and bytes (oldest dropped first) and by a TTL.
 */
export function createIdempotencyStore(options: CreateIdempotencyStoreOptions): IdempotencyStore {
  const now = options.now ?? Date.now;
  // Insertion order = completion order, so the oldest (first to expire, first to drop) are at the front.
  const done = new Map<string, Done>();
  const pending = new Map<string, Pending>();
  let bytes = 0;

  const drop = (id: string) => {
    const entry = done.get(id);
    if (!entry) return;
    done.delete(id);
    bytes -= entry.bytes;
  };
  const sweep = () => {
    const t = now();
    for (const [id, entry] of done) {
      if (entry.expiresAt > t) break;
      drop(id);
    }
  };
  /** Drops the oldest stored answers until `entries` more entries and `extraBytes` more bytes fit. */
  const makeRoom = (entries: number, extraBytes: number) => {
    for (const id of done.keys()) {
      if (done.size + pending.size + entries <= options.maxEntries && bytes + extraBytes <= options.maxBytes) break;
      drop(id);
    }
  };

  return {
    get size() {
      return done.size + pending.size;
    },
    get bytes() {
      return bytes;
    },
    claim(owner, key, fingerprint) {
      sweep();
      const id = `${owner}\u0000${key}`;
      const stored = done.get(id);
      const running = pending.get(id);
      const seen = stored ?? running;
      if (seen && seen.fingerprint !== fingerprint) throw new VeilError('idempotency_key_reused', undefined, { param: 'Idempotency-Key' });
      if (stored) return { state: 'stored', answer: stored.answer };
      if (running) return { state: 'pending', answer: running.answer };

      makeRoom(1, 0);
      if (done.size + pending.size >= options.maxEntries) {
        throw new VeilError('overloaded', 'too many Idempotency-Key requests are in progress; retry with backoff');
      }
      let resolve!: (settled: SettledAnswer) => void;
      const answer = new Promise<SettledAnswer>((r) => {
        resolve = r;
      });
      pending.set(id, { fingerprint, answer });
      let settled = false;
      return {
        state: 'new',
        settle(result, keep) {
          if (settled) return;
          settled = true;
          pending.delete(id);
          const size = sizeOf(result);
          const kept = keep && size <= options.maxBytes;
          resolve({ answer: result, kept });
          if (!kept) return;
          makeRoom(1, size);
          done.set(id, { fingerprint, answer: result, bytes: size, expiresAt: now() + options.ttlMs });
          bytes += size;
        },
      };
    },
  };
}

function sizeOf(answer: StoredAnswer): number {
  const headers = Object.entries(answer.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
  return headers + (answer.body ? answer.body.byteLength : answer.events!.reduce((n, e) => n + e.length, 0));
}
