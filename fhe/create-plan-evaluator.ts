import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { PlainText } from 'node-seal/implementation/plain-text';
import type { RelinKeys } from 'node-seal/implementation/relin-keys';
import type { CkksRuntime } from './create-ckks-runtime';
import { checkEvaluationInputs } from './check-evaluation-inputs';
import { chebyshevBasis } from './chebyshev-basis';
import { chebyshevSchedule } from './chebyshev-schedule';
import type { ChebyshevSchedule } from './chebyshev-schedule';
import { createFeatureMajorEvaluator } from './create-feature-major-evaluator';
import { createTableEvaluator } from './create-table-evaluator';
import { FheInputError } from './errors';
import { fixScale } from './fix-scale';
import type { FhePlan } from './fhe-plan';
import { keepsTerm, splitLinearTerms, type LinearTermPart } from './split-linear-terms';

export type PlanEvaluationKeys = { relinKeys?: RelinKeys; galoisKeys?: GaloisKeys };

/**
 * One stage of a group's evaluation split across workers (see split-linear-terms.ts). `resumeAfter`: the inputs are the
 * partial sums of linear op `resumeAfter` (one per part); they are added, that op is finished (rescale, rotate-and-sum,
 * bias) and evaluation goes on from the next op. Absent: the input is the group's one fresh ciphertext. `stopAt`: stop
 * at linear op `stopAt` and return only this part's partial sum of its terms (`part.index` of `part.count`). Absent:
 * run to the end.
 */
export type PlanStage = { resumeAfter?: number; stopAt?: number; part?: { index: number; count: number } };

export type PlanEvaluator = {
  /** Evaluates one batch group: `inputs` are its `spec.inputCiphertexts` ciphertexts; returns its output ciphertexts. Inputs are not freed. */
  evaluate(inputs: CipherText[], keys: PlanEvaluationKeys): CipherText[];
  /** One stage of one group (replicated-blocks plans with one input ciphertext; absent otherwise). Inputs are not freed. */
  evaluateStage?(inputs: CipherText[], keys: PlanEvaluationKeys, stage: PlanStage): CipherText;
  /** Input scale the plan expects (2^scaleBits). */
  inputScale: number;
  delete(): void;
};

/* Prepared (pre-encoded) forms of the plan's ops, with the level and scale each ciphertext has at each point. */
type Prepared =
  | { kind: 'linear'; babySteps: number[]; groups: { giantStep: number; terms: { babyStep: number; plain: PlainText }[] }[];
      sumSteps: number[]; rescale: boolean; productScale: number; outScale: number; bias: PlainText | null }
  | { kind: 'square'; inScale: number; shift: PlainText | null; outScale: number }
  | { kind: 'poly'; degree: number; inScale: number; plains: (PlainText | null)[]; scales: Record<string, number> }
  | { kind: 'chebyshev'; schedule: ChebyshevSchedule; align: PlainText[]; coeffs: (PlainText | null)[] };

/**
 * Pre-encodes every plaintext of the plan once (diagonals at the exact level and scale they meet their
 * ciphertext) and returns an evaluator that frees all its temporaries. Scales are tracked exactly as SEAL computes
 * them (product of scales, division by the dropped prime), and each addition re-asserts the expected scale, so a
 * "scale mismatch" can only mean a bug here and is reported as such, never as a SEAL exception.
 *
 * Plaintext scales: a rescaled ct×pt product uses the prime it will be divided by, so the scale survives the
 * multiply unchanged; the final unrescaled product uses 2^plainScaleBits (20 bits of weight precision).
 */
export function createPlanEvaluator(runtime: CkksRuntime, plan: FhePlan): PlanEvaluator {
  const { seal, encoder, evaluator, levels, slotCount } = runtime;
  const spec = plan.spec;
  if (spec.params.polyModulusDegree !== runtime.params.polyModulusDegree ||
      spec.params.coeffModulusBits.join() !== runtime.params.coeffModulusBits.join()) {
    throw new FheInputError('invalid_input', 'the plan was compiled for different CKKS parameters than this runtime');
  }
  if (spec.layout.kind === 'feature-major') return createFeatureMajorEvaluator(runtime, plan);
  if (spec.layout.kind === 'table-rows') return createTableEvaluator(runtime, plan);
  const blockSize = spec.layout.blockSize;
  const plains: PlainText[] = [];
  const encode = (block: Float64Array, scale: number, level: number): PlainText => {
    const full = new Float64Array(slotCount);
    for (let o = 0; o < slotCount; o += block.length) full.set(block, o);
    const pt = encoder.encode(full, scale)!;
    if (level > 0) evaluator.plainModSwitchTo(pt, levels[level]!.parmsId, pt);
    plains.push(pt);
    return pt;
  };
  const prime = (level: number): number => {
    const l = levels[level];
    if (!l || level >= levels.length - 1) throw new Error(`internal: plan needs level ${level + 1} but the chain has ${levels.length}`);
    return l.lastPrime;
  };

  const inputScale = 2 ** spec.params.scaleBits;
  const prepared: Prepared[] = [];
  let level = 0;
  let scale = inputScale;
  try {
    for (const op of plan.ops) {
      if (op.kind === 'linear') {
        const ptScale = op.rescale ? prime(level) : 2 ** op.plainScaleBits;
        const groups = op.groups.map((g) => ({
          giantStep: g.giantStep,
          terms: g.terms.map((t) => ({ babyStep: t.babyStep, plain: encode(t.values, ptScale, level) })),
        }));
        const productScale = scale * ptScale;
        let outScale = productScale;
        if (op.rescale) {
          outScale = productScale / levels[level]!.lastPrime;
          level += 1;
        }
        const bias = op.bias ? encode(op.bias, outScale, level) : null;
        prepared.push({ kind: 'linear', babySteps: op.babySteps, groups, sumSteps: op.sumSteps, rescale: op.rescale, productScale, outScale, bias });
        scale = outScale;
      } else if (op.kind === 'square') {
        const shift = op.shift ? encode(op.shift, scale, level) : null;
        const outScale = (scale * scale) / prime(level);
        prepared.push({ kind: 'square', inScale: scale, shift, outScale });
        level += 1;
        scale = outScale;
      } else if (op.kind === 'poly') {
        const degree = op.coeffs.length - 1;
        const c = op.coeffs;
        const p0 = prime(level);
        const scales: Record<string, number> = {};
        const pl: (PlainText | null)[] = [null, null, null, null, null];
        if (degree === 1) {
          // y = c1·x + c0: one ct×pt at level ℓ → ℓ+1.
          pl[1] = encode(c[1]!, p0, level);
          scales.out = (scale * p0) / p0;
          pl[0] = c[0] ? encode(c[0], scales.out, level + 1) : null;
          level += 1;
        } else {
          // u = c_top·x + c_next at level ℓ+1 (scale ≈ σ); degree 2: y = u·x + c0; degree 3: y = u·x² + (c1·x + c0).
          const p1 = prime(level + 1);
          pl[degree] = encode(c[degree]!, p0, level);
          scales.u = (scale * p0) / p0;
          pl[4] = c[degree - 1] ? encode(c[degree - 1]!, scales.u, level + 1) : null;
          if (degree === 2) {
            scales.out = (scales.u * scale) / p1;
          } else {
            scales.sq = (scale * scale) / p0;
            scales.out = (scales.u * scales.sq) / p1;
            // c1·x must land on scale `out` after one rescale by p0: plaintext scale out·p0/σ.
            scales.c1 = (scales.out * p0) / scale;
            pl[1] = c[1] ? encode(c[1], scales.c1, level) : null;
          }
          pl[0] = c[0] ? encode(c[0], scales.out, level + 2) : null;
          level += 2;
        }
        prepared.push({ kind: 'poly', degree, inScale: scale, plains: pl, scales });
        scale = scales.out!;
      } else if (op.kind === 'chebyshev') {
        const sch = chebyshevSchedule(op.coeffs.length - 1, level, scale, prime);
        const ones = new Float64Array(blockSize).fill(1);
        // align[k]: the constant 1 that brings T_j to T_k's scale (at T_k's input level), or that is subtracted (j = 0).
        const align: PlainText[] = [];
        for (const st of sch.steps) align[st.k] = encode(ones, st.alignScale, st.j === 0 ? st.level + 1 : st.level);
        const coeffs = op.coeffs.map((c, k) => (c && k >= 1 ? encode(c, sch.coeffScales[k]!, sch.coeffLevel) : null));
        coeffs[0] = op.coeffs[0] ? encode(op.coeffs[0], sch.outScale, sch.outLevel) : null;
        prepared.push({ kind: 'chebyshev', schedule: sch, align, coeffs });
        level = sch.outLevel;
        scale = sch.outScale;
      } else throw new Error(`internal: ${op.kind} op in a replicated-blocks plan`);
    }
  } catch (err) {
    for (const p of plains) p.delete();
    throw err;
  }

  const addInto = (acc: CipherText, t: CipherText) => {
    fixScale(t, acc.scale);
    evaluator.add(acc, t, acc);
  };

  /** A ciphertext copy at `level` (mod-switched down; levels only go down). */
  const atLevel = (ct: CipherText, lvl: number): CipherText => evaluator.cipherModSwitchTo(ct, levels[lvl]!.parmsId)!;

  /**
   * Σ c_k T_k(t) by chebyshev-schedule.ts. Every ciphertext it makes is tracked (freed by the caller except the result).
   */
  function evaluateChebyshev(p: Extract<Prepared, { kind: 'chebyshev' }>, t: CipherText, rk: () => RelinKeys, track: (ct: CipherText) => CipherText): CipherText {
    const sch = p.schedule;
    const brought = chebyshevBasis(sch, t, { evaluator, relinKeys: rk(), track, atLevel: (ct, lvl) => track(atLevel(ct, lvl)), align: (st) => p.align[st.k]! });
    let acc: CipherText | undefined;
    for (let k = 1; k <= sch.degree; k++) {
      const c = p.coeffs[k];
      if (!c) continue;
      const term = track(evaluator.multiplyPlain(brought(k, sch.coeffLevel), c)!);
      evaluator.rescaleToNext(term, term);
      fixScale(term, sch.outScale);
      if (acc) evaluator.add(acc, term, acc);
      else acc = term;
    }
    if (!acc) throw new Error('internal: a Chebyshev op with no nonzero coefficient above degree 0');
    if (p.coeffs[0]) evaluator.addPlain(acc, p.coeffs[0], acc);
    return acc;
  }

  // Partitions of a linear op's terms, per (op index, part count): computed once, the same in every worker.
  const partitions = new Map<string, LinearTermPart[]>();
  const partOf = (opIndex: number, part: { index: number; count: number }): LinearTermPart => {
    const key = `${opIndex}/${part.count}`;
    let parts = partitions.get(key);
    if (!parts) {
      const op = plan.ops[opIndex];
      const split = op?.kind === 'linear' ? splitLinearTerms(op, part.count) : undefined;
      if (!split || split.parts.length !== part.count) throw new Error(`internal: op ${opIndex} cannot be split ${part.count} ways`);
      parts = split.parts;
      partitions.set(key, parts);
    }
    return parts[part.index]!;
  };

  /**
   * Evaluates ops from `from` on `input`; with `stop`, returns at linear op `stop.at` with the sum of only the terms of
   * `stop.part` (not yet rescaled if the op rescales late, no rotate-and-sum, no bias). `input` is not freed.
   */
  /** Rotation by the session's Galois keys; a missing key is the client's `invalid_keys`, never a SEAL exception. */
  function rotator(keys: PlanEvaluationKeys): (ct: CipherText, step: number) => CipherText {
    return (ct, step) => {
      if (!keys.galoisKeys) throw new FheInputError('invalid_keys', 'this model needs Galois (rotation) keys');
      try {
        return evaluator.rotateVector(ct, step, keys.galoisKeys)!;
      } catch (err) {
        throw new FheInputError('invalid_keys', `the Galois keys lack rotation step ${step}`, { cause: err });
      }
    };
  }

  /** After the terms of a linear op (all parts' sums added): the late rescale, the rotate-and-sum steps and the bias. */
  function finishLinear(p: Extract<Prepared, { kind: 'linear' }>, out: CipherText, rotate: (ct: CipherText, step: number) => CipherText): void {
    const early = p.rescale && p.groups.length > 1;
    if (p.rescale && !early) evaluator.rescaleToNext(out, out);
    fixScale(out, p.outScale);
    for (const s of p.sumSteps) {
      const r = rotate(out, s);
      try {
        evaluator.add(out, r, out);
      } finally {
        r.delete();
      }
    }
    if (p.bias) evaluator.addPlain(out, p.bias, out);
  }

  function evaluateOne(input: CipherText, keys: PlanEvaluationKeys, from = 0, stop?: { at: number; part?: LinearTermPart }): CipherText {
    const temps: CipherText[] = [];
    const track = (ct: CipherText) => (temps.push(ct), ct);
    let cur = input;
    const rotate = rotator(keys);
    const rk = () => {
      if (!keys.relinKeys) throw new FheInputError('invalid_keys', 'this model needs relinearization keys');
      return keys.relinKeys;
    };
    let pending: CipherText | undefined; // a result not yet handed to `next` (freed if an error interrupts)
    const next = (ct: CipherText) => {
      if (cur !== input) cur.delete();
      cur = ct;
    };
    try {
      for (let i = from; i < prepared.length; i++) {
        const p = prepared[i]!;
        if (p.kind === 'linear') {
          const stopping = stop?.at === i;
          const part = stopping ? stop!.part : undefined;
          const rots = new Map<number, CipherText>([[0, cur]]);
          // A part rotates the input only by the baby steps its own terms use.
          const used = new Set(p.groups.flatMap((g, gi) => g.terms.filter((t) => keepsTerm(part, gi, t.babyStep)).map((t) => t.babyStep)));
          for (const b of p.babySteps) if (used.has(b)) rots.set(b, track(rotate(cur, b)));
          // With several giant steps, each inner sum is rescaled *before* its giant rotation: a rotation one level
          // down costs about half (measured 4.9 vs 10 ms at N=8192, 4 → 3 data primes) and a rescale ~2 ms.
          const early = p.rescale && p.groups.length > 1;
          let acc: CipherText | undefined;
          for (const [gi, g] of p.groups.entries()) {
            let inner: CipherText | undefined;
            for (const t of g.terms) {
              if (!keepsTerm(part, gi, t.babyStep)) continue;
              const prod = evaluator.multiplyPlain(rots.get(t.babyStep)!, t.plain)!;
              if (inner) {
                try {
                  evaluator.add(inner, prod, inner);
                } finally {
                  prod.delete();
                }
              } else inner = track(prod);
            }
            if (!inner) continue; // none of this group's terms are this part's
            if (early) {
              evaluator.rescaleToNext(inner!, inner!);
              fixScale(inner!, p.outScale);
            }
            if (g.giantStep !== 0) {
              const r = track(rotate(inner!, g.giantStep));
              acc ? addInto(acc, r) : (acc = r);
            } else acc ? addInto(acc, inner!) : (acc = inner!);
          }
          // The accumulator is one of the tracked temporaries: keep it, free the rest.
          const out = acc!;
          for (const t of temps.splice(0)) if (t !== out) t.delete();
          if (stopping) {
            if (cur !== input) cur.delete();
            return out;
          }
          pending = out;
          finishLinear(p, out, rotate);
          next(out);
          pending = undefined;
        } else if (p.kind === 'square') {
          const shifted = p.shift ? evaluator.addPlain(cur, p.shift)! : cur.clone();
          pending = shifted;
          evaluator.square(shifted, shifted);
          evaluator.relinearize(shifted, rk(), shifted);
          evaluator.rescaleToNext(shifted, shifted);
          fixScale(shifted, p.outScale);
          next(shifted);
          pending = undefined;
        } else if (p.kind === 'chebyshev') {
          const y = evaluateChebyshev(p, cur, rk, track);
          for (const t of temps.splice(0)) if (t !== y) t.delete();
          next(y);
        } else {
          const s = p.scales;
          if (p.degree === 1) {
            const y = evaluator.multiplyPlain(cur, p.plains[1]!)!;
            pending = y;
            evaluator.rescaleToNext(y, y);
            fixScale(y, s.out!);
            if (p.plains[0]) evaluator.addPlain(y, p.plains[0], y);
            next(y);
            pending = undefined;
            continue;
          }
          const u = track(evaluator.multiplyPlain(cur, p.plains[p.degree]!)!);
          evaluator.rescaleToNext(u, u);
          fixScale(u, s.u!);
          if (p.plains[4]) evaluator.addPlain(u, p.plains[4], u);
          let y: CipherText;
          if (p.degree === 2) {
            const x1 = track(evaluator.cipherModSwitchToNext(cur)!);
            y = evaluator.multiply(u, x1)!;
            pending = y;
          } else {
            const sq = track(evaluator.square(cur)!);
            evaluator.relinearize(sq, rk(), sq);
            evaluator.rescaleToNext(sq, sq);
            fixScale(sq, s.sq!);
            y = evaluator.multiply(u, sq)!;
            pending = y;
          }
          evaluator.relinearize(y, rk(), y);
          evaluator.rescaleToNext(y, y);
          fixScale(y, s.out!);
          if (p.degree === 3 && p.plains[1]) {
            const v = track(evaluator.multiplyPlain(cur, p.plains[1])!);
            evaluator.rescaleToNext(v, v);
            evaluator.cipherModSwitchToNext(v, v);
            addInto(y, v);
          }
          if (p.plains[0]) evaluator.addPlain(y, p.plains[0], y);
          for (const t of temps.splice(0)) t.delete();
          next(y);
          pending = undefined;
        }
      }
      if (stop) throw new Error(`internal: op ${stop.at} is not a linear op after op ${from}`);
      return cur === input ? input.clone() : cur;
    } catch (err) {
      for (const t of temps) t.delete();
      pending?.delete();
      if (cur !== input) cur.delete();
      throw err;
    }
  }

  return {
    inputScale,
    evaluate(inputs, keys) {
      checkEvaluationInputs(spec, inputs.length, keys);
      // A later input that fails must not strand the results of the earlier ones.
      const outputs: CipherText[] = [];
      try {
        for (const ct of inputs) outputs.push(evaluateOne(ct, keys));
        return outputs;
      } catch (err) {
        for (const out of outputs) out.delete();
        throw err;
      }
    },
    evaluateStage(inputs, keys, stage) {
      let start: CipherText;
      let from = 0;
      let owned: CipherText | undefined;
      if (stage.resumeAfter === undefined) {
        checkEvaluationInputs(spec, inputs.length, keys);
        start = inputs[0]!;
      } else {
        const p = prepared[stage.resumeAfter];
        if (p?.kind !== 'linear' || inputs.length === 0) throw new Error(`internal: no partial sums of linear op ${stage.resumeAfter} to resume from`);
        // The parts' sums are added in part order, so every worker that resumes computes the same ciphertext.
        owned = inputs[0]!.clone();
        try {
          for (const partial of inputs.slice(1)) addInto(owned, partial);
          finishLinear(p, owned, rotator(keys));
        } catch (err) {
          owned.delete();
          throw err;
        }
        start = owned;
        from = stage.resumeAfter + 1;
      }
      try {
        const stop = stage.stopAt === undefined ? undefined : { at: stage.stopAt, part: stage.part && partOf(stage.stopAt, stage.part) };
        return evaluateOne(start, keys, from, stop);
      } finally {
        owned?.delete();
      }
    },
    delete() {
      for (const p of plains) p.delete();
      plains.length = 0;
      void seal;
    },
  };
}
