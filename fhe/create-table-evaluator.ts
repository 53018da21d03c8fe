import type { CipherText } from 'node-seal/implementation/cipher-text';
import type { GaloisKeys } from 'node-seal/implementation/galois-keys';
import type { PlainText } from 'node-seal/implementation/plain-text';
import type { CkksRuntime } from './create-ckks-runtime';
import { checkEvaluationInputs } from './check-evaluation-inputs';
import { FheInputError } from './errors';
import type { FhePlan } from './fhe-plan';

export type TableEvaluator = {
  evaluate(inputs: CipherText[], keys: { galoisKeys?: GaloisKeys }): CipherText[];
  inputScale: number;
  delete(): void;
};

/**
 * Evaluates a table-rows plan (compile-similarity-table.ts for the packing). Every diagonal of every chunk is encoded
 * once here (rows·p/S plaintexts of one prime: ≈ 100 MB for 10^5 × 64 at N=8192) so a query pays only products and
 * additions; an all-zero diagonal is skipped (SEAL refuses a product by zero: "transparent" result).
 * @internal use createPlanEvaluator.
 */
export function createTableEvaluator(runtime: CkksRuntime, plan: FhePlan): TableEvaluator {
  const { seal, encoder, evaluator, slotCount } = runtime;
  const spec = plan.spec;
  const op = plan.ops[0];
  if (plan.ops.length !== 1 || op?.kind !== 'table-scores' || spec.layout.kind !== 'table-rows') {
    throw new Error('internal: a table-rows plan holds exactly one table-scores op');
  }
  const { rows, period, table } = op;
  const ptScale = 2 ** op.plainScaleBits;
  const chunks: { k: number; plain: PlainText }[][] = [];
  const diag = new Float64Array(slotCount);
  try {
    for (let c = 0; c * slotCount < rows; c++) {
      const terms: { k: number; plain: PlainText }[] = [];
      const count = Math.min(slotCount, rows - c * slotCount);
      for (let k = 0; k < period; k++) {
        diag.fill(0);
        let nonzero = false;
        for (let j = 0; j < count; j++) {
          const v = table[(c * slotCount + j) * period + ((j + k) % period)]!;
          diag[j] = v;
          if (v !== 0) nonzero = true;
        }
        if (nonzero) terms.push({ k, plain: encoder.encode(diag, ptScale)! });
      }
      chunks.push(terms);
    }
  } catch (err) {
    for (const t of chunks.flat()) t.plain.delete();
    throw err;
  }
  const maxK = Math.max(0, ...chunks.flat().map((t) => t.k));

  return {
    inputScale: 2 ** spec.params.scaleBits,
    evaluate(inputs, keys) {
      checkEvaluationInputs(spec, inputs.length, keys);
      const rots: CipherText[] = [inputs[0]!];
      const out: CipherText[] = [];
      const scratch = seal.CipherText();
      try {
        // rot(q, k) = rot(rot(q, k − 1), 1): one Galois key serves all p − 1 rotations.
        for (let k = 1; k <= maxK; k++) {
          try {
            rots.push(evaluator.rotateVector(rots[k - 1]!, 1, keys.galoisKeys!)!);
          } catch {
            throw new FheInputError('invalid_keys', 'the Galois keys lack rotation step 1');
          }
        }
        for (const terms of chunks) {
          // A chunk with no nonzero value still answers zeros: a product by 2^-plainScaleBits·2 stands in for 0.
          if (terms.length === 0) {
            const tiny = encoder.encode(new Float64Array(slotCount).fill(2 / ptScale), ptScale)!;
            out.push(evaluator.multiplyPlain(rots[0]!, tiny)!);
            tiny.delete();
            continue;
          }
          const acc = evaluator.multiplyPlain(rots[terms[0]!.k]!, terms[0]!.plain)!;
          out.push(acc);
          for (let i = 1; i < terms.length; i++) {
            evaluator.multiplyPlain(rots[terms[i]!.k]!, terms[i]!.plain, scratch);
            evaluator.add(acc, scratch, acc);
          }
        }
        return out;
      } catch (err) {
        for (const ct of out) ct.delete();
        throw err;
      } finally {
        for (const ct of rots.slice(1)) ct.delete();
        scratch.delete();
      }
    },
    delete() {
      for (const t of chunks.flat()) t.plain.delete();
    },
  };
}
