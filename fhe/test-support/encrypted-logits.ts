import { createCkksRuntime } from '../create-ckks-runtime';
import { createFheClientKeys } from '../create-fhe-client-keys';
import { createPlanEvaluator } from '../create-plan-evaluator';
import type { FhePlan } from '../fhe-plan';
import { loadCiphertext } from '../load-ciphertext';
import { loadEvaluationKeys } from '../load-evaluation-keys';
import { loadSeal } from '../load-seal';
import { packInputs } from '../pack-inputs';
import { unpackOutputs } from '../unpack-outputs';
/**
 * Encrypts `rows` under fresh client keys, evaluates `plan` on the ciphertexts and decrypts the logits: the whole
 * client → server → client round trip in one process, every SEAL object freed (tests and benches).
 */
export async function encryptedLogits(plan: FhePlan, rows: ArrayLike<number>[]): Promise<Float64Array[]> {
  const seal = await loadSeal();
  const runtime = createCkksRuntime(seal, plan.spec.params);
  const client = createFheClientKeys(runtime, plan.spec);
  const evaluator = createPlanEvaluator(runtime, plan);
  const keys = loadEvaluationKeys(runtime, client.evaluationKeys(), plan.spec);
  try {
    const logits: Float64Array[] = [];
    for (const [g, group] of packInputs(plan.spec, rows).entries()) {
      const inputs = group.map((slots) => loadCiphertext(runtime, client.encrypt(slots)));
      const outputs = evaluator.evaluate(inputs, keys);
      const slots = outputs.map((ct) => client.decrypt(ct.saveArray(seal.ComprModeType.none)));
      for (const ct of [...inputs, ...outputs]) ct.delete();
      logits.push(...unpackOutputs(plan.spec, slots, Math.min(plan.spec.batchCapacity, rows.length - g * plan.spec.batchCapacity)));
    }
    return logits;
  } finally {
    keys.delete();
    evaluator.delete();
    client.delete();
    runtime.delete();
  }
}
