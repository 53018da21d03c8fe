import { TeeError } from './tee-error';

/** One float32 tensor: row-major `data` whose length is the product of `dims`. */
export type TeeTensor = { dims: readonly number[]; data: Float32Array };
/** Named tensors, as a model's inputs or outputs. */
export type TeeTensorMap = Record<string, TeeTensor>;

export const MAX_TENSORS = 64;
export const MAX_RANK = 8;
const NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

/**
 * Checks names, ranks and that every tensor's dims match its data length. Messages name the tensor and the
 * shapes, never values.
 * @throws {TeeError} `invalid_input`
 */
export function validateTensorMap(tensors: TeeTensorMap, what: 'input' | 'output' = 'input'): void {
  const names = Object.keys(tensors);
  if (names.length === 0) throw new TeeError('invalid_input', `at least one ${what} tensor is required`);
  if (names.length > MAX_TENSORS) throw new TeeError('invalid_input', `at most ${MAX_TENSORS} ${what} tensors are allowed`);
  for (const name of names) {
    if (!NAME.test(name)) throw new TeeError('invalid_input', `${what} tensor names must match ${NAME.source}`);
    const tensor = tensors[name]!;
    if (!(tensor.data instanceof Float32Array)) throw new TeeError('invalid_input', `${what} "${name}" must be a Float32Array`);
    if (!Array.isArray(tensor.dims) || tensor.dims.length === 0 || tensor.dims.length > MAX_RANK) {
      throw new TeeError('invalid_input', `${what} "${name}" must have 1..${MAX_RANK} dims`);
    }
    let size = 1;
    for (const d of tensor.dims) {
      if (!Number.isSafeInteger(d) || d < 0 || d > 0x7fffffff) throw new TeeError('invalid_input', `${what} "${name}" has an invalid dimension`);
      size *= d;
    }
    if (size !== tensor.data.length) {
      throw new TeeError('invalid_input', `${what} "${name}" has dims [${tensor.dims.join(', ')}] (${size} values) but ${tensor.data.length} values`);
    }
  }
}

/** Little-endian IEEE 754 bytes of a Float32Array (a view, not a copy; Node only runs on little-endian hosts). */
export function float32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Float32Array from little-endian bytes; copies, so the result is aligned and owns its buffer (transferable). */
export function float32FromBytes(bytes: Uint8Array, name: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new TeeError('invalid_input', `tensor "${name}" data is not a whole number of float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
