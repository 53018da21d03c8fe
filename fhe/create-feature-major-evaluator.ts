import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';
import type { CkksRuntime } from './create-ckks-runtime';
import { checkEvaluationInputs } from './check-evaluation-inputs';
import { chebyshevBasis } from './chebyshev-basis';
import { chebyshevSchedule } from './chebyshev-schedule';
import type { ChebyshevSchedule } from './chebyshev-schedule';
import { createConstantPlaintexts } from './create-constant-plaintexts';
import { fixScale } from './fix-scale';
import type { FhePlan } from './fhe-plan';

export type FeatureMajorEvaluator = {
  evaluate(inputs: CipherText[], keys: { relinKeys?: RelinKeys; galoisKeys?: GaloisKeys }): CipherText[];
  inputScale: number;
  delete(): void;
};

type Step = { level: number; scale: number; outScale: number; scales: Record<string, number>; chebyshev?: ChebyshevSchedule };

/**
 * Evaluates a feature-major plan: one ciphertext per feature, dense layers as Σ ciphertext × constant. Constants are
 * built per use from serialised templates (no per-weight plaintext is kept: at N=8192 a digits layer would need
 * 2,048 × 262 KB). Levels and scales follow the same rules as the replicated-blocks evaluator: each ct × constant
 * uses the prime it is about to be divided by, so scales stay put; additions re-assert the expected scale.
 * @internal use createPlanEvaluator.
 */
export function createFeatureMajorEvaluator(runtime: CkksRuntime, plan: FhePlan): FeatureMajorEvaluator {
  const { seal, evaluator, levels } = runtime;
  const spec = plan.spec;
  const consts = createConstantPlaintexts(runtime);
  const prime = (level: number): number => {
    if (level >= levels.length - 1) throw new Error(`internal: plan needs level ${level + 1} but the chain has ${levels.length}`);
    return levels[level]!.lastPrime;
  };
  const inputScale = 2 ** spec.params.scaleBits;
  // The same scale schedule as the blocks evaluator (IEEE doubles, computed exactly as SEAL does).
  const steps: Step[] = [];
  let level = 0;
  let scale = inputScale;
  for (const op of plan.ops) {
    const p0 = prime(level);
    const scales: Record<string, number> = {};
    let outScale: number;
    let chebyshev: ChebyshevSchedule | undefined;
    if (op.kind === 'chebyshev') {
      chebyshev = chebyshevSchedule(op.coeffs.length - 1, level, scale, prime);
      steps.push({ level, scale, outScale: chebyshev.outScale, scales, chebyshev });
      level = chebyshev.outLevel;
      scale = chebyshev.outScale;
      continue;
    }
    if (op.kind === 'dense') outScale = (scale * p0) / p0;
    else if (op.kind === 'square') outScale = (scale * scale) / p0;
    else if (op.kind === 'poly') {
      const degree = op.coeffs.length - 1;
      if (degree === 1) outScale = (scale * p0) / p0;
      else {
        const p1 = prime(level + 1);
        scales.u = (scale * p0) / p0;
        if (degree === 2) outScale = (scales.u * scale) / p1;
        else {
          scales.sq = (scale * scale) / p0;
          outScale = (scales.u * scales.sq) / p1;
          scales.c1 = (outScale * p0) / scale;
        }
      }
    } else throw new Error(`internal: ${op.kind} op in a feature-major plan`);
    steps.push({ level, scale, outScale, scales });
    level += op.kind === 'poly' && op.coeffs.length - 1 >= 2 ? 2 : 1;
    scale = outScale;
  }

  // A zero multiplier would make SEAL's result transparent (an error); 2/scale encodes to the integer 2 instead,
  // contributing ≤ 2^-29·|x| — far below the noise.
  const nz = (c: number, ptScale: number) => (c !== 0 ? c : 2 / ptScale);

  return {
    inputScale,
    evaluate(inputs, keys) {
      checkEvaluationInputs(spec, inputs.length, keys);
      const rk = keys.relinKeys!;
      let cur: CipherText[] = inputs;
      const scratch = seal.CipherText();
      try {
        plan.ops.forEach((op, oi) => {
          const st = steps[oi]!;
          const l = st.level;
          const p0 = levels[l]!.lastPrime;
          const next: CipherText[] = [];
          const keep = (ct: CipherText) => (next.push(ct), ct);
          // Intermediates of one feature's polynomial (u, x² or x one level down, c1·x): freed after use or on error.
          const temps: CipherText[] = [];
          const temp = (ct: CipherText) => (temps.push(ct), ct);
          const free = (ct: CipherText) => {
            temps.splice(temps.indexOf(ct), 1);
            ct.delete();
          };
          try {
            if (op.kind === 'dense') {
              for (let i = 0; i < op.outputSize; i++) {
                let acc: CipherText | undefined;
                for (let f = 0; f < op.inputSize; f++) {
                  const w = op.weights[i * op.inputSize + f]!;
                  if (w === 0) continue;
                  if (!acc) acc = keep(evaluator.multiplyPlain(cur[f]!, consts.get(w, p0, l))!);
                  else {
                    evaluator.multiplyPlain(cur[f]!, consts.get(w, p0, l), scratch);
                    evaluator.add(acc, scratch, acc);
                  }
                }
                acc ??= keep(evaluator.multiplyPlain(cur[0]!, consts.get(nz(0, p0), p0, l))!);
                evaluator.rescaleToNext(acc, acc);
                fixScale(acc, st.outScale);
                if (op.bias[i] !== 0) evaluator.addPlain(acc, consts.get(op.bias[i]!, st.outScale, l + 1), acc);
              }
            } else if (op.kind === 'square') {
              cur.forEach((x, f) => {
                const shift = op.shift?.[f] ?? 0;
                const t = keep(shift !== 0 ? evaluator.addPlain(x, consts.get(shift, st.scale, l))! : x.clone());
                evaluator.square(t, t);
                evaluator.relinearize(t, rk, t);
                evaluator.rescaleToNext(t, t);
                fixScale(t, st.outScale);
              });
            } else if (op.kind === 'chebyshev') {
              const sch = st.chebyshev!;
              const atLevel = (ct: CipherText, lvl: number) => temp(evaluator.cipherModSwitchTo(ct, levels[lvl]!.parmsId)!);
              cur.forEach((x, f) => {
                const brought = chebyshevBasis(sch, x, {
                  evaluator, relinKeys: rk, track: temp, atLevel,
                  align: (sp, product) => consts.get(1, sp.alignScale, product ? sp.level : sp.level + 1),
                });
                let acc: CipherText | undefined;
                for (let k = 1; k <= sch.degree; k++) {
                  const c = op.coeffs[k]?.[f] ?? 0;
                  if (c === 0 && (acc || k < sch.degree)) continue;
                  const ptScale = sch.coeffScales[k]!;
                  const term = evaluator.multiplyPlain(brought(k, sch.coeffLevel), consts.get(nz(c, ptScale), ptScale, sch.coeffLevel))!;
                  evaluator.rescaleToNext(term, term);
                  fixScale(term, sch.outScale);
                  if (acc) {
                    evaluator.add(acc, term, acc);
                    term.delete();
                  } else acc = keep(term);
                }
                const c0 = op.coeffs[0]?.[f] ?? 0;
                if (c0 !== 0) evaluator.addPlain(acc!, consts.get(c0, sch.outScale, sch.outLevel), acc!);
                for (const t of temps.splice(0)) t.delete();
              });
            } else if (op.kind === 'poly') {
              const degree = op.coeffs.length - 1;
              const s = st.scales;
              cur.forEach((x, f) => {
                const c = (k: number) => op.coeffs[k]?.[f] ?? 0;
                if (degree === 1) {
                  const y = keep(evaluator.multiplyPlain(x, consts.get(nz(c(1), p0), p0, l))!);
                  evaluator.rescaleToNext(y, y);
                  fixScale(y, st.outScale);
                  if (c(0) !== 0) evaluator.addPlain(y, consts.get(c(0), st.outScale, l + 1), y);
                  return;
                }
                const u = temp(evaluator.multiplyPlain(x, consts.get(nz(c(degree), p0), p0, l))!);
                evaluator.rescaleToNext(u, u);
                fixScale(u, s.u!);
                if (c(degree - 1) !== 0) evaluator.addPlain(u, consts.get(c(degree - 1), s.u!, l + 1), u);
                let other: CipherText;
                if (degree === 2) other = temp(evaluator.cipherModSwitchToNext(x)!);
                else {
                  other = temp(evaluator.square(x)!);
                  evaluator.relinearize(other, rk, other);
                  evaluator.rescaleToNext(other, other);
                  fixScale(other, s.sq!);
                }
                const y = keep(evaluator.multiply(u, other)!);
                free(u);
                free(other);
                evaluator.relinearize(y, rk, y);
                evaluator.rescaleToNext(y, y);
                fixScale(y, st.outScale);
                if (degree === 3 && c(1) !== 0) {
                  const v = temp(evaluator.multiplyPlain(x, consts.get(c(1), s.c1!, l))!);
                  evaluator.rescaleToNext(v, v);
                  evaluator.cipherModSwitchToNext(v, v);
                  fixScale(v, st.outScale);
                  evaluator.add(y, v, y);
                  free(v);
                }
                if (c(0) !== 0) evaluator.addPlain(y, consts.get(c(0), st.outScale, l + 2), y);
              });
            }
          } catch (err) {
            for (const ct of [...temps, ...next]) ct.delete();
            throw err;
          }
          if (cur !== inputs) for (const ct of cur) ct.delete();
          cur = next;
        });
        return cur === inputs ? inputs.map((ct) => ct.clone()) : cur;
      } catch (err) {
        if (cur !== inputs) for (const ct of cur) ct.delete();
        throw err;
      } finally {
        scratch.delete();
      }
    },
    delete() {
      consts.delete();
    },
  };
}
