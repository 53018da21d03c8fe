import type { FheModelSpec } from './fhe-plan';
import { FheInputError } from './errors';

/**
 * Refuses a batch group before any homomorphic work when it cannot be evaluated: the wrong number of ciphertexts, or
 * evaluation keys the plan needs but the session did not provide.
 * @throws {FheInputError} `invalid_input`, `invalid_keys`
 */
export function checkEvaluationInputs(spec: FheModelSpec, inputCount: number, keys: { relinKeys?: unknown; galoisKeys?: unknown }): void {
  if (inputCount !== spec.inputCiphertexts) {
    throw new FheInputError('invalid_input', `expected ${spec.inputCiphertexts} ciphertext(s) per batch group, got ${inputCount}`);
  }
  if (spec.needsRelinKeys && !keys.relinKeys) throw new FheInputError('invalid_keys', 'this model needs relinearization keys');
  if (spec.galoisSteps.length > 0 && !keys.galoisKeys) throw new FheInputError('invalid_keys', 'this model needs Galois (rotation) keys');
}
