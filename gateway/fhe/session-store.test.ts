import { SessionStore } from './session-store';
import { VeilError } from '../errors';

describe('SessionStore', () => {
  test('keys are copied into shared memory and sessions expire after the idle TTL', () => {
    let now = 1_000;
    const store = new SessionStore({ ttlMs: 100, maxBytes: 1_000, now: () => now });
    const session = store.create('m', 'blocks', { galoisKeys: new Uint8Array([1, 2, 3]) });
    expect(session.keys.galoisKeys).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(new Uint8Array(session.keys.galoisKeys!))).toEqual([1, 2, 3]);
    now += 90;
    expect(store.use(session.id).modelId).toBe('m'); // use refreshes the idle clock
    now += 90;
    expect(store.use(session.id).id).toBe(session.id);
    now += 101;
    expect(() => store.use(session.id)).toThrow(VeilError);
    expect(store.size).toBe(0);
    expect(store.bytes).toBe(0);
  });

  test('error: unknown session is session_not_found', () => {
    const store = new SessionStore({ ttlMs: 100, maxBytes: 1_000 });
    expect(() => store.use('nope')).toThrow(expect.objectContaining({ code: 'session_not_found', param: 'session_id' }));
  });

  test('evicts least recently used sessions beyond the byte bound', () => {
    let now = 0;
    const evicted: string[] = [];
    const store = new SessionStore({ ttlMs: 1e9, maxBytes: 10, now: () => now, onEvict: (s, r) => evicted.push(`${s.modelId}:${r}`) });
    const a = store.create('a', 'blocks', { galoisKeys: new Uint8Array(4) });
    store.create('b', 'blocks', { galoisKeys: new Uint8Array(4) });
    now++;
    store.use(a.id);
    store.create('c', 'blocks', { relinKeys: new Uint8Array(4) });
    expect(evicted).toEqual(['b:capacity']);
    expect(store.bytes).toBe(8);
    expect(store.close(a.id)).toBe(true);
    expect(evicted).toEqual(['b:capacity', 'a:closed']);
  });
});
