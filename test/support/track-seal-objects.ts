import type { SEALLibrary } from '../../fhe';

export type SealTracker = {
  /** The library to hand to the code under test: every node-seal object it yields is tracked. */
  seal: SEALLibrary;
  /** Tracked objects not yet deleted, by the method or getter that produced them. */
  live(): string[];
  /** Makes a later call of `method` (e.g. "multiply") throw, as SEAL would on bad input: the one after `skip` calls. */
  failNext(method: string, skip?: number): void;
};

/**
 * Wraps node-seal so a test can count live SEAL objects honestly: every object the library, or any object it
 * returned, hands out (factories, methods, getters such as `context.firstContextData`) is recorded until its
 * `.delete()` is called. Wrappers forward everything, including `.instance`, so node-seal accepts them as arguments.
 */
export function trackSealObjects(seal: SEALLibrary): SealTracker {
  const live = new Map<object, string>();
  const proxies = new WeakMap<object, object>();
  const failing = new Map<string, number>();

  const isSealObject = (v: unknown): v is { delete(): void; instance: unknown } =>
    typeof v === 'object' && v !== null && typeof (v as { delete?: unknown }).delete === 'function' && 'instance' in v;

  const wrap = (value: unknown, origin: string, track: boolean): unknown => {
    // Plain data (typed arrays, arrays) passes through untouched: only node-seal objects and namespaces are wrapped.
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || Array.isArray(value)) return value;
    const existing = proxies.get(value);
    if (existing) return existing;
    if (track && isSealObject(value)) live.set(value, origin);
    const proxy = new Proxy(value, {
      get(target, prop) {
        const result = Reflect.get(target, prop, target) as unknown;
        if (prop === 'instance' || typeof prop === 'symbol') return result;
        if (prop === 'delete' && typeof result === 'function') {
          return () => {
            live.delete(target);
            return (result as () => void).call(target);
          };
        }
        if (typeof result === 'function') {
          return (...args: unknown[]) => {
            const skip = failing.get(String(prop));
            if (skip !== undefined) {
              if (skip === 0) {
                failing.delete(String(prop));
                throw new Error(`injected failure in ${String(prop)}`);
              }
              failing.set(String(prop), skip - 1);
            }
            return wrap((result as (...a: unknown[]) => unknown).apply(target, args), String(prop), true);
          };
        }
        return wrap(result, String(prop), true);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };

  return {
    seal: wrap(seal, 'seal', false) as SEALLibrary,
    live: () => [...live.values()],
    failNext: (method, skip = 0) => void failing.set(method, skip),
  };
}
