/**
 * How a closed or evicted session reaches every FHE worker. Piscina has no broadcast, and with its default
 * `atomics: 'sync'` an idle worker sleeps in `Atomics.wait`, so a posted message would sit unread; instead the main
 * thread appends the session's number to a ring in a SharedArrayBuffer, and each worker drains the ring synchronously
 * before every task. A worker that fell more than a ring behind cannot know what it missed, so it drops its whole key
 * cache: keys are only a cache (they reload from the session's SharedArrayBuffers), so this is always safe.
 *
 * Layout (Int32Array): [0] = revocations written so far (wraps at 2^32), [1 + i mod capacity] = session number.
 * There is exactly one writer (the main thread).
 */
export const REVOCATION_LOG_CAPACITY = 4096;

export type RevocationLogWriter = { buffer: SharedArrayBuffer; revoke(session: number): void };

export function createRevocationLog(capacity = REVOCATION_LOG_CAPACITY): RevocationLogWriter {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('createRevocationLog: capacity must be a positive integer');
  const buffer = new SharedArrayBuffer(4 * (1 + capacity));
  const log = new Int32Array(buffer);
  return {
    buffer,
    revoke(session) {
      const written = Atomics.load(log, 0) >>> 0;
      // Entry first, count second: a reader that sees the new count also sees the entry.
      Atomics.store(log, 1 + (written % capacity), session);
      Atomics.store(log, 0, (written + 1) | 0);
    },
  };
}

export type RevocationLogReader = {
  /** Calls `drop` for every session revoked since the last call, or `dropAll` once when too many were to be told apart. */
  drain(drop: (session: number) => void, dropAll: () => void): void;
};

/** Worker side; starts at the log's current position (a new worker holds no keys to drop). */
export function readRevocationLog(buffer: SharedArrayBuffer): RevocationLogReader {
  const log = new Int32Array(buffer);
  const capacity = log.length - 1;
  let cursor = Atomics.load(log, 0) >>> 0;
  return {
    drain(drop, dropAll) {
      const start = cursor;
      const written = Atomics.load(log, 0) >>> 0;
      const sessions: number[] = [];
      if (((written - start) >>> 0) <= capacity) {
        for (let i = start; i !== written; i = (i + 1) >>> 0) sessions.push(Atomics.load(log, 1 + (i % capacity)));
      }
      // More than a ring behind, or lapped by the writer while reading (entries overwritten mid-read).
      const after = Atomics.load(log, 0) >>> 0;
      if (((after - start) >>> 0) > capacity) {
        cursor = after;
        dropAll();
        return;
      }
      cursor = written;
      for (const session of sessions) drop(session);
    },
  };
}
