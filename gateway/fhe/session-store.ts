import { randomUUID } from 'node:crypto';
import { VeilError } from '../errors';
import type { SharedSessionKeys } from '../../workers';

export type FheSession = {
  id: string;
  modelId: string;
  /** The FHE variant the keys were made for. */
  variant: string;
  keys: SharedSessionKeys;
  bytes: number;
  lastUsed: number;
};

export type SessionStoreOptions = {
  ttlMs: number;
  maxBytes: number;
  now?: () => number;
  onEvict?: (session: FheSession, reason: 'expired' | 'capacity' | 'closed') => void;
};

/**
 * FHE sessions and their evaluation keys, held in memory only (keys are never written to disk).
 * Keys sit in SharedArrayBuffers so every worker reads the same bytes without a copy per task.
 * Sessions expire after `ttlMs` idle; beyond `maxBytes`, the least recently used are evicted.
 */
export class SessionStore {
  private readonly sessions = new Map<string, FheSession>();
  private total = 0;
  private readonly now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  create(modelId: string, variant: string, keys: { galoisKeys?: Uint8Array; relinKeys?: Uint8Array }): FheSession {
    const shared: SharedSessionKeys = {};
    let bytes = 0;
    for (const kind of ['galoisKeys', 'relinKeys'] as const) {
      const src = keys[kind];
      if (!src) continue;
      const sab = new SharedArrayBuffer(src.byteLength);
      new Uint8Array(sab).set(src);
      shared[kind] = sab;
      bytes += src.byteLength;
    }
    const session: FheSession = { id: randomUUID(), modelId, variant, keys: shared, bytes, lastUsed: this.now() };
    this.sweep();
    this.sessions.set(session.id, session);
    this.total += bytes;
    for (const [id, s] of this.sessions) {
      if (this.total <= this.options.maxBytes || id === session.id) break;
      this.remove(s, 'capacity');
    }
    return session;
  }

  /** @throws {VeilError} `session_not_found` for unknown or expired ids. */
  use(sessionId: string): FheSession {
    const session = this.sessions.get(sessionId);
    if (!session || this.now() - session.lastUsed > this.options.ttlMs) {
      if (session) this.remove(session, 'expired');
      throw new VeilError('session_not_found', undefined, { param: 'session_id' });
    }
    session.lastUsed = this.now();
    this.sessions.delete(sessionId); // Map order doubles as recency order
    this.sessions.set(sessionId, session);
    return session;
  }

  close(sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (session) this.remove(session, 'closed');
    return session !== undefined;
  }

  /** Drops every session idle for longer than the TTL. */
  sweep(): void {
    const cutoff = this.now() - this.options.ttlMs;
    for (const session of this.sessions.values()) {
      if (session.lastUsed < cutoff) this.remove(session, 'expired');
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get bytes(): number {
    return this.total;
  }

  private remove(session: FheSession, reason: 'expired' | 'capacity' | 'closed'): void {
    this.sessions.delete(session.id);
    this.total -= session.bytes;
    this.options.onEvict?.(session, reason);
  }
}
