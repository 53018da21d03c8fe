/** A copy of `items` in random order (Fisher–Yates): benches run their arms in a new order each round, so drift in the machine's load does not favour one arm. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
