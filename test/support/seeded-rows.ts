/**
 * Deterministic pseudo-random input rows in [0, 16) (the digits pixel range), n × width float32 values, so tests
 * never depend on Math.random.
 */
export function seededRows(n: number, width: number, seed: number): Float32Array {
  const out = new Float32Array(n * width);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 16;
  }
  return out;
}
