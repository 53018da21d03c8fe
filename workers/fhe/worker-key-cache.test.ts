import { WorkerKeyCache } from './worker-key-cache';

const keys = (log: string[], name: string) => ({ delete: () => log.push(name) });

describe('WorkerKeyCache', () => {
  test('evicts least recently used sessions beyond the byte bound and frees them', () => {
    const freed: string[] = [];
    const cache = new WorkerKeyCache(100);
    cache.set('a', keys(freed, 'a'), 40);
    cache.set('b', keys(freed, 'b'), 40);
    expect(cache.get('a')).toBeDefined(); // a is now most recent
    cache.set('c', keys(freed, 'c'), 40);
    expect(freed).toEqual(['b']);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.bytes).toBe(80);
  });

  test('keeps a single entry larger than the bound (it is in use) and frees it on delete', () => {
    const freed: string[] = [];
    const cache = new WorkerKeyCache(10);
    cache.set('big', keys(freed, 'big'), 50);
    expect(cache.size).toBe(1);
    cache.set('next', keys(freed, 'next'), 5);
    expect(freed).toEqual(['big']);
    cache.clear();
    expect(freed).toEqual(['big', 'next']);
    expect(cache.bytes).toBe(0);
  });

  test('replacing a session frees the old keys', () => {
    const freed: string[] = [];
    const cache = new WorkerKeyCache(100);
    cache.set('a', keys(freed, 'a1'), 10);
    cache.set('a', keys(freed, 'a2'), 10);
    expect(freed).toEqual(['a1']);
    expect(cache.bytes).toBe(10);
  });
});
