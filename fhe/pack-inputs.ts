import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';

/**
 * Lays samples out for encryption (layout "replicated-blocks", see fhe-plan.ts): samples are cut into groups of
 * ≤ batchCapacity; sample s of a group fills block s with its features repeated every `inputPeriod` slots
 * (zero-padded to the period). Unused blocks of a partial group stay zero.
 *
 * @returns per group, the slot vectors of its `inputCiphertexts` ciphertexts.
 * @throws {FheInputError} `invalid_input` for a wrong feature count or a non-finite value.
 */
export function packInputs(spec: FheModelSpec, samples: ArrayLike<number>[]): Float64Array[][] {
  const { blockSize, inputPeriod } = spec.layout;
  const slots = spec.batchCapacity * blockSize;
  const groups: Float64Array[][] = [];
  for (let start = 0; start < samples.length; start += spec.batchCapacity) {
    const vec = new Float64Array(slots);
    const end = Math.min(samples.length, start + spec.batchCapacity);
    for (let s = start; s < end; s++) {
      const x = samples[s]!;
      if (x.length !== spec.inputSize) {
        throw new FheInputError('invalid_input', `sample ${s} has ${x.length} features; the model expects ${spec.inputSize}`);
      }
      const base = (s - start) * blockSize;
      for (let j = 0; j < spec.inputSize; j++) {
        const v = Number(x[j]);
        if (!Number.isFinite(v)) throw new FheInputError('invalid_input', `sample ${s} feature ${j} is not a finite number`);
        for (let o = j; o < blockSize; o += inputPeriod) vec[base + o] = v;
      }
    }
    groups.push([vec]);
  }
  return groups;
}
