/**
 * What the SDK does to decrypted CKKS outputs before returning them. CKKS decryption yields m + e, where e is the
 * evaluation noise; whoever sees exact decrypted values next to the ciphertexts learns e, and with a few such pairs can
 * solve for the secret key (Li & Micciancio, "On the Security of Homomorphic Encryption on Approximate Numbers",
 * Eurocrypt 2021: IND-CPA^D). That only matters if decrypted results ever reach the server (or anyone holding the
 * ciphertexts), but applications do send results back (logging, feedback loops, billing), so the default destroys
 * the noise bits first:
 *
 *  1. noise flooding: add Gaussian noise of σ = 2^-noiseBits (default 2^-14 ≈ 6.1e-5), about the size of the CKKS
 *     error itself at Veil's 2^30 scale (measured ≤ 1.5e-4 on the bundled models, typically a few 1e-5), so the
 *     released value no longer pins e down;
 *  2. rounding to a grid of 2^-gridBits (default 2^-12 ≈ 2.4e-4), which removes every bit below it.
 *
 * Together they change a logit by at most 1.2e-4 + 6σ ≈ 4.9e-4 (and typically ~1e-4): well inside the 1e-3 the
 * bundled models are held to and far below what moves a decision, while the ≈ 2^-20…2^-25 noise bits are gone.
 * Flooding that is *provably* sufficient (statistical distance 2^-λ) needs σ ≈ 2^(λ/2)·|e|, which would leave no
 * useful precision, so this is a mitigation, not a proof: never return decrypted outputs to the server if you can
 * avoid it. `outputPrecision: 'full'` turns it off (e.g. to measure the raw CKKS error).
 */
export type OutputPrecision = 'full' | { gridBits: number; noiseBits: number };

export const DEFAULT_OUTPUT_PRECISION: Readonly<{ gridBits: number; noiseBits: number }> = Object.freeze({ gridBits: 12, noiseBits: 14 });

/** Uniform [0, 1) doubles from a CSPRNG (Web Crypto, in Node and browsers alike). */
export type RandomSource = () => number;

const cryptoRandom: RandomSource = () => {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (words[0]! * 2 ** 21 + (words[1]! >>> 11)) / 2 ** 53;
};

/**
 * Floods and rounds decrypted values in place as described above; returns them. `'full'` returns them unchanged.
 * @throws {RangeError} for bits outside 1–52.
 */
export function protectDecryptedOutputs(values: Float64Array, precision: OutputPrecision = DEFAULT_OUTPUT_PRECISION, random: RandomSource = cryptoRandom): Float64Array {
  if (precision === 'full') return values;
  const { gridBits, noiseBits } = precision;
  for (const bits of [gridBits, noiseBits]) {
    if (!Number.isInteger(bits) || bits < 1 || bits > 52) throw new RangeError('outputPrecision: gridBits and noiseBits must be integers in 1–52');
  }
  const grid = 2 ** -gridBits;
  const sigma = 2 ** -noiseBits;
  for (let i = 0; i < values.length; i++) {
    // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    values[i] = Math.round((values[i]! + sigma * gaussian) / grid) * grid;
  }
  return values;
}
