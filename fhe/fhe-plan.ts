import type { CkksParameters } from './ckks-parameters';

export type FhePostprocess = 'none' | 'sigmoid' | 'softmax' | 'argmax';

/**
 * Slot layout "replicated blocks" (the only layout so far).
 *
 * The N/2 slots are cut into `batchCapacity` blocks of `blockSize` slots (a power of two); sample s owns block s.
 * Inside its block a sample's features are written *periodically*: slot j of the block holds x[j mod inputPeriod],
 * where inputPeriod = inputSize rounded up to a power of two (the gap is zero). The whole block is filled.
 * Because every block holds the same pattern, a global rotation by k < blockSize − (valid span) reads, in each
 * block, x[(j + k) mod period]: the rotation acts cyclically on each sample without leaking neighbours into the
 * slots we keep. Outputs are read from slots [0, outputSize) of each block.
 */
export type FheBlocksLayout = {
  kind: 'replicated-blocks';
  blockSize: number;
  inputPeriod: number;
  /** Valid output slots per block (= outputSize). */
  outputOffset: 0;
  /**
   * Blocks per sample (1 unless compiled with expandInput): sample s owns blocks [s·inputCopies, (s+1)·inputCopies);
   * copy j holds the periodic pattern shifted left by j (slot p = x[(p + j) mod inputPeriod]); outputs are read from
   * the sample's first block.
   */
  inputCopies: number;
};

/**
 * Slot layout "feature-major" (throughput; CryptoNets-style): ciphertext f holds feature f of up to N/2 samples,
 * sample s in slot s. Dense layers are sums of ciphertext × constant products, so no rotation (and no Galois key)
 * is needed; inputCiphertexts = inputSize, outputCiphertexts = outputSize, batchCapacity = N/2.
 */
export type FheFeatureMajorLayout = { kind: 'feature-major' };

/**
 * Slot layout "table-rows" (similarity search, compile-similarity-table.ts): one query per group; the client fills
 * all N/2 slots with the query repeated every `inputPeriod` slots (dims rounded up to a power of two, zero gap). The
 * server returns ceil(rows / rowsPerCiphertext) ciphertexts; slot j of ciphertext c is the score of row
 * c·rowsPerCiphertext + j (rowsPerCiphertext = N/2).
 */
export type FheTableRowsLayout = { kind: 'table-rows'; inputPeriod: number; rowsPerCiphertext: number };

export type FheLayout = FheBlocksLayout | FheFeatureMajorLayout | FheTableRowsLayout;
export type FheLayoutKind = FheLayout['kind'];

export type FheLayerStats = { name: string; op: string; rotations: number; minRotations: number; plainMultiplies: number; levels: number };

export type FheModelSpec = {
  version: 1;
  params: CkksParameters;
  inputSize: number;
  outputSize: number;
  batchCapacity: number;
  inputCiphertexts: number;
  /** Ciphertexts the server returns per batch group (1 for replicated blocks, outputSize for feature-major). */
  outputCiphertexts: number;
  galoisSteps: number[];
  needsRelinKeys: boolean;
  postprocess: FhePostprocess;
  layout: FheLayout;
  stats: {
    depth: number;
    rotations: number;
    minRotations: number;
    plainMultiplies: number;
    ciphertextMultiplies: number;
    layers: FheLayerStats[];
    /** Serialized sizes (bytes) of the seeded evaluation keys the client uploads for exactly `galoisSteps` (+ relin). */
    keyBytes?: number;
  };
};

/**
 * y = W·x + b by the diagonal method with baby-step giant-step (see compile-onnx.ts for the formulas).
 * `groups[g].terms[b].values` is diagonal k = g·baby + b of the block-level matrix, pre-rotated by −g·baby
 * (one block's worth, `blockSize` values; the evaluator tiles it over all blocks).
 */
export type FheLinearOp = {
  kind: 'linear';
  name: string;
  op: string;
  /** Rotations of the input shared by all giant steps (1 … baby−1 that some nonzero diagonal uses). */
  babySteps: number[];
  groups: { giantStep: number; terms: { babyStep: number; values: Float64Array }[] }[];
  /** Rotate-and-sum steps after the diagonals (wide layers: rows folded onto the output span). */
  sumSteps: number[];
  bias: Float64Array | null;
  /** false only for the plan's last multiply: its product stays at scale 2^scaleBits · 2^plainScaleBits. */
  rescale: boolean;
  plainScaleBits: number;
};

/** Feature-major dense layer: out_i = Σ_f W[i][f]·x_f + b_i with ciphertext × constant products. W row-major m × n. */
export type FheDenseOp = { kind: 'dense'; name: string; op: string; inputSize: number; outputSize: number; weights: Float64Array; bias: Float64Array };

/** y = (x + shift)² (a degree-2 activation whose leading coefficient and offset were folded into the next linear op). */
export type FheSquareOp = { kind: 'square'; name: string; op: string; shift: Float64Array | null };

/** y = Σ_k coeffs[k] ⊙ x^k, degree 1–3, per-slot coefficients (null = all zero). */
export type FhePolyOp = { kind: 'poly'; name: string; op: string; coeffs: (Float64Array | null)[] };

/**
 * y = Σ_k coeffs[k] ⊙ T_k(x), a calibrated approximation of a non-polynomial activation (Relu, Sigmoid, GELU…) in
 * the Chebyshev basis; x was already mapped onto [-1, 1] by the preceding linear op. Evaluated as described in
 * chebyshev-schedule.ts (depth ⌈log2 d⌉ + 1). `coeffs[k]` null = all zero.
 */
export type FheChebyshevOp = { kind: 'chebyshev'; name: string; op: string; coeffs: (Float64Array | null)[] };

/*
 * Vectors in square/poly/chebyshev ops are per-slot block patterns (length blockSize) in the replicated-blocks layout and
 * per-feature constants (length = feature count, one per ciphertext) in the feature-major layout.
 */
/**
 * scores = T·q for a server-held table T (rows × dims, row-major, zero-padded to `period` columns): the only op of a
 * table-rows plan. Evaluated by create-table-evaluator.ts (diagonals of each N/2-row chunk against shared rotations).
 */
export type FheTableScoresOp = { kind: 'table-scores'; name: string; op: 'SimilarityTable'; rows: number; period: number; table: Float64Array; plainScaleBits: number };

export type FheOp = FheLinearOp | FheDenseOp | FheSquareOp | FhePolyOp | FheChebyshevOp | FheTableScoresOp;

/**
 * How one non-polynomial activation was approximated (compile-time facts, kept out of the spec clients receive).
 * Ranges are of the activation's input (the dense layer's output); errors are over the calibration histogram.
 */
export type FheActivationApproximation = {
  name: string;
  op: string;
  observed: [number, number];
  fitted: [number, number];
  degree: number;
  levels: number;
  /** max / count-weighted mean |f − p| over the occupied calibration bins. */
  maxError: number;
  meanError: number;
  /** The error the degree was chosen against (tolerance × output span on the observed range). */
  target: number;
  /** coeffs[k][feature]: the fitted Chebyshev series in t = (2u − lo − hi)/(hi − lo), u the activation's input. */
  coeffs: Float64Array[];
};

/** What the workers evaluate. Plain data only (structured-clonable), so it can travel in `workerData`. */
export type FhePlan = { spec: FheModelSpec; ops: FheOp[]; approximations?: FheActivationApproximation[] };
