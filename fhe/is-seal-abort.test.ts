import SEAL from 'node-seal';
import { FheInputError, isSealAbort } from './errors';

test('isSealAbort: truncated Galois keys abort SEAL\'s WASM runtime, and the wrapped error says so', async () => {
  const seal = await SEAL();
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  parms.setPolyModulusDegree(4096);
  parms.setCoeffModulus(seal.CoeffModulus.Create(4096, Int32Array.from([38, 30, 41])));
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  const bytes = seal.KeyGenerator(context).createGaloisKeys(Int32Array.from([1])).saveArray(seal.ComprModeType.none);
  let caught: unknown;
  try {
    seal.GaloisKeys().loadArray(context, bytes.subarray(0, 1000));
  } catch (err) {
    caught = err;
  }
  expect(isSealAbort(caught)).toBe(true);
  expect(isSealAbort(new FheInputError('invalid_keys', 'x', { cause: caught }))).toBe(true);
  expect(isSealAbort(new FheInputError('invalid_keys', 'x', { cause: new Error('not SEAL keys') }))).toBe(false);
  expect(isSealAbort(undefined)).toBe(false);
});
