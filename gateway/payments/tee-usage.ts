import type { SignedUsage, Usage } from '../../payments';
import type { TeeUsage } from '../../proto';

/** What the router knows of a TEE model before a call runs: its kind and context window, as the node attested them. */
export type TeeModelFacts = { kind: string; contextLength: number };

/**
 * The most a TEE call can use, from what the relay knows before it runs (the sealed bytes stay closed): the
 * reservation's ceiling. A chat's prompt and completion each fit the context window; an embeddings batch reads at
 * most one token per byte of its sealed request plus two special tokens per input (and inputs are bytes too), so
 * 2 × the sealed size bounds it; tabular models are billed per call only. The charge is what the node then signs.
 */
export function teeCeilingUsage(model: TeeModelFacts | undefined, sealedBytes: number): Usage {
  if (model?.kind === 'chat') return { calls: 1, inputTokens: model.contextLength, outputTokens: model.contextLength };
  if (model?.kind === 'embedding') return { calls: 1, inputTokens: 2 * sealedBytes };
  return { calls: 1 };
}

/** A stream's first credit window: the call, its whole prompt, and `windowTokens` of completion. */
export function teeStreamWindowUsage(model: TeeModelFacts | undefined, windowTokens: number): Usage {
  return { calls: 1, inputTokens: model?.contextLength ?? 0, outputTokens: windowTokens };
}

/** What a call used, from the node's signed counts (verified by the router against the attested key). */
export function teeActualUsage(usage: TeeUsage | undefined): Usage {
  return { calls: 1, inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0 };
}

/** The node's signed statement as the receipt carries it (`events`: 0 for a single answer, else the events delivered). */
export function teeSignedUsage(usage: TeeUsage | undefined, events: number): SignedUsage | undefined {
  return usage ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, events, signature: usage.signature } : undefined;
}
