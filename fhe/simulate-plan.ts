import type { FhePlan } from './fhe-plan';
import { evaluateChebyshev } from './fit-chebyshev';

/** Left rotation of a slot vector, as SEAL's rotateVector(ct, step) acts on the decrypted slots. */
function rotate(v: Float64Array, step: number): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  const k = ((step % n) + n) % n;
  for (let i = 0; i < n; i++) out[i] = v[(i + k) % n]!;
  return out;
}

function tileTo(block: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let o = 0; o < length; o += block.length) out.set(block, o);
  return out;
}

const mul = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v * b[i]!);
const add = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]!);
const polyAt = (v: number, coeffs: number[]) => coeffs.reduce((s, c, k) => s + c * v ** k, 0);

/**
 * Runs a plan on plaintext slot vectors (one per input ciphertext) with exactly the evaluator's sequence of
 * rotations, products and sums (no encryption, no noise). It checks the layout algebra independently of SEAL and
 * records the rotation steps used. @internal for tests.
 */
export function simulatePlan(plan: FhePlan, inputs: Float64Array[], onRotate?: (step: number) => void): Float64Array[] {
  if (plan.spec.layout.kind === 'feature-major') return simulateFeatureMajor(plan, inputs);
  if (plan.spec.layout.kind === 'table-rows') throw new Error('simulatePlan: table-rows plans are checked against SEAL directly (compile-similarity-table.test.ts)');
  const len = inputs[0]!.length;
  const rot = (v: Float64Array, s: number) => (onRotate?.(s), rotate(v, s));
  let cur: Float64Array = Float64Array.from(inputs[0]!);
  for (const op of plan.ops) {
    if (op.kind === 'linear') {
      const rots = new Map<number, Float64Array>([[0, cur]]);
      for (const b of op.babySteps) rots.set(b, rot(cur, b));
      let acc: Float64Array | undefined;
      for (const g of op.groups) {
        let inner: Float64Array = new Float64Array(len);
        for (const t of g.terms) inner = add(inner, mul(rots.get(t.babyStep)!, tileTo(t.values, len)));
        if (g.giantStep !== 0) inner = rot(inner, g.giantStep);
        acc = acc ? add(acc, inner) : inner;
      }
      let out = acc!;
      for (const s of op.sumSteps) out = add(out, rot(out, s));
      if (op.bias) out = add(out, tileTo(op.bias, len));
      cur = out;
    } else if (op.kind === 'square') {
      const shifted = op.shift ? add(cur, tileTo(op.shift, len)) : cur;
      cur = mul(shifted, shifted);
    } else if (op.kind === 'poly') {
      const coeffs = op.coeffs.map((c) => (c ? tileTo(c, len) : null));
      cur = cur.map((v, i) => polyAt(v, coeffs.map((c) => (c ? c[i]! : 0))));
    } else if (op.kind === 'chebyshev') {
      const coeffs = op.coeffs.map((c) => (c ? tileTo(c, len) : null));
      cur = cur.map((v, i) => evaluateChebyshev(coeffs.map((c) => (c ? c[i]! : 0)), v));
    } else throw new Error(`internal: ${op.kind} op in a replicated-blocks plan`);
  }
  return [cur];
}

function simulateFeatureMajor(plan: FhePlan, inputs: Float64Array[]): Float64Array[] {
  let cur: Float64Array[] = inputs.map((v) => Float64Array.from(v));
  for (const op of plan.ops) {
    if (op.kind === 'dense') {
      cur = Array.from({ length: op.outputSize }, (_, i) => {
        let acc: Float64Array = new Float64Array(cur[0]!.length).fill(op.bias[i]!);
        cur.forEach((x, f) => (acc = add(acc, x.map((v) => v * op.weights[i * op.inputSize + f]!))));
        return acc;
      });
    } else if (op.kind === 'square') {
      cur = cur.map((x, f) => x.map((v) => (v + (op.shift?.[f] ?? 0)) ** 2));
    } else if (op.kind === 'poly') {
      cur = cur.map((x, f) => x.map((v) => polyAt(v, op.coeffs.map((c) => c?.[f] ?? 0))));
    } else if (op.kind === 'chebyshev') {
      cur = cur.map((x, f) => x.map((v) => evaluateChebyshev(op.coeffs.map((c) => c?.[f] ?? 0), v)));
    } else throw new Error(`internal: ${op.kind} op in a feature-major plan`);
  }
  return cur;
}
