import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';

/**
 * Lays samples out for encryption, in groups of ≤ batchCapacity samples.
 * - replicated-blocks (fhe-plan.ts): sample s of a group fills block s with its features repeated every
 *   `inputPeriod` slots (zero-padded to the period); with inputCopies > 1 it fills that many blocks, copy c shifted
 *   left by c; one slot vector per group.
 * - table-rows: one query per group, repeated every `inputPeriod` slots over all N/2 slots.
 * - feature-major: vector f holds feature f of every sample of the group (sample s in slot s); inputSize vectors.
 * Unused slots of a partial group stay zero.
 *
 * @returns per group, the slot vectors of its `inputCiphertexts` ciphertexts.
 * @throws {FheInputError} `invalid_input` for a wrong feature count or a non-finite value.
 */
export function packInputs(spec: FheModelSpec, samples: ArrayLike<number>[]): Float64Array[][] {
  const groups: Float64Array[][] = [];
  const layout = spec.layout;
  for (let start = 0; start < samples.length; start += spec.batchCapacity) {
    const end = Math.min(samples.length, start + spec.batchCapacity);
    const vecs =
      layout.kind === 'feature-major'
        ? Array.from({ length: spec.inputSize }, () => new Float64Array(spec.batchCapacity))
        : layout.kind === 'table-rows'
          ? [new Float64Array(spec.params.polyModulusDegree / 2)]
          : [new Float64Array(spec.batchCapacity * layout.blockSize * (layout.inputCopies ?? 1))];
    for (let s = start; s < end; s++) {
      const x = samples[s]!;
      if (x.length !== spec.inputSize) {
        throw new FheInputError('invalid_input', `sample ${s} has ${x.length} features; the model expects ${spec.inputSize}`);
      }
      for (let j = 0; j < spec.inputSize; j++) {
        const v = Number(x[j]);
        if (!Number.isFinite(v)) throw new FheInputError('invalid_input', `sample ${s} feature ${j} is not a finite number`);
        if (layout.kind === 'feature-major') vecs[j]![s - start] = v;
        else if (layout.kind === 'table-rows') {
          // The query repeated every inputPeriod slots over the whole vector (one query per group).
          for (let o = j; o < vecs[0]!.length; o += layout.inputPeriod) vecs[0]![o] = v;
        } else {
          const copies = layout.inputCopies ?? 1;
          for (let c = 0; c < copies; c++) {
            // Copy c is the pattern shifted left by c: slot p holds x[(p + c) mod period].
            const base = ((s - start) * copies + c) * layout.blockSize;
            const first = (((j - c) % layout.inputPeriod) + layout.inputPeriod) % layout.inputPeriod;
            for (let o = first; o < layout.blockSize; o += layout.inputPeriod) vecs[0]![base + o] = v;
          }
        }
      }
    }
    groups.push(vecs);
  }
  return groups;
}
