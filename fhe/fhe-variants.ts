import type { CompileOnnxOptions } from './compile-onnx';
import type { FheModelSpec } from './fhe-plan';

/**
 * The ways one model can be compiled and served, each best at a different batch size:
 *  - `expanded`: replicated blocks with the first layer's input shifts sent by the client — lowest single-sample
 *    latency (no rotation at the top level), fewest samples per ciphertext;
 *  - `blocks`: replicated blocks, BSGS rotations — many samples per ciphertext, good for small and medium batches;
 *  - `feature-major`: one ciphertext per feature over N/2 samples, no rotations — highest throughput for large
 *    batches, at the price of uploading inputSize ciphertexts per group however few samples it holds.
 */
export const FHE_VARIANTS = {
  blocks: { layout: 'replicated-blocks' },
  expanded: { layout: 'replicated-blocks', expandInput: true },
  'feature-major': { layout: 'feature-major' },
} as const satisfies Record<string, CompileOnnxOptions>;

export type FheVariant = keyof typeof FHE_VARIANTS;

export const DEFAULT_FHE_VARIANT: FheVariant = 'blocks';

export function isFheVariant(value: string): value is FheVariant {
  return Object.hasOwn(FHE_VARIANTS, value);
}

/** `expanded` only differs from `blocks` when the compiler could expand the first layer's input. */
export function isDistinctVariant(variant: FheVariant, spec: FheModelSpec): boolean {
  return variant !== 'expanded' || (spec.layout.kind === 'replicated-blocks' && spec.layout.inputCopies > 1);
}

/**
 * Picks the variant for a batch of `sampleCount` samples from those a server offers (by their specs):
 * `expanded` for one or two samples; `feature-major` once the batch fills a quarter of its N/2-sample group (below
 * that, its fixed cost per group — inputSize ciphertexts up, outputSize down — loses to packing samples into
 * blocks); otherwise `blocks`. Measured on digits-mlp: 1 image 64 ms (expanded) vs 140 ms (blocks); 1,024 images
 * ≈ 2 s either way on two workers; beyond that feature-major wins by up to ~8×.
 */
export function chooseFheVariant(offered: Partial<Record<FheVariant, FheModelSpec>>, sampleCount: number): FheVariant {
  if (sampleCount <= 2 && offered.expanded) return 'expanded';
  const fm = offered['feature-major'];
  if (fm && sampleCount >= fm.batchCapacity / 4) return 'feature-major';
  if (offered.blocks) return 'blocks';
  return (Object.keys(offered) as FheVariant[])[0] ?? DEFAULT_FHE_VARIANT;
}
