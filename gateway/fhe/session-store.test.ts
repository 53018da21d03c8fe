import { SessionStore, type SessionStoreOptions } from './session-store';
import { VeilError } from '../errors';

const shared = (bytes: number) => new SharedArrayBuffer(bytes);
let nextKey = 1;
const params = (modelId: string, keys: { galoisKeys?: SharedArrayBuffer; relinKeys?: SharedArrayBuffer } = {}, caller = 'peer:a', owner?: string) =>
  ({ key: nextKey++, modelId, variant: 'blocks', keys, caller, owner });
const store = (options: Partial<SessionStoreOptions> & { now?: () => number } = {}) =>
  new SessionStore({ ttlMs: 1e9, maxBytes: 1e9, maxSessions: 1e6, maxSessionsPerCaller: 1e6, sessionCostBytes: 0, ...options });

describe('SessionStore', () => {
  test('sessions expire after the idle TTL; use refreshes the idle clock', () => {
    let now = 1_000;
    const s = store({ ttlMs: 100, now: () => now });
    const session = s.create(params('m', { galoisKeys: shared(3) }));
    now += 90;
    expect(s.use(session.id, undefined).modelId).toBe('m');
    now += 90;
    expect(s.use(session.id, undefined).id).toBe(session.id);
    now += 101;
    expect(() => s.use(session.id, undefined)).toThrow(VeilError);
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  test('error: unknown session is session_not_found', () => {
    expect(() => store().use('nope', undefined)).toThrow(expect.objectContaining({ code: 'session_not_found', param: 'session_id' }));
  });

  test('evicts least recently used sessions beyond the byte bound', () => {
    let now = 0;
    const evicted: string[] = [];
    const s = store({ maxBytes: 10, now: () => now, onEvict: (x, r) => evicted.push(`${x.modelId}:${r}`) });
    const a = s.create(params('a', { galoisKeys: shared(4) }));
    s.create(params('b', { galoisKeys: shared(4) }));
    now++;
    s.use(a.id, undefined);
    s.create(params('c', { relinKeys: shared(4) }));
    expect(evicted).toEqual(['b:capacity']);
    expect(s.bytes).toBe(8);
    expect(s.close(a.id, undefined)).toBe(true);
    expect(evicted).toEqual(['b:capacity', 'a:closed']);
  });

  test('keyless sessions cost sessionCostBytes each, so they are evicted under the byte bound too', () => {
    const evicted: string[] = [];
    const s = store({ maxBytes: 1_000, sessionCostBytes: 400, onEvict: (x, r) => evicted.push(`${x.modelId}:${r}`) });
    s.create(params('a'));
    s.create(params('b'));
    expect(s.bytes).toBe(800);
    s.create(params('c'));
    expect(evicted).toEqual(['a:capacity']);
    expect(s.size).toBe(2);
  });

  test('the number of sessions is capped (least recently used go first)', () => {
    const evicted: string[] = [];
    const s = store({ maxSessions: 2, onEvict: (x, r) => evicted.push(`${x.modelId}:${r}`) });
    for (const id of ['a', 'b', 'c', 'd']) s.create(params(id, {}, `peer:${id}`));
    expect(evicted).toEqual(['a:capacity', 'b:capacity']);
    expect(s.size).toBe(2);
  });

  test('a caller beyond its own cap evicts its own oldest session, never another caller\'s', () => {
    const evicted: string[] = [];
    const s = store({ maxSessionsPerCaller: 2, onEvict: (x, r) => evicted.push(`${x.modelId}:${r}`) });
    s.create(params('other', {}, 'peer:b'));
    s.create(params('m1', {}, 'peer:a'));
    s.create(params('m2', {}, 'peer:a'));
    s.create(params('m3', {}, 'peer:a'));
    expect(evicted).toEqual(['m1:caller_limit']);
    expect(s.size).toBe(3);
  });

  test('a session with an owner answers only its owner; to anyone else it does not exist', () => {
    const s = store();
    const mine = s.create(params('m', {}, 'key:alice', 'alice'));
    expect(s.use(mine.id, 'alice').id).toBe(mine.id);
    const notFound = expect.objectContaining({ code: 'session_not_found' });
    expect(() => s.use(mine.id, 'bob')).toThrow(notFound);
    expect(() => s.use(mine.id, undefined)).toThrow(notFound);
    expect(s.close(mine.id, 'bob')).toBe(false);
    expect(s.size).toBe(1);
    expect(s.close(mine.id, 'alice')).toBe(true);
    // Without auth (no owner), any caller may use the session, as before.
    const open = s.create(params('m'));
    expect(s.use(open.id, 'anyone').id).toBe(open.id);
  });

  test('every way out (close, expiry, capacity) is reported once through onEvict', () => {
    let now = 0;
    const evicted: number[] = [];
    const s = store({ ttlMs: 10, maxSessions: 2, now: () => now, onEvict: (x) => evicted.push(x.key) });
    const a = s.create(params('a'));
    const b = s.create(params('b'));
    const c = s.create(params('c')); // evicts a
    s.close(b.id, undefined);
    s.close(b.id, undefined); // twice: still once
    now += 11;
    s.sweep(); // expires c
    expect(evicted).toEqual([a.key, b.key, c.key]);
  });
});
