import type { CipherText } from 'node-seal/implementation/cipher-text';

/**
 * Makes a ciphertext's scale exactly the expected value: after a rescale the two agree to ~1e-16 relative, but SEAL
 * compares scales to 1 ulp. A real drift is a plan bug, never silently accepted.
 */
export function fixScale(ct: CipherText, expected: number): void {
  if (ct.scale === expected) return;
  if (Math.abs(ct.scale - expected) > expected * 1e-9) throw new Error('internal: ciphertext scale drifted from the plan');
  ct.setScale(expected);
}
