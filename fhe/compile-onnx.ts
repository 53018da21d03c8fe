import { approximateActivations } from './approximate-activations';
import type { ChebyshevStage } from './approximate-activations';
import type { FheCalibration } from './calibrate-activations';
import { chebyshevDepth } from './chebyshev-schedule';
import { selectCkksParameters } from './ckks-parameters';
import { FheCompileError } from './errors';
import type { FheActivationApproximation, FheLayerStats, FheLayoutKind, FheLinearOp, FheModelSpec, FheOp, FhePlan } from './fhe-plan';
import { permuteLinearOutputs } from './permute-linear-outputs';
import { traceOnnxBytes } from './trace-onnx-bytes';
import type { ActivationStage, LinearStage, PolyStage } from './trace-onnx-model';

export type CompileOnnxOptions = {
  name?: string;
  /**
   * 'replicated-blocks' (default): one ciphertext per group of samples, BSGS rotations — lowest single-sample latency.
   * 'feature-major': one ciphertext per feature over N/2 samples, no rotations — highest batch throughput.
   */
  layout?: FheLayoutKind;
  /**
   * replicated-blocks only: the client also sends the first dense layer's input shifts, as D copies of each sample's
   * block (copy j shifted by j), so that layer costs one ct×pt product and log2(n) rotations one level down, with no
   * rotation at the top level. Fewer samples per ciphertext (÷D); the lowest single-sample latency. Ignored when the
   * model does not start with a dense layer or D·blockSize exceeds N/2.
   */
  expandInput?: boolean;
  /**
   * Measured input ranges of the model's non-polynomial activations (Relu, Sigmoid, Tanh, GELU…), from
   * `calibrateActivations` or a stored `<model>.calibration.json` (`parseCalibration`). Required when the model has any.
   */
  calibration?: FheCalibration;
  /**
   * Multiplicative depth the activation approximations may bring the plan to (default 11, what N=16384 holds at a
   * 2^30 scale: keys stay in the hundreds of MB). Degrees are lowered until the plan fits.
   */
  maxDepth?: number;
  /** Accuracy target per activation: max error ≤ tolerance × its output span on the observed range (default 0.02). */
  activationTolerance?: number;
};

/** Default depth budget for calibrated activations (see CompileOnnxOptions.maxDepth). */
export const DEFAULT_MAX_DEPTH = 11;

type SquareStage = { kind: 'square'; name: string; op: string; shift: Float64Array; size: number };
type PlanStage = LinearStage | PolyStage | SquareStage | ChebyshevStage;

/* Geometry of one dense layer in the replicated-blocks layout (see the comment on `layoutLinear`). */
type LinearGeometry = {
  n: number; m: number; span: number; diagonals: number; rows: number; baby: number; giant: number; sumSteps: number[]; extent: number; expanded?: boolean;
  /** Rotations of the best baby/giant split over the nonzero diagonals (sparse layers such as convolutions need few). */
  rotations?: number;
};

/**
 * Compiles an ONNX model (opset 13–17) into a CKKS evaluation plan: traced stages → folded activations →
 * slot layout → BSGS diagonals → parameters chosen from the depth.
 *
 * @throws {FheCompileError} for anything the plan cannot evaluate (the message names node, op and reason).
 * @example
 * const plan = compileOnnx(fs.readFileSync('models/breast-cancer-lr.onnx'));
 * plan.spec.params.polyModulusDegree; // 4096
 */
export function compileOnnx(bytes: Uint8Array, options: CompileOnnxOptions = {}): FhePlan {
  const layoutKind = options.layout ?? 'replicated-blocks';
  if (layoutKind !== 'replicated-blocks' && layoutKind !== 'feature-major') throw new FheCompileError(`unknown layout "${String(layoutKind)}"`);
  const traced = traceOnnxBytes(bytes);
  const folded = foldSquares(traced.stages);
  const stageLevels = (st: PlanStage | ActivationStage) =>
    st.kind === 'activation' ? 0 : st.kind === 'chebyshev' ? chebyshevDepth(st.coeffs.length - 1) : st.kind === 'poly' && st.coeffs.length - 1 >= 2 ? 2 : 1;
  let approximations: FheActivationApproximation[] | undefined;
  let stages: PlanStage[];
  if (folded.some((st) => st.kind === 'activation')) {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    const otherDepth = folded.reduce((a, st) => a + stageLevels(st), 0);
    const approximated = approximateActivations(folded, options.calibration, { maxDepth, otherDepth, tolerance: options.activationTolerance });
    stages = approximated.stages as PlanStage[];
    approximations = approximated.approximations;
  } else stages = folded as PlanStage[];
  const lastStage = stages[stages.length - 1]!;
  const outputSize = lastStage.kind === 'linear' ? lastStage.outputSize : lastStage.size;

  // Depth: dense layer 1, (x+β)² 1, general polynomials: degree 1 → 1, degree 2–3 → 2; Chebyshev series ⌈log2 d⌉ + 1.
  const levels = stages.map(stageLevels);
  const depth = levels.reduce((a, b) => a + b, 0);
  // Every multiply is rescaled: weights then meet their ciphertext at a ≈2^30 plaintext scale. (Leaving the last
  // product unrescaled saves a prime but leaves 20 bits for the last layer's weights, which measured > 1e-3 error
  // for raw-feature models such as the breast-cancer LR, whose weights span 0.003–84.)
  const params = selectCkksParameters({ depth, lastUnrescaled: false });
  const slotCount = params.polyModulusDegree / 2;
  const ckks = { polyModulusDegree: params.polyModulusDegree, coeffModulusBits: params.coeffModulusBits, scaleBits: params.scaleBits };
  if (layoutKind === 'feature-major') {
    const plan = compileFeatureMajor(stages, levels, { ckks, slotCount, depth, inputSize: traced.inputSize, outputSize, postprocess: traced.postprocess });
    return approximations ? { ...plan, approximations } : plan;
  }

  // Free reorderings of hidden features that cut a sparse layer's diagonals (strided convolutions).
  stages = permuteLinearOutputs(stages, pow2);
  const inputPeriod = pow2(traced.inputSize);
  // Backward pass: the span of valid, periodic slots each stage must leave behind for the next one.
  const geometry = new Map<number, LinearGeometry>();
  let need = outputSize;
  let extent = need;
  for (let i = stages.length - 1; i >= 0; i--) {
    const st = stages[i]!;
    if (st.kind !== 'linear') continue;
    let geo = layoutLinear(pow2(st.inputSize), pow2(st.outputSize), need, weightAt(st));
    if (i === 0 && options.expandInput) {
      const expanded = layoutExpandedLinear(pow2(st.inputSize), pow2(st.outputSize), need, Math.max(extent, inputPeriod));
      if (expanded.diagonals * pow2(Math.max(expanded.extent, extent, inputPeriod)) <= slotCount) geo = expanded;
    }
    geometry.set(i, geo);
    extent = Math.max(extent, geo.extent);
    need = geo.extent;
  }
  const blockSize = pow2(Math.max(need, extent, inputPeriod));
  if (blockSize > slotCount) {
    throw new FheCompileError(`the layout needs ${blockSize} slots per sample but N=${params.polyModulusDegree} has ${slotCount}; the layers are too wide`);
  }
  const first = geometry.get(0);
  const inputCopies = first?.expanded ? first.diagonals : 1;

  const ops: FheOp[] = [];
  const layers: FheLayerStats[] = [];
  const steps = new Set<number>();
  let plainMultiplies = 0;
  let ciphertextMultiplies = 0;
  stages.forEach((st, i) => {
    if (st.kind === 'linear') {
      const geo = geometry.get(i)!;
      const op = geo.expanded ? buildExpandedLinearOp(st, geo, blockSize) : buildLinearOp(st, geo, blockSize, i === stages.length - 1 ? params.lastPlainScaleBits : 0);
      ops.push(op);
      const mults = op.groups.reduce((a, g) => a + g.terms.length, 0);
      const giantRotations = op.groups.filter((g) => g.giantStep !== 0).length;
      const rotations = op.babySteps.length + giantRotations + op.sumSteps.length;
      for (const s of [...op.babySteps, ...op.groups.map((g) => g.giantStep).filter((s) => s !== 0), ...op.sumSteps]) steps.add(s);
      plainMultiplies += mults;
      layers.push({ name: st.name, op: st.op, rotations, minRotations: minRotations(geo), plainMultiplies: mults, levels: 1 });
    } else if (st.kind === 'chebyshev') {
      const degree = st.coeffs.length - 1;
      const coeffs = st.coeffs.map((c) => {
        const v = tile(c, pow2(st.size), blockSize, blockSize);
        return v.some((x) => x !== 0) ? v : null;
      });
      ops.push({ kind: 'chebyshev', name: st.name, op: st.op, coeffs });
      const mults = coeffs.slice(1).filter((c) => c).length + (degree - 1);
      plainMultiplies += mults;
      ciphertextMultiplies += degree - 1;
      layers.push({ name: st.name, op: `Cheb${degree}(${st.op})`, rotations: 0, minRotations: 0, plainMultiplies: mults, levels: levels[i]! });
    } else if (st.kind === 'square') {
      const shift = tile(st.shift, pow2(st.size), blockSize, blockSize);
      ops.push({ kind: 'square', name: st.name, op: 'Square', shift: shift.some((v) => v !== 0) ? shift : null });
      ciphertextMultiplies += 1;
      layers.push({ name: st.name, op: 'Square', rotations: 0, minRotations: 0, plainMultiplies: 0, levels: 1 });
    } else {
      const degree = st.coeffs.length - 1;
      const coeffs = st.coeffs.map((c) => {
        const v = tile(c, pow2(st.size), blockSize, blockSize);
        return v.some((x) => x !== 0) ? v : null;
      });
      if (degree >= 1 && !coeffs[degree]) throw new FheCompileError('a polynomial activation has an all-zero leading coefficient', st.name, st.op);
      ops.push({ kind: 'poly', name: st.name, op: st.op, coeffs });
      const mults = coeffs.slice(1).filter((c) => c).length;
      plainMultiplies += mults;
      ciphertextMultiplies += degree === 3 ? 2 : degree === 2 ? 1 : 0;
      layers.push({ name: st.name, op: `Poly${degree}`, rotations: 0, minRotations: 0, plainMultiplies: mults, levels: levels[i]! });
    }
  });

  const spec: FheModelSpec = {
    version: 1,
    params: ckks,
    inputSize: traced.inputSize,
    outputSize,
    batchCapacity: slotCount / (blockSize * inputCopies),
    inputCiphertexts: 1,
    outputCiphertexts: 1,
    galoisSteps: [...steps].sort((a, b) => a - b),
    needsRelinKeys: ciphertextMultiplies > 0,
    postprocess: traced.postprocess,
    layout: { kind: 'replicated-blocks', blockSize, inputPeriod, outputOffset: 0, inputCopies },
    stats: {
      depth,
      rotations: layers.reduce((a, l) => a + l.rotations, 0),
      minRotations: layers.reduce((a, l) => a + l.minRotations, 0),
      plainMultiplies,
      ciphertextMultiplies,
      layers,
      keyBytes: estimateKeyBytes(ckks, steps.size, ciphertextMultiplies > 0),
    },
  };
  return approximations ? { spec, ops, approximations } : { spec, ops };
}

/**
 * Seeded serialized size of the evaluation keys: each key-switching key holds one ciphertext per data prime k, each
 * with one full polynomial over k + 1 primes (the other is a seed): k·(k+1)·N·8 bytes per Galois step or relin key,
 * plus ~3.5 % framing (measured: 203,561 bytes per step at N=4096, k=2). Exact sizes: `measureBarePlan`.
 */
export function estimateKeyBytes(params: FhePlan['spec']['params'], galoisSteps: number, relin: boolean): number {
  const k = params.coeffModulusBits.length - 1;
  return Math.round((galoisSteps + (relin ? 1 : 0)) * k * (k + 1) * params.polyModulusDegree * 8 * 1.035);
}

type FeatureMajorContext = {
  ckks: FhePlan['spec']['params'];
  slotCount: number;
  depth: number;
  inputSize: number;
  outputSize: number;
  postprocess: FhePlan['spec']['postprocess'];
};

/**
 * Feature-major plan (CryptoNets-style batching): ciphertext f carries feature f for N/2 samples, so a dense layer
 * is m·n ciphertext × constant products and no rotation; activations act on each feature's ciphertext with that
 * feature's constants. Minimum rotations for this layout: 0.
 */
function compileFeatureMajor(stages: PlanStage[], levels: number[], c: FeatureMajorContext): FhePlan {
  const ops: FheOp[] = [];
  const layers: FheLayerStats[] = [];
  let plainMultiplies = 0;
  let ciphertextMultiplies = 0;
  stages.forEach((st, i) => {
    if (st.kind === 'linear') {
      const mults = st.weights.reduce((a, w) => a + (w !== 0 ? 1 : 0), 0);
      ops.push({ kind: 'dense', name: st.name, op: st.op, inputSize: st.inputSize, outputSize: st.outputSize, weights: st.weights, bias: st.bias });
      plainMultiplies += mults;
      layers.push({ name: st.name, op: st.op, rotations: 0, minRotations: 0, plainMultiplies: mults, levels: 1 });
    } else if (st.kind === 'chebyshev') {
      const degree = st.coeffs.length - 1;
      const coeffs = st.coeffs.map((v) => (v.some((x) => x !== 0) ? Float64Array.from(v) : null));
      ops.push({ kind: 'chebyshev', name: st.name, op: st.op, coeffs });
      const mults = (coeffs.slice(1).filter((v) => v).length + degree - 1) * st.size;
      plainMultiplies += mults;
      ciphertextMultiplies += (degree - 1) * st.size;
      layers.push({ name: st.name, op: `Cheb${degree}(${st.op})`, rotations: 0, minRotations: 0, plainMultiplies: mults, levels: levels[i]! });
    } else if (st.kind === 'square') {
      ops.push({ kind: 'square', name: st.name, op: 'Square', shift: st.shift.some((v) => v !== 0) ? Float64Array.from(st.shift) : null });
      ciphertextMultiplies += st.size;
      layers.push({ name: st.name, op: 'Square', rotations: 0, minRotations: 0, plainMultiplies: 0, levels: 1 });
    } else {
      const degree = st.coeffs.length - 1;
      const coeffs = st.coeffs.map((v) => (v.some((x) => x !== 0) ? Float64Array.from(v) : null));
      if (degree >= 1 && !coeffs[degree]) throw new FheCompileError('a polynomial activation has an all-zero leading coefficient', st.name, st.op);
      ops.push({ kind: 'poly', name: st.name, op: st.op, coeffs });
      const mults = coeffs.slice(1).filter((v) => v).length * st.size;
      plainMultiplies += mults;
      ciphertextMultiplies += (degree === 3 ? 2 : degree === 2 ? 1 : 0) * st.size;
      layers.push({ name: st.name, op: `Poly${degree}`, rotations: 0, minRotations: 0, plainMultiplies: mults, levels: levels[i]! });
    }
  });
  const spec: FheModelSpec = {
    version: 1,
    params: c.ckks,
    inputSize: c.inputSize,
    outputSize: c.outputSize,
    batchCapacity: c.slotCount,
    inputCiphertexts: c.inputSize,
    outputCiphertexts: c.outputSize,
    galoisSteps: [],
    needsRelinKeys: ciphertextMultiplies > 0,
    postprocess: c.postprocess,
    layout: { kind: 'feature-major' },
    stats: {
      depth: c.depth,
      rotations: 0,
      minRotations: 0,
      plainMultiplies,
      ciphertextMultiplies,
      layers,
      keyBytes: estimateKeyBytes(c.ckks, 0, ciphertextMultiplies > 0),
    },
  };
  return { spec, ops };
}


export function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Geometry of y = W·x (W: m × n, both padded to powers of two) when x is periodic with period n in its block and y
 * must come out valid — periodic with period m — on the first `need` slots (what the next stage reads).
 *
 * Generalised diagonals d_k[j] = W[j mod m][(j + k) mod n] for j < rows, and z = Σ_{k<D} d_k ⊙ rot_k(x), so
 * z[j] = Σ_{k<D} W[j mod m][(j+k) mod n]·x[(j+k) mod n]:
 * - tall (D = n): z[j] = y[j mod m] for every j < rows = need: the output comes out already replicated (row j of the
 *   extended matrix is row j mod m of W), so the next layer needs no replication rotations.
 * - wide (m ≤ D < n, Gazelle-style hybrid): rotate-and-sum with steps n/2, n/4, …, D gives
 *   y[i] = Σ_{t<n/D} z[i + t·D] (m | D, and t·D + k runs over every column once), valid for i < rows − n + D;
 *   so rows = need + n − D. Only D plaintext multiplies instead of n.
 * BSGS with D = baby·giant: z = Σ_g rot_{g·baby}( Σ_b rot_{−g·baby}(d_{g·baby+b}) ⊙ rot_b(x) ). The pre-rotated
 * diagonal is nonzero on [g·baby, g·baby + rows) and rot_b(x) is read up to index D + rows − 2, so the block must
 * hold `extent` = D + rows − 1 valid slots of x: no rotation ever reads a neighbouring sample's block, and the
 * giant-step shifts cost nothing at run time (they are folded into the diagonals at compile time).
 * Rotations: (baby − 1) + (giant − 1) + log2(n/D); for D = 2^k the best split gives 2^⌈k/2⌉ + 2^⌊k/2⌋ − 2.
 * Plaintext multiplies: D. We pick D among m, 2m, …, n minimising rotations·6 + multiplies (a rotation costs about
 * six ct×pt products in node-seal), then the smaller extent.
 * Sparse matrices (a convolution or pool lowered to a dense map, see trace-onnx-model.ts) have few nonzero diagonals
 * K: only those are multiplied, and the split is chosen over K — rotations |{k mod baby} ∖ {0}| + |{⌊k/baby⌋} ∖ {0}|
 * (a 3×3 convolution on an 8×8 image has 9 diagonals per input channel, and 4 rotations instead of 14).
 */
function layoutLinear(n: number, m: number, need: number, w: (i: number, c: number) => number): LinearGeometry {
  let best: LinearGeometry | undefined;
  const cost = (g: LinearGeometry & { nonzero: number }) => (g.rotations! + g.sumSteps.length) * 6 + g.nonzero;
  let bestCost = Infinity;
  for (let d = Math.min(m, n); d <= n; d *= 2) {
    const rows = d === n ? Math.max(need, 1) : need + n - d;
    const nonzero: number[] = [];
    for (let k = 0; k < d; k++) {
      for (let j = 0; j < rows; j++) {
        if (w(j % m, (j + k) % n) !== 0) {
          nonzero.push(k);
          break;
        }
      }
    }
    if (nonzero.length === 0) nonzero.push(0);
    // Largest baby first, so a dense matrix keeps the balanced split 2^⌈k/2⌉ · 2^⌊k/2⌋.
    let split = { baby: d, rotations: Infinity };
    for (let b = d; b >= 1; b /= 2) {
      const r = new Set(nonzero.map((k) => k % b).filter((x) => x !== 0)).size + new Set(nonzero.map((k) => Math.floor(k / b)).filter((x) => x !== 0)).size;
      if (r < split.rotations) split = { baby: b, rotations: r };
    }
    const sumSteps: number[] = [];
    for (let h = n / 2; h >= d; h /= 2) sumSteps.push(h);
    const geo = { n, m, span: need, diagonals: d, rows, baby: split.baby, giant: d / split.baby, sumSteps, extent: d + rows - 1, rotations: split.rotations, nonzero: nonzero.length };
    const c = cost(geo);
    if (!best || c < bestCost || (c === bestCost && geo.extent < best.extent)) {
      const { nonzero: _nonzero, ...kept } = geo;
      best = kept;
      bestCost = c;
    }
  }
  return best!;
}

/**
 * First layer with client-expanded input (see CompileOnnxOptions.expandInput): copy j of the sample's block holds x
 * shifted by j, so z = Σ_j d_j ⊙ shift_j(x) needs no rotation of x at all: one product with the D diagonals laid
 * side by side (copy j ⊙ d_j), one rescale, then rotate-and-sum over the copies (steps D/2·B … B) and over the
 * hybrid fold (n/2 … D): log2(D) + log2(n/D) = log2(n) rotations, all one level down. Within a copy only `rows`
 * slots are read, so extent = rows. D is chosen to minimise D·blockSize (samples per ciphertext).
 */
function layoutExpandedLinear(n: number, m: number, need: number, restExtent: number): LinearGeometry {
  let best: LinearGeometry | undefined;
  const footprint = (g: LinearGeometry) => g.diagonals * pow2(Math.max(g.extent, restExtent));
  for (let d = Math.min(m, n); d <= n; d *= 2) {
    const rows = d === n ? Math.max(need, 1) : need + n - d;
    const sumSteps: number[] = [];
    for (let h = n / 2; h >= d; h /= 2) sumSteps.push(h);
    const geo: LinearGeometry = { n, m, span: need, diagonals: d, rows, baby: 1, giant: 1, sumSteps, extent: rows, expanded: true };
    if (!best || footprint(geo) < footprint(best)) best = geo;
  }
  return best!;
}

/** Weight (output row i, input column c) of a dense stage, 0 outside the real matrix (the padding of the layout). */
function weightAt(st: LinearStage): (i: number, c: number) => number {
  return (i, c) => (i < st.outputSize && c < st.inputSize ? st.weights[i * st.inputSize + c]! : 0);
}

/** The bias over one block: output j of the layout's span is row j mod m, zero in the padding rows. */
function blockBias(st: LinearStage, geo: LinearGeometry, blockSize: number): Float64Array {
  const bias = new Float64Array(blockSize);
  for (let j = 0; j < geo.span; j++) bias[j] = j % geo.m < st.outputSize ? st.bias[j % geo.m]! : 0;
  return bias;
}

function buildExpandedLinearOp(st: LinearStage, geo: LinearGeometry, blockSize: number): FheLinearOp {
  const { n, m, rows, diagonals: d } = geo;
  const w = weightAt(st);
  const values = new Float64Array(d * blockSize);
  for (let j = 0; j < d; j++) for (let p = 0; p < rows; p++) values[j * blockSize + p] = w(p % m, (p + j) % n);
  const copySteps: number[] = [];
  for (let h = (d / 2) * blockSize; h >= blockSize; h /= 2) copySteps.push(h);
  const bias = blockBias(st, geo, blockSize);
  return {
    kind: 'linear',
    name: st.name,
    op: st.op,
    babySteps: [],
    groups: [{ giantStep: 0, terms: [{ babyStep: 0, values }] }],
    sumSteps: [...copySteps, ...geo.sumSteps],
    bias: bias.some((v) => v !== 0) ? bias : null,
    rescale: true,
    plainScaleBits: 0,
  };
}

function minRotations(geo: LinearGeometry): number {
  if (geo.expanded) return Math.log2(geo.n);
  return geo.rotations! + geo.sumSteps.length;
}

function buildLinearOp(st: LinearStage, geo: LinearGeometry, blockSize: number, plainScaleBits: number): FheLinearOp {
  const { n, m, rows, baby, giant } = geo;
  const w = weightAt(st);
  const groups: { giantStep: number; terms: { babyStep: number; values: Float64Array }[] }[] = [];
  const babyUsed = new Set<number>();
  for (let g = 0; g < giant; g++) {
    const terms: { babyStep: number; values: Float64Array }[] = [];
    for (let b = 0; b < baby; b++) {
      const k = g * baby + b;
      const values = new Float64Array(blockSize);
      let nonzero = false;
      for (let j = 0; j < rows; j++) {
        const v = w(j % m, (j + k) % n);
        values[j + g * baby] = v; // pre-rotated by −g·baby (no wrap: g·baby + rows ≤ extent ≤ blockSize)
        if (v !== 0) nonzero = true;
      }
      if (nonzero) {
        terms.push({ babyStep: b, values });
        if (b !== 0) babyUsed.add(b);
      }
    }
    if (terms.length > 0) groups.push({ giantStep: g * baby, terms });
  }
  if (groups.length === 0) throw new FheCompileError('the weight matrix is all zeros', st.name, st.op);
  const bias = blockBias(st, geo, blockSize);
  return {
    kind: 'linear',
    name: st.name,
    op: st.op,
    babySteps: [...babyUsed].sort((a, b) => a - b),
    groups,
    sumSteps: geo.sumSteps,
    bias: bias.some((v) => v !== 0) ? bias : null,
    rescale: plainScaleBits === 0,
    plainScaleBits,
  };
}

/** Repeats a per-feature vector (zero-padded to `period`) over `span` slots of a block of `blockSize`. */
function tile(values: Float64Array, period: number, span: number, blockSize: number): Float64Array {
  const out = new Float64Array(blockSize);
  for (let j = 0; j < span; j++) out[j] = j % period < values.length ? values[j % period]! : 0;
  return out;
}

/**
 * a·x² + b·x + c = a·(x + b/2a)² + (c − b²/4a). When a dense layer follows and no a_i is zero, a and the constant fold
 * into that layer (W·diag(a), W·γ + bias), so the activation costs one ct×ct multiply and one level instead of two.
 */
function foldSquares(stages: (LinearStage | PolyStage | ActivationStage)[]): (PlanStage | ActivationStage)[] {
  const out: (PlanStage | ActivationStage)[] = [];
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    const next = stages[i + 1];
    if (st.kind === 'poly' && st.coeffs.length === 3 && next?.kind === 'linear' && st.coeffs[2]!.every((a) => a !== 0)) {
      const [c0, c1, c2] = st.coeffs as [Float64Array, Float64Array, Float64Array];
      const shift = c1.map((b, j) => b / (2 * c2[j]!));
      const gamma = c0.map((c, j) => c - (c1[j]! * c1[j]!) / (4 * c2[j]!));
      const n = next.inputSize;
      const weights = new Float64Array(next.weights.length);
      const bias = Float64Array.from(next.bias);
      for (let r = 0; r < next.outputSize; r++) for (let j = 0; j < n; j++) {
        weights[r * n + j] = next.weights[r * n + j]! * c2[j]!;
        bias[r]! += next.weights[r * n + j]! * gamma[j]!;
      }
      out.push({ kind: 'square', name: st.name, op: 'Square', shift, size: st.size });
      stages[i + 1] = { ...next, weights, bias };
      continue;
    }
    out.push(st);
  }
  return out;
}
