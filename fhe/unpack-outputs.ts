import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';

/** Reads one group's decrypted output slot vectors back into per-sample outputs (slots [0, outputSize) of each block). */
export function unpackOutputs(spec: FheModelSpec, slots: Float64Array[], sampleCount: number): Float64Array[] {
  const vec = slots[0];
  const { blockSize } = spec.layout;
  if (!vec || slots.length !== 1) throw new FheInputError('invalid_input', `expected 1 output slot vector, got ${slots.length}`);
  if (sampleCount < 0 || sampleCount > spec.batchCapacity) {
    throw new FheInputError('invalid_input', `a group holds 0–${spec.batchCapacity} samples, got ${sampleCount}`);
  }
  if (vec.length < sampleCount * blockSize) throw new FheInputError('invalid_input', 'output slot vector is shorter than the layout');
  return Array.from({ length: sampleCount }, (_, s) => vec.slice(s * blockSize, s * blockSize + spec.outputSize));
}
