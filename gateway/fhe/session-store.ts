import { randomUUID } from 'node:crypto';
import { VeilError } from '../errors';
import type { SharedSessionKeys } from '../../workers';

export type FheSession = {
  id: string;
  /** The session's number in the FHE worker pool (what worker key caches and revocations name). */
  key: number;
  modelId: string;
  /** The FHE variant the keys were made for. */
  variant: string;
  keys: SharedSessionKeys;
  /** Evaluation-key bytes. */
  bytes: number;
  /** The API key that opened it (undefined when auth is off): only it may use or close the session. */
  owner: string | undefined;
  /** What per-caller limits count it against (`callerKey`). */
  caller: string;
  lastUsed: number;
};

export type EvictionReason = 'expired' | 'capacity' | 'caller_limit' | 'closed';

export type SessionStoreOptions = {
  ttlMs: number;
  /** Bound on Σ (key bytes + sessionCostBytes). */
  maxBytes: number;
  maxSessions: number;
  maxSessionsPerCaller: number;
  /** Fixed cost of every session besides its keys, so keyless sessions (feature-major LR) are bounded too. */
  sessionCostBytes: number;
  now?: () => number;
  /** Called once for every session that leaves the store, whatever the reason (the gateway tells the workers). */
  onEvict?: (session: FheSession, reason: EvictionReason) => void;
};

export type CreateSessionParameters = {
  key: number;
  modelId: string;
  variant: string;
  keys: SharedSessionKeys;
  owner: string | undefined;
  caller: string;
};

/**
 * FHE sessions and their evaluation keys, held in memory only (keys are never written to disk).
 * Keys sit in SharedArrayBuffers so every worker reads the same bytes without a copy per task.
 * Sessions expire after `ttlMs` idle. Beyond `maxBytes` or `maxSessions` the least recently used are evicted; a
 * caller beyond `maxSessionsPerCaller` evicts its own least recently used, so one caller alone cannot push out others
 * until it holds that many sessions.
 */
export class SessionStore {
  private readonly sessions = new Map<string, FheSession>();
  private readonly perCaller = new Map<string, number>();
  private total = 0;
  private readonly now: () => number;

  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Adds a session whose keys were already validated; only now may other sessions be evicted to make room. */
  create(params: CreateSessionParameters): FheSession {
    let bytes = 0;
    for (const sab of [params.keys.galoisKeys, params.keys.relinKeys]) bytes += sab?.byteLength ?? 0;
    const session: FheSession = { id: randomUUID(), ...params, bytes, lastUsed: this.now() };
    this.sweep();
    if ((this.perCaller.get(session.caller) ?? 0) >= this.options.maxSessionsPerCaller) {
      for (const s of this.sessions.values()) {
        if (s.caller !== session.caller) continue;
        this.remove(s, 'caller_limit');
        if ((this.perCaller.get(session.caller) ?? 0) < this.options.maxSessionsPerCaller) break;
      }
    }
    this.sessions.set(session.id, session);
    this.perCaller.set(session.caller, (this.perCaller.get(session.caller) ?? 0) + 1);
    this.total += this.cost(session);
    for (const s of this.sessions.values()) {
      if ((this.total <= this.options.maxBytes && this.sessions.size <= this.options.maxSessions) || s === session) break;
      this.remove(s, 'capacity');
    }
    return session;
  }

  /**
   * The session, if it exists, has not expired and `principal` may use it.
   * @throws {VeilError} `session_not_found` for unknown or expired ids and for another principal's session alike, so
   * a caller cannot tell whether someone else's session exists.
   */
  use(sessionId: string, principal: string | undefined): FheSession {
    const session = this.sessions.get(sessionId);
    if (session && this.now() - session.lastUsed > this.options.ttlMs) this.remove(session, 'expired');
    else if (session && permits(session, principal)) {
      session.lastUsed = this.now();
      this.sessions.delete(sessionId); // Map order doubles as recency order
      this.sessions.set(sessionId, session);
      return session;
    }
    throw new VeilError('session_not_found', undefined, { param: 'session_id' });
  }

  /** False for unknown ids and for another principal's session (indistinguishable to the caller). */
  close(sessionId: string, principal: string | undefined): boolean {
    const session = this.sessions.get(sessionId);
    if (!session || !permits(session, principal)) return false;
    this.remove(session, 'closed');
    return true;
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

  /** Σ (key bytes + sessionCostBytes) of the sessions held. */
  get bytes(): number {
    return this.total;
  }

  private cost(session: FheSession): number {
    return session.bytes + this.options.sessionCostBytes;
  }

  private remove(session: FheSession, reason: EvictionReason): void {
    if (!this.sessions.delete(session.id)) return;
    this.total -= this.cost(session);
    const left = (this.perCaller.get(session.caller) ?? 1) - 1;
    if (left > 0) this.perCaller.set(session.caller, left);
    else this.perCaller.delete(session.caller);
    this.options.onEvict?.(session, reason);
  }
}

function permits(session: FheSession, principal: string | undefined): boolean {
  return session.owner === undefined || session.owner === principal;
}
