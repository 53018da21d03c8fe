import type { FhePlan } from './fhe-plan';

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

/**
 * Runs a plan on plaintext slot vectors with exactly the evaluator's sequence of rotations, products and sums
 * (no encryption, no noise). It checks the layout algebra independently of SEAL and records the rotation steps used.
 * @internal for tests and `veil fhe check`.
 */
export function simulatePlan(plan: FhePlan, input: Float64Array, onRotate?: (step: number) => void): Float64Array {
  const len = input.length;
  const rot = (v: Float64Array, s: number) => (onRotate?.(s), rotate(v, s));
  const mul = (a: Float64Array, b: Float64Array) => a.map((v, i) => v * b[i]!);
  const add = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]!);
  let cur: Float64Array = Float64Array.from(input);
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
    } else {
      const x = cur;
      const coeffs = op.coeffs.map((c) => (c ? tileTo(c, len) : null));
      cur = x.map((v, i) => coeffs.reduce((s, c, k) => s + (c ? c[i]! * v ** k : 0), 0));
    }
  }
  return cur;
}
