/**
 * A first-come-first-served lock: `run(fn)` waits for every earlier holder, then runs `fn` alone. Two searches that
 * share one make their steps take turns (A, B, A, B, …), so drift in a shared machine's load falls on both alike
 * instead of on whichever ran second.
 */
export type TurnLock = { run<T>(fn: () => Promise<T>): Promise<T> };

export function createTurnLock(): TurnLock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(fn) {
      const result = tail.then(fn);
      tail = result.catch(() => {});
      return result;
    },
  };
}
