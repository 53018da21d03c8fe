import type { CkksParameters } from './ckks-parameters';
import type { FheModelSpec } from './fhe-plan';
import { galoisElement } from './galois-element';

export type EvaluationKeySizes = { galoisKeys: number; relinKeys: number };

/**
 * The exact byte sizes of the evaluation keys a spec needs, in the one form Veil uploads: node-seal 6.0.3 (SEAL 4.1)
 * seeded serialisation without compression (`createFheClientKeys().evaluationKeys()`). 0 = that kind is not needed.
 *
 * Serialised sizes are a function of N, the number k of data primes and the key count alone (every coefficient is a
 * uint64; the seed replaces one polynomial of each key ciphertext), measured and checked against SEAL for every
 * bundled plan and other parameter sets by `evaluation-key-sizes.test.ts`:
 *  - one key-switching key = k ciphertexts of one polynomial over k + 1 primes, each with 194 bytes of framing:
 *    k·(k+1)·N·8 + 194·k;
 *  - Galois keys = 56 + 8·N (SEAL keeps one slot per possible Galois element, N of them) + one key per distinct
 *    Galois element of the steps;
 *  - relinearisation keys = 64 + one key.
 * The gateway refuses an upload whose declared sizes differ, before it accepts a single chunk.
 */
export function evaluationKeySizes(spec: Pick<FheModelSpec, 'params' | 'galoisSteps' | 'needsRelinKeys'>): EvaluationKeySizes {
  const n = spec.params.polyModulusDegree;
  const perKey = keySwitchingKeyBytes(spec.params);
  const elements = new Set(spec.galoisSteps.map((step) => galoisElement(step, n)));
  return {
    galoisKeys: elements.size > 0 ? 56 + 8 * n + elements.size * perKey : 0,
    relinKeys: spec.needsRelinKeys ? 64 + perKey : 0,
  };
}

function keySwitchingKeyBytes(params: CkksParameters): number {
  const k = params.coeffModulusBits.length - 1;
  return k * (k + 1) * params.polyModulusDegree * 8 + 194 * k;
}
