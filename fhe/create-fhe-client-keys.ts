import type { CkksRuntime } from './create-ckks-runtime';
import { FheInputError } from './errors';
import type { FheModelSpec } from './fhe-plan';
import type { EvaluationKeyBytes } from './load-evaluation-keys';

export type FheClientKeys = {
  /** Encodes a full slot vector at 2^scaleBits and encrypts it symmetrically (seeded form: half the bytes). */
  encrypt(slots: Float64Array): Uint8Array;
  /** Decrypts a result ciphertext (any level) and decodes all slots. */
  decrypt(bytes: Uint8Array): Float64Array;
  /** Seeded serializations of exactly the keys the spec needs: Galois keys for `galoisSteps`, relin keys if needed. */
  evaluationKeys(): EvaluationKeyBytes;
  delete(): void;
};

/**
 * Generates a secret key held only inside the returned object (it has no accessor and is never serialised).
 *
 * @example
 * const keys = createFheClientKeys(runtime, spec);
 * const cts = packInputs(spec, samples).map(([slots]) => keys.encrypt(slots!));
 */
export function createFheClientKeys(runtime: CkksRuntime, spec: FheModelSpec): FheClientKeys {
  const { seal, context, encoder, slotCount } = runtime;
  const keyGenerator = seal.KeyGenerator(context);
  const secretKey = keyGenerator.secretKey();
  // node-seal's Encryptor constructor insists on a public key even for symmetric encryption.
  const publicKey = keyGenerator.createPublicKey();
  const encryptor = seal.Encryptor(context, publicKey, secretKey);
  publicKey.delete();
  const decryptor = seal.Decryptor(context, secretKey);
  const scale = 2 ** spec.params.scaleBits;
  let deleted = false;
  const alive = () => {
    if (deleted) throw new Error('FheClientKeys used after delete()');
  };
  return {
    encrypt(slots) {
      alive();
      if (slots.length > slotCount) throw new FheInputError('invalid_input', `slot vector has ${slots.length} values; at most ${slotCount}`);
      const pt = encoder.encode(slots instanceof Float64Array ? slots : Float64Array.from(slots), scale)!;
      const ser = encryptor.encryptSymmetricSerializable(pt);
      const bytes = ser.saveArray(seal.ComprModeType.none);
      ser.delete();
      pt.delete();
      return bytes;
    },
    decrypt(bytes) {
      alive();
      const ct = seal.CipherText();
      try {
        ct.loadArray(context, bytes);
      } catch {
        ct.delete();
        throw new FheInputError('invalid_ciphertext', 'result bytes are not a SEAL ciphertext for this model\'s CKKS parameters');
      }
      const pt = decryptor.decrypt(ct)!;
      const out = Float64Array.from(encoder.decode(pt));
      pt.delete();
      ct.delete();
      return out;
    },
    evaluationKeys() {
      alive();
      const out: EvaluationKeyBytes = {};
      if (spec.galoisSteps.length > 0) {
        const ser = keyGenerator.createGaloisKeysSerializable(Int32Array.from(spec.galoisSteps));
        out.galoisKeys = ser.saveArray(seal.ComprModeType.none);
        ser.delete();
      }
      if (spec.needsRelinKeys) {
        const ser = keyGenerator.createRelinKeysSerializable();
        out.relinKeys = ser.saveArray(seal.ComprModeType.none);
        ser.delete();
      }
      return out;
    },
    delete() {
      if (deleted) return;
      deleted = true;
      decryptor.delete();
      encryptor.delete();
      secretKey.delete();
      keyGenerator.delete();
    },
  };
}
