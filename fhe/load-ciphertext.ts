import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { CkksRuntime } from './create-ckks-runtime';
import { sameParmsId } from './create-ckks-runtime';
import { FheInputError } from './errors';

/**
 * Deserialises a client ciphertext (plain or seeded form) and checks it is a fresh input for this plan: top data
 * level of this context, 2 polynomials, scale 2^scaleBits. Anything else is refused before evaluation, so SEAL
 * exceptions never reach the caller.
 *
 * @throws {FheInputError} `invalid_ciphertext`.
 */
export function loadCiphertext(runtime: CkksRuntime, bytes: Uint8Array): CipherText {
  const { seal, context, params } = runtime;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new FheInputError('invalid_ciphertext', 'ciphertext is empty');
  const ct = seal.CipherText();
  try {
    ct.loadArray(context, bytes);
  } catch (cause) {
    ct.delete();
    throw new FheInputError('invalid_ciphertext', 'bytes are not a SEAL ciphertext for this model\'s CKKS parameters', { cause });
  }
  // Both parms ids are fresh WASM objects on every access: free them, or each request leaks a little memory.
  const actual = ct.parmsId;
  const top = context.firstParmsId;
  const atTop = sameParmsId(actual, top);
  actual.delete();
  top.delete();
  const problem = !atTop
    ? 'ciphertext is not at the top level of this model\'s parameters (was it encrypted for another model or already evaluated?)'
    : ct.size !== 2
      ? `ciphertext has ${ct.size} polynomials; a fresh ciphertext has 2`
      : Math.abs(ct.scale - 2 ** params.scaleBits) > 2 ** params.scaleBits * 1e-9
        ? `ciphertext scale is not 2^${params.scaleBits}`
        : !ct.isNttForm
          ? 'ciphertext is not in NTT form (not a CKKS ciphertext)'
          : undefined;
  if (problem) {
    ct.delete();
    throw new FheInputError('invalid_ciphertext', problem);
  }
  return ct;
}
