/**
 * SEAL's Galois element for a CKKS left rotation by `step` slots: 3^step mod 2N (negative steps wrap to N/2 − |step|).
 * Used to check uploaded Galois keys contain exactly the rotations a plan needs.
 */
export function galoisElement(step: number, polyModulusDegree: number): number {
  const m = BigInt(2 * polyModulusDegree);
  const slots = polyModulusDegree / 2;
  let e = BigInt(((step % slots) + slots) % slots);
  let result = 1n;
  let base = 3n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % m;
    base = (base * base) % m;
    e >>= 1n;
  }
  return Number(result);
}
