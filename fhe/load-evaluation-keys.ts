import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';
import type { CkksRuntime } from './create-ckks-runtime';
import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';
import { galoisElement } from './galois-element';

export type EvaluationKeyBytes = { galoisKeys?: Uint8Array; relinKeys?: Uint8Array };
export type LoadedEvaluationKeys = { galoisKeys?: GaloisKeys; relinKeys?: RelinKeys; delete(): void };

/**
 * Deserialises a client's evaluation keys and checks they fit the model: same parameters, every rotation step in
 * `spec.galoisSteps`, relinearization keys when the plan multiplies ciphertexts.
 *
 * @throws {FheInputError} `invalid_keys`.
 */
export function loadEvaluationKeys(runtime: CkksRuntime, bytes: EvaluationKeyBytes, spec: FheModelSpec): LoadedEvaluationKeys {
  const { seal, context } = runtime;
  const out: LoadedEvaluationKeys = {
    delete() {
      out.galoisKeys?.delete();
      out.relinKeys?.delete();
      out.galoisKeys = undefined;
      out.relinKeys = undefined;
    },
  };
  try {
    if (spec.galoisSteps.length > 0) {
      if (!bytes.galoisKeys?.length) throw new FheInputError('invalid_keys', 'this model needs Galois (rotation) keys');
      const gk = seal.GaloisKeys();
      out.galoisKeys = gk;
      try {
        gk.loadArray(context, bytes.galoisKeys);
      } catch (cause) {
        throw new FheInputError('invalid_keys', 'Galois key bytes are not SEAL keys for this model\'s CKKS parameters', { cause });
      }
      const missing = spec.galoisSteps.filter((s) => !gk.hasKey(galoisElement(s, spec.params.polyModulusDegree)));
      if (missing.length > 0) throw new FheInputError('invalid_keys', `Galois keys lack rotation step(s) ${missing.join(', ')}`);
    }
    if (spec.needsRelinKeys) {
      if (!bytes.relinKeys?.length) throw new FheInputError('invalid_keys', 'this model needs relinearization keys');
      const rk = seal.RelinKeys();
      out.relinKeys = rk;
      try {
        rk.loadArray(context, bytes.relinKeys);
      } catch (cause) {
        throw new FheInputError('invalid_keys', 'relinearization key bytes are not SEAL keys for this model\'s CKKS parameters', { cause });
      }
      if (!rk.hasKey(2)) throw new FheInputError('invalid_keys', 'relinearization keys lack the key for size-3 ciphertexts');
    }
    return out;
  } catch (err) {
    out.delete();
    throw err;
  }
}
