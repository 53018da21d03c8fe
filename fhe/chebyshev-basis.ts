import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { Evaluator } from 'node-seal/implementation/evaluator';
import type { PlainText } from 'node-seal/implementation/plain-text';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';
import type { ChebyshevSchedule, ChebyshevStep } from './chebyshev-schedule';
import { fixScale } from './fix-scale';

export type ChebyshevBasisContext = {
  evaluator: Evaluator;
  relinKeys: RelinKeys;
  /** Every ciphertext the basis makes goes through this (the caller frees them once the series is summed). */
  track(ct: CipherText): CipherText;
  /** A copy of `ct` mod-switched down to `level` (also tracked by the caller). */
  atLevel(ct: CipherText, level: number): CipherText;
  /**
   * The plaintext 1 that aligns a step's scale: for T_k = 2·T_m·T_n − 1 (`product` false, subtracted at the product's
   * level) or − T_j (`product` true, multiplied into T_j at the step's level). The two layouts encode it differently.
   */
  align(step: ChebyshevStep, product: boolean): PlainText;
};

/**
 * The Chebyshev basis T_1..T_d of `t` by chebyshev-schedule.ts (T_k = 2·T_m·T_n − T_j, each product relinearised and
 * rescaled), shared by both layouts' evaluators. Returns `brought(k, level)`: T_k at `level`, switched down if needed.
 */
export function chebyshevBasis(sch: ChebyshevSchedule, t: CipherText, ctx: ChebyshevBasisContext): (k: number, level: number) => CipherText {
  const { evaluator, track } = ctx;
  const T: CipherText[] = [];
  T[1] = t;
  const brought = (k: number, level: number) => (sch.levels[k] === level ? T[k]! : ctx.atLevel(T[k]!, level));
  for (const st of sch.steps) {
    const a = brought(st.m, st.level);
    const prod = track(st.m === st.n ? evaluator.square(a)! : evaluator.multiply(a, brought(st.n, st.level))!);
    evaluator.relinearize(prod, ctx.relinKeys, prod);
    evaluator.rescaleToNext(prod, prod);
    fixScale(prod, st.scale);
    evaluator.add(prod, prod, prod);
    if (st.j === 0) evaluator.subPlain(prod, ctx.align(st, false), prod);
    else {
      const tj = track(evaluator.multiplyPlain(brought(st.j, st.level), ctx.align(st, true))!);
      evaluator.rescaleToNext(tj, tj);
      fixScale(tj, st.scale);
      evaluator.sub(prod, tj, prod);
    }
    T[st.k] = prod;
  }
  return brought;
}
