import type { CKKSEncoder } from 'node-seal/implementation/ckks-encoder';
import type { Context } from 'node-seal/implementation/context';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { ParmsIdType } from 'node-seal/implementation/parms-id-type';
import type { CkksParameters } from './ckks-parameters';
import { validateCkksParameters } from './ckks-parameters';
import { FheInputError } from './errors';
import type { SEALLibrary } from './load-seal';

export type CkksLevel = {
  parmsId: ParmsIdType;
  /** The prime a rescale at this level divides by (the last data prime still in the chain). */
  lastPrime: number;
  primeCount: number;
};

export type CkksRuntime = {
  seal: SEALLibrary;
  context: Context;
  encoder: CKKSEncoder;
  evaluator: Evaluator;
  params: CkksParameters;
  slotCount: number;
  /** Data levels from the top (fresh ciphertexts) down: levels[i] is reached after i rescales/mod-switches. */
  levels: CkksLevel[];
  delete(): void;
};

/**
 * Builds a SEAL CKKS context at 128-bit security (SEAL refuses larger moduli) plus the encoder and evaluator.
 *
 * @throws {FheInputError} `invalid_input` when the parameters are malformed or SEAL rejects them.
 */
export function createCkksRuntime(seal: SEALLibrary, params: CkksParameters): CkksRuntime {
  const problem = validateCkksParameters(params);
  if (problem) throw new FheInputError('invalid_input', `invalid CKKS parameters: ${problem}`);
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  parms.setPolyModulusDegree(params.polyModulusDegree);
  const moduli = seal.CoeffModulus.Create(params.polyModulusDegree, Int32Array.from(params.coeffModulusBits));
  parms.setCoeffModulus(moduli);
  moduli.delete();
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  parms.delete();
  if (!context.parametersSet()) {
    context.delete();
    throw new FheInputError('invalid_input', 'SEAL rejected the CKKS parameters at 128-bit security');
  }
  // Every getter below (context data, its parms and parms id, the next context data) returns a fresh node-seal
  // wrapper over WASM memory; free each one except the parms ids `levels` keeps, which `delete()` frees.
  const levels: CkksLevel[] = [];
  let encoder: CKKSEncoder | undefined;
  try {
    let data = context.firstContextData;
    for (;;) {
      const parmsOfLevel = data.parms;
      const primes = parmsOfLevel.coeffModulus;
      parmsOfLevel.delete();
      levels.push({ parmsId: data.parmsId, lastPrime: Number(primes[primes.length - 1]!), primeCount: primes.length });
      if (primes.length === 1) {
        data.delete();
        break;
      }
      const next = data.nextContextData;
      data.delete();
      data = next;
    }
    encoder = seal.CKKSEncoder(context);
    const evaluator = seal.Evaluator(context);
    const built: CkksRuntime = {
      seal,
      context,
      encoder,
      evaluator,
      params,
      slotCount: encoder.slotCount,
      levels,
      delete() {
        evaluator.delete();
        built.encoder.delete();
        for (const level of levels.splice(0)) level.parmsId.delete();
        context.delete();
      },
    };
    return built;
  } catch (err) {
    encoder?.delete();
    for (const level of levels) level.parmsId.delete();
    context.delete();
    throw err;
  }
}

/** True when two SEAL parms ids are the same parameter level. */
export function sameParmsId(a: ParmsIdType, b: ParmsIdType): boolean {
  const x = a.values;
  const y = b.values;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
