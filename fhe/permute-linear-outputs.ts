/** The stages this pass reorders: a dense layer, or an elementwise stage with per-feature vectors. */
export type PermutableStage =
  | { kind: 'linear'; weights: Float64Array; bias: Float64Array; inputSize: number; outputSize: number }
  | { kind: 'poly' | 'chebyshev'; coeffs: Float64Array[]; size: number }
  | { kind: 'square'; shift: Float64Array; size: number }
  | { kind: string };

/* Layers larger than this are left in their order (the greedy placement is quadratic in the output count). */
const MAX_OUTPUTS = 2048;

/**
 * Reorders the outputs of a dense layer that is followed (through elementwise stages only) by another dense layer,
 * so that its matrix has fewer generalised diagonals in the replicated-blocks layout. The order of such a layer's
 * outputs is free: the elementwise stages act per feature and the next layer's columns are permuted the same way, so
 * the model computes exactly the same. It matters for strided convolutions lowered to dense maps: in the exporter's
 * (channel, y, x) order a 3×3 stride-2 convolution on 8×8 touches all 64 diagonals; placed next to its taps, 16.
 *
 * Only tall layers (padded outputs ≥ padded inputs, D = n) are reordered: there d_k[j] = W[j mod m][(j + k) mod n] and
 * output r at position p uses diagonals {(c − p) mod n : W[r][c] ≠ 0}. Rows are placed greedily, fullest first, each at
 * the free position adding the fewest new diagonals; the new order is kept only if it has fewer diagonals than the old.
 * Returns new stage objects (the inputs are not modified).
 */
export function permuteLinearOutputs<S extends PermutableStage>(stages: readonly S[], pow2: (n: number) => number): S[] {
  const out = [...stages];
  for (let i = 0; i < out.length; i++) {
    const st = out[i]!;
    if (st.kind !== 'linear') continue;
    let j = i + 1;
    while (j < out.length && out[j]!.kind !== 'linear') j++;
    if (j >= out.length) continue; // the model's outputs keep their order
    const lin = st as Extract<PermutableStage, { kind: 'linear' }>;
    const n = pow2(lin.inputSize);
    if (pow2(lin.outputSize) < n || lin.outputSize > MAX_OUTPUTS) continue;
    const perm = placeRows(lin, n);
    if (!perm) continue;
    // perm[p] = the original output placed at position p.
    const rows = lin.outputSize;
    const weights = new Float64Array(lin.weights.length);
    const bias = new Float64Array(rows);
    for (let p = 0; p < rows; p++) {
      weights.set(lin.weights.subarray(perm[p]! * lin.inputSize, (perm[p]! + 1) * lin.inputSize), p * lin.inputSize);
      bias[p] = lin.bias[perm[p]!]!;
    }
    out[i] = { ...st, weights, bias };
    const gather = (v: Float64Array) => Float64Array.from(perm, (r) => v[r]!);
    for (let k = i + 1; k < j; k++) {
      const e = out[k] as PermutableStage;
      if (e.kind === 'poly' || e.kind === 'chebyshev') out[k] = { ...out[k]!, coeffs: (e as { coeffs: Float64Array[] }).coeffs.map(gather) };
      else if (e.kind === 'square') out[k] = { ...out[k]!, shift: gather((e as { shift: Float64Array }).shift) };
    }
    const next = out[j] as Extract<PermutableStage, { kind: 'linear' }>;
    const cols = new Float64Array(next.weights.length);
    for (let r = 0; r < next.outputSize; r++) for (let p = 0; p < rows; p++) cols[r * rows + p] = next.weights[r * rows + perm[p]!]!;
    out[j] = { ...out[j]!, weights: cols };
  }
  return out;
}

function diagonals(lin: { weights: Float64Array; inputSize: number; outputSize: number }, n: number, position: (r: number) => number): number {
  const used = new Set<number>();
  for (let r = 0; r < lin.outputSize; r++) {
    const p = position(r);
    for (let c = 0; c < lin.inputSize; c++) if (lin.weights[r * lin.inputSize + c] !== 0) used.add((((c - p) % n) + n) % n);
  }
  return used.size;
}

function placeRows(lin: { weights: Float64Array; inputSize: number; outputSize: number }, n: number): number[] | undefined {
  const rows = lin.outputSize;
  const nonzero = Array.from({ length: rows }, (_, r) => {
    const cols: number[] = [];
    for (let c = 0; c < lin.inputSize; c++) if (lin.weights[r * lin.inputSize + c] !== 0) cols.push(c);
    return cols;
  });
  // No order can use fewer diagonals than the fullest row has taps: dense layers are left alone, as are layers where
  // the placement would cost more than ~5·10^7 steps.
  const before = diagonals(lin, n, (r) => r);
  const widest = Math.max(...nonzero.map((c) => c.length));
  const taps = nonzero.reduce((a, c) => a + c.length, 0);
  if (before <= widest || taps * rows > 5e7) return undefined;
  const order = [...nonzero.keys()].sort((a, b) => nonzero[b]!.length - nonzero[a]!.length || a - b);
  const used = new Set<number>();
  const free = new Set<number>(Array.from({ length: rows }, (_, p) => p));
  const at = new Array<number>(rows);
  for (const r of order) {
    let best = -1;
    let bestCost = Infinity;
    for (const p of free) {
      let cost = 0;
      for (const c of nonzero[r]!) if (!used.has((((c - p) % n) + n) % n)) cost++;
      if (cost < bestCost) {
        bestCost = cost;
        best = p;
        if (cost === 0) break;
      }
    }
    free.delete(best);
    at[r] = best;
    for (const c of nonzero[r]!) used.add((((c - best) % n) + n) % n);
  }
  if (used.size >= before) return undefined;
  const perm = new Array<number>(rows);
  at.forEach((p, r) => (perm[p] = r));
  return perm;
}
