/**
 * Test-only: @peculiar/x509 2.x (via tsyringe) needs a Reflect metadata polyfill and none is a
 * declared dependency. This is the minimum tsyringe calls (defineMetadata / getMetadata /
 * getOwnMetadata / metadata), installed only when absent. Production code does not import
 * @peculiar/x509 (it uses node:crypto X509Certificate + asn1js), so this never runs there.
 * @internal
 */
type Key = unknown;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<Key, unknown>>>();

function own(target: object, prop: string | symbol | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (!m && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: Key, value: unknown, target: object, prop?: string | symbol) => void own(target, prop, true)!.set(key, value);
  R.getOwnMetadata = (key: Key, target: object, prop?: string | symbol) => own(target, prop, false)?.get(key);
  R.hasOwnMetadata = (key: Key, target: object, prop?: string | symbol) => own(target, prop, false)?.has(key) ?? false;
  R.getMetadata = (key: Key, target: object, prop?: string | symbol) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const m = own(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  R.hasMetadata = (key: Key, target: object, prop?: string | symbol) => (R.getMetadata as (k: Key, t: object, p?: string | symbol) => unknown)(key, target, prop) !== undefined;
  R.metadata = (key: Key, value: unknown) => (target: object, prop?: string | symbol) => void own(target, prop, true)!.set(key, value);
}

export {};
