/** Repeats `fn` until `budgetMs` is spent or `max` runs are done (at least `min`), returning each duration in ms. */
export async function timeRuns(fn: () => Promise<unknown> | unknown, budgetMs: number, min = 10, max = 200): Promise<number[]> {
  const times: number[] = [];
  const started = performance.now();
  while (times.length < max && (times.length < min || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
