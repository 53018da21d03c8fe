import { FheCompileError } from './errors';

/** CKKS parameters as plain data (sent to clients inside the spec). `coeffModulusBits` ends with the special prime. */
export type CkksParameters = { polyModulusDegree: number; coeffModulusBits: number[]; scaleBits: number };

/** SEAL's `CoeffModulus.MaxBitCount(N, tc128)`: the largest total modulus at 128-bit security (HE standard). */
export const TC128_MAX_BITS: Readonly<Record<number, number>> = { 1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881 };

/**
 * Minimum scale of fresh inputs and of every intermediate ciphertext (each rescale divides by a prime ≈ 2^scale);
 * 2^30 keeps the breast-cancer LR and digits MLP within 1.5e-4 of plaintext. Spare modulus bits in the chosen ring
 * raise it up to 2^40 (more precision at the same cost: the number of primes is what costs).
 */
export const SCALE_BITS = 30;
const MAX_SCALE_BITS = 40;
/** Bits left above the scale in the last prime: decrypted values must stay below 2^(INTEGER_BITS-1) in magnitude. */
export const INTEGER_BITS = 10;
/** The last prime and the special (key-switching) prime: SEAL's largest prime size. */
const MAX_PRIME_BITS = 60;
/**
 * Key switching adds noise ≈ (q_i/P)·N·σ. Measured on LR at N=4096: P = q0 − 1 bits gave 5e-4 logit error,
 * P = q0 + 3 gave 4e-5, so the special prime must exceed the largest data prime by 3 bits (or be 60 bits).
 */
const SPECIAL_MARGIN_BITS = 3;

export type SelectCkksParametersParameters = {
  /** Multiplicative depth of the plan (levels consumed, counting the last multiply). */
  depth: number;
  /** True when the plan's last multiply is a ct×pt product that is *not* rescaled (its result stays at the last prime). */
  lastUnrescaled: boolean;
};

export type SelectCkksParametersResult = CkksParameters & {
  /** Scale for the plaintext operand of an unrescaled last multiply: output scale = 2^scaleBits · 2^lastPlainScaleBits. */
  lastPlainScaleBits: number;
};

/**
 * Picks the smallest ring dimension whose 128-bit-secure modulus budget holds the plan, then the largest scale
 * (30–40 bits) that still fits it.
 *
 * Modulus chain (SEAL order: data primes first, special prime last):
 *   [q0, p_1 … p_r, P]   with p_i ≈ 2^SCALE_BITS, r = number of rescales, P the special prime.
 * - Every multiply but an unrescaled last one is followed by a rescale by the next p_i, so r = depth − (lastUnrescaled ? 1 : 0).
 * - q0 is what is left at the end. With an unrescaled last multiply the result's scale is 2^(s + t) (t = plaintext
 *   scale), so q0 = 60 bits leaves s + t + INTEGER_BITS ≤ 60 → t = 20: weights keep ~20 bits, inputs 30.
 *   Otherwise the result's scale is ≈ 2^s and q0 = s + INTEGER_BITS.
 * - P = min(60, budget left), at least q0 + 3 bits (key-switching noise), else the next ring.
 * Skipping the last rescale saves a 30-bit prime, which is what makes depth-1 models fit N = 4096 (60 + 49 ≤ 109).
 *
 * @throws {FheCompileError} when even N = 32768 cannot hold the depth.
 */
export function selectCkksParameters(params: SelectCkksParametersParameters): SelectCkksParametersResult {
  const { depth, lastUnrescaled } = params;
  const s = SCALE_BITS;
  const rescales = Math.max(0, depth - (lastUnrescaled ? 1 : 0));
  for (const n of [4096, 8192, 16384, 32768]) {
    const budget = TC128_MAX_BITS[n]!;
    // Smallest ring first; within it the largest scale (precision) up to MAX_SCALE_BITS; then the most headroom,
    // giving up to two bits of it to fit a smaller ring (LR at N=4096 needs that).
    for (let scaleBits = MAX_SCALE_BITS; scaleBits >= s; scaleBits--) {
      for (let integerBits = INTEGER_BITS; integerBits >= INTEGER_BITS - 2; integerBits--) {
        const q0 = lastUnrescaled ? MAX_PRIME_BITS : scaleBits + integerBits;
        const data = [q0, ...Array.from({ length: rescales }, () => scaleBits)];
        const dataBits = data.reduce((a, b) => a + b, 0);
        const special = Math.min(MAX_PRIME_BITS, budget - dataBits);
        if (q0 <= MAX_PRIME_BITS && special >= Math.min(MAX_PRIME_BITS, q0 + SPECIAL_MARGIN_BITS)) {
          const lastPlainScaleBits = lastUnrescaled ? MAX_PRIME_BITS - integerBits - scaleBits : 0;
          if (lastUnrescaled && lastPlainScaleBits < 20) continue;
          return { polyModulusDegree: n, coeffModulusBits: [...data, special], scaleBits, lastPlainScaleBits };
        }
      }
    }
  }
  const q0 = s + INTEGER_BITS - 2;
  const maxDepth = Math.floor((TC128_MAX_BITS[32768]! - MAX_PRIME_BITS - q0) / s) + (lastUnrescaled ? 1 : 0);
  throw new FheCompileError(
    `the model needs multiplicative depth ${depth}, but the largest ring (N=32768, ${TC128_MAX_BITS[32768]} bits at 128-bit security) ` +
      `holds at most depth ${maxDepth} at a 2^${s} scale; use fewer or lower-degree polynomial activations`,
    undefined, undefined, 'depth_exceeded',
  );
}

/** Checks a parameter set before handing it to SEAL, so callers get a clear error instead of a WASM exception. */
export function validateCkksParameters(p: CkksParameters): string | undefined {
  const max = TC128_MAX_BITS[p.polyModulusDegree];
  if (max === undefined || p.polyModulusDegree < 4096) return `polyModulusDegree must be 4096, 8192, 16384 or 32768 (got ${p.polyModulusDegree})`;
  if (p.coeffModulusBits.length < 2) return 'coeffModulusBits needs at least one data prime and the special prime';
  if (p.coeffModulusBits.some((b) => !Number.isInteger(b) || b < 20 || b > 60)) return 'each coefficient-modulus prime must be 20–60 bits';
  const total = p.coeffModulusBits.reduce((a, b) => a + b, 0);
  if (total > max) return `coefficient modulus of ${total} bits exceeds ${max}, the 128-bit-security limit for N=${p.polyModulusDegree}`;
  if (!Number.isInteger(p.scaleBits) || p.scaleBits < 20 || p.scaleBits > 60) return 'scaleBits must be an integer in 20–60';
  return undefined;
}
