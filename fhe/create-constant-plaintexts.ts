import type { PlainText } from 'node-seal/implementation/plain-text';
import type { CkksRuntime } from './create-ckks-runtime';

export type ConstantPlaintexts = {
  /** A plaintext holding `value` in every slot at `scale`, at data level `level`. Valid until the next call. */
  get(value: number, scale: number, level: number): PlainText;
  delete(): void;
};

/*
 * SEAL 4.1 serialisation of a CKKS Plaintext (compression none):
 *   [16 header][32 parms_id][8 coeff_count][8 scale][16 inner DynArray header][8 size][N·k u64 data]
 * A constant vector encodes to the constant polynomial round(c·Δ); its NTT form is that value (mod q_i) in all N
 * positions of prime i. Writing those bytes and loadArray-ing them costs a memcpy instead of an FFT + k NTTs (the
 * encoder), which matters when a feature-major layer needs one constant per weight.
 */
const SCALE_OFFSET = 56;

/**
 * Builds constant plaintexts from a serialised template per level (self-checked against the encoder at creation;
 * falls back to the encoder if the layout ever differs).
 */
export function createConstantPlaintexts(runtime: CkksRuntime): ConstantPlaintexts {
  const { seal, encoder, evaluator, context, levels, slotCount } = runtime;
  const n = runtime.params.polyModulusDegree;
  const scratch = seal.PlainText();
  type Template = { bytes: Uint8Array; data: BigUint64Array; primes: bigint[]; view: DataView };
  const templates = new Map<number, Template | null>();

  const encodeSlow = (value: number, scale: number, level: number): PlainText => {
    encoder.encode(new Float64Array(slotCount).fill(value), scale, scratch);
    if (level > 0) evaluator.plainModSwitchTo(scratch, levels[level]!.parmsId, scratch);
    return scratch;
  };
  const fill = (t: Template, value: number, scale: number) => {
    const v = BigInt(Math.round(value * scale));
    t.view.setFloat64(SCALE_OFFSET, scale, true);
    t.primes.forEach((q, i) => t.data.fill(((v % q) + q) % q, i * n, (i + 1) * n));
  };
  const template = (level: number): Template | null => {
    if (templates.has(level)) return templates.get(level)!;
    const probe = 0.8125;
    const scale = 2 ** 30;
    const bytes = Uint8Array.from(encodeSlow(probe, scale, level).saveArray(seal.ComprModeType.none));
    // Both getters return fresh node-seal wrappers over WASM memory: free them once the primes are read.
    const data = context.getContextData(levels[level]!.parmsId);
    const parms = data.parms;
    const primes = Array.from(parms.coeffModulus);
    parms.delete();
    data.delete();
    const dataOffset = bytes.length - n * primes.length * 8;
    let t: Template | null = null;
    if (dataOffset > SCALE_OFFSET && dataOffset % 8 === 0) {
      const candidate: Template = { bytes, data: new BigUint64Array(bytes.buffer, dataOffset, n * primes.length), primes, view: new DataView(bytes.buffer) };
      const reference = Uint8Array.from(bytes);
      fill(candidate, probe, scale);
      if (reference.every((b, i) => b === bytes[i])) t = candidate;
    }
    templates.set(level, t);
    return t;
  };
  return {
    get(value, scale, level) {
      const t = template(level);
      if (!t) return encodeSlow(value, scale, level);
      fill(t, value, scale);
      scratch.loadArray(context, t.bytes);
      return scratch;
    },
    delete() {
      scratch.delete();
      templates.clear();
    },
  };
}
