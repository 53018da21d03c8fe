import { selectCkksParameters } from './ckks-parameters';
import { estimateKeyBytes, pow2 } from './compile-onnx';
import { FheCompileError } from './errors';
import type { FhePlan } from './fhe-plan';

export type SimilarityTable = {
  /** Row-major values, rows × dims. */
  values: ArrayLike<number>;
  rows: number;
  dims: number;
};

export type CompileSimilarityTableOptions = {
  name?: string;
  /** Scale every row to unit length first, so scores are cosine similarities (a zero row is refused). */
  normalize?: boolean;
};

/**
 * Compiles a server-held embedding table into a `table-rows` plan: scores = T·q, one score per row, top-k decided by
 * the client after decryption (the server sees neither the query, the scores nor the result).
 *
 * Packing (diagonal method over N/2-row chunks, shared input rotations). The client repeats q every p = pow2(dims)
 * slots over all S = N/2 slots. For chunk c (rows cS … cS+S−1) and k in 0 … p−1,
 *   diag_{c,k}[j] = T[cS + j][(j + k) mod p]   ⇒   scores_c = Σ_k diag_{c,k} ⊙ rot(q, k)
 * because rot(q, k)[j] = q[(j + k) mod p] (p divides S, so the wrap of the global rotation keeps the period).
 * The p − 1 rotations of q are computed once (each by 1 from the previous: one Galois key) and shared by every
 * chunk, so a query costs p − 1 rotations and ⌈rows/S⌉·p products, whatever the table size, and returns
 * ⌈rows/S⌉ fully packed ciphertexts. The alternative — q replicated, one product per (S/p)-row chunk, then
 * rotate-and-sum inside p-slot blocks — needs as many products but log2(p) rotations *per chunk* and p times as
 * many result ciphertexts (one score per p slots), so it loses at every size beyond one chunk.
 *
 * Depth 1 (one unrescaled ct×pt: q0 = 60 bits, special prime 60) — selectCkksParameters gives N=8192, S=4096 rows per
 * ciphertext.
 * @throws {FheCompileError} `model_unsupported` for an empty or malformed table, a non-finite value, or a zero row
 * under `normalize`.
 */
export function compileSimilarityTable(table: SimilarityTable, options: CompileSimilarityTableOptions = {}): FhePlan {
  const { rows, dims, values } = table;
  const name = options.name ?? 'similarity-table';
  if (!Number.isInteger(rows) || rows < 1) throw new FheCompileError(`the table needs at least one row (got ${rows})`);
  if (!Number.isInteger(dims) || dims < 1) throw new FheCompileError(`the table needs at least one dimension (got ${dims})`);
  if (values.length !== rows * dims) throw new FheCompileError(`the table has ${values.length} values; ${rows} rows × ${dims} dims need ${rows * dims}`);
  const ckks = selectCkksParameters({ depth: 1, lastUnrescaled: true });
  const slots = ckks.polyModulusDegree / 2;
  const period = pow2(dims);
  if (period > slots) throw new FheCompileError(`${dims} dimensions exceed the ${slots} slots of a ciphertext`);
  const padded = new Float64Array(rows * period);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let j = 0; j < dims; j++) {
      const v = Number(values[r * dims + j]);
      if (!Number.isFinite(v)) throw new FheCompileError(`row ${r} dimension ${j} is not a finite number`);
      padded[r * period + j] = v;
      norm += v * v;
    }
    if (options.normalize) {
      if (norm === 0) throw new FheCompileError(`row ${r} is all zeros and has no direction to normalise`);
      const inv = 1 / Math.sqrt(norm);
      for (let j = 0; j < dims; j++) padded[r * period + j]! *= inv;
    }
  }
  const chunks = Math.ceil(rows / slots);
  const { lastPlainScaleBits, ...params } = ckks;
  const galoisSteps = period > 1 ? [1] : [];
  const rotations = period - 1;
  const plainMultiplies = chunks * period;
  return {
    spec: {
      version: 1,
      params,
      inputSize: dims,
      outputSize: rows,
      batchCapacity: 1,
      inputCiphertexts: 1,
      outputCiphertexts: chunks,
      galoisSteps,
      needsRelinKeys: false,
      postprocess: 'none',
      layout: { kind: 'table-rows', inputPeriod: period, rowsPerCiphertext: slots },
      stats: {
        depth: 1, rotations, minRotations: rotations, plainMultiplies, ciphertextMultiplies: 0,
        layers: [{ name, op: 'SimilarityTable', rotations, minRotations: rotations, plainMultiplies, levels: 1 }],
        keyBytes: estimateKeyBytes(params, galoisSteps.length, false),
      },
    },
    ops: [{ kind: 'table-scores', name, op: 'SimilarityTable', rows, period, table: padded, plainScaleBits: lastPlainScaleBits }],
  };
}
