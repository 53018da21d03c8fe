import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';

/**
 * Reads one group's decrypted output slot vectors (`outputCiphertexts` of them) back into per-sample outputs:
 * slots [0, outputSize) of each block (replicated-blocks), row r at slot r mod S of ciphertext ⌊r/S⌋ (table-rows), or slot s of each output's vector (feature-major).
 */
export function unpackOutputs(spec: FheModelSpec, slots: Float64Array[], sampleCount: number): Float64Array[] {
  const expected = spec.outputCiphertexts ?? 1;
  if (slots.length !== expected) throw new FheInputError('invalid_input', `expected ${expected} output slot vector(s), got ${slots.length}`);
  if (!Number.isInteger(sampleCount) || sampleCount < 0 || sampleCount > spec.batchCapacity) {
    throw new FheInputError('invalid_input', `a group holds 0–${spec.batchCapacity} samples, got ${sampleCount}`);
  }
  const layout = spec.layout;
  if (layout.kind === 'feature-major') {
    if (slots.some((v) => v.length < sampleCount)) throw new FheInputError('invalid_input', 'output slot vector is shorter than the layout');
    return Array.from({ length: sampleCount }, (_, s) => Float64Array.from(slots, (v) => v[s]!));
  }
  if (layout.kind === 'table-rows') {
    // Score of row r: slot r mod S of ciphertext ⌊r / S⌋.
    const S = layout.rowsPerCiphertext;
    if (slots.some((v) => v.length < S)) throw new FheInputError('invalid_input', 'output slot vector is shorter than the layout');
    return Array.from({ length: sampleCount }, () => Float64Array.from({ length: spec.outputSize }, (_, r) => slots[Math.floor(r / S)]![r % S]!));
  }
  const vec = slots[0]!;
  const stride = layout.blockSize * (layout.inputCopies ?? 1);
  if (vec.length < sampleCount * stride) throw new FheInputError('invalid_input', 'output slot vector is shorter than the layout');
  return Array.from({ length: sampleCount }, (_, s) => vec.slice(s * stride, s * stride + spec.outputSize));
}
