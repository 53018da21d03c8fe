import type { FhePlan } from './fhe-plan';

/**
 * One worker's share of a BSGS linear layer: y = Σ_g rot_g(Σ_b d_{g,b} ⊙ rot_b(x)). Every term is linear in x and the
 * giant rotation is linear, so the layer's sum can be cut into any disjoint sets of (g, b) terms, each evaluated on its
 * own and added afterwards. A part keeps either some giant-step groups (`axis: 'giant'`, by group index) or some baby
 * steps (`axis: 'baby'`, by step) — whichever leaves the slowest part with fewer rotations.
 */
export type LinearTermPart = { axis: 'giant' | 'baby'; items: ReadonlySet<number> };

export type LinearTermSplit = {
  parts: LinearTermPart[];
  /** Estimated cost of the slowest part and of the whole layer (rotations at the layer's level = 1; see linearCost). */
  cost: number;
  unsplitCost: number;
};

type LinearShape = { babySteps: readonly number[]; groups: readonly { giantStep: number; terms: readonly { babyStep: number }[] }[]; rescale: boolean };

/** Multiplying by a plaintext costs a few percent of a rotation at N = 8192 (measured ≈0.3 vs 8 ms). */
const MULTIPLY_COST = 0.04;
/** A giant rotation after the early rescale runs one level down: about half the cost (create-plan-evaluator.ts). */
const EARLY_GIANT_COST = 0.5;

export function keepsTerm(part: LinearTermPart | undefined, groupIndex: number, babyStep: number): boolean {
  return !part || part.items.has(part.axis === 'giant' ? groupIndex : babyStep);
}

/** The cost of the rotations and products a part's terms need (the shared rotate-and-sum and bias come later, once). */
function linearCost(op: LinearShape, part: LinearTermPart | undefined): number {
  const giantCost = op.rescale && op.groups.length > 1 ? EARLY_GIANT_COST : 1;
  const babies = new Set<number>();
  let cost = 0;
  op.groups.forEach((g, gi) => {
    const kept = g.terms.filter((t) => keepsTerm(part, gi, t.babyStep));
    for (const t of kept) if (t.babyStep !== 0) babies.add(t.babyStep);
    cost += kept.length * MULTIPLY_COST + (kept.length > 0 && g.giantStep !== 0 ? giantCost : 0);
  });
  return cost + babies.size;
}

/** `items` cut into `count` contiguous runs of near-equal length. */
function chunk(items: readonly number[], count: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count; i++) out.push(items.slice(Math.floor((i * items.length) / count), Math.floor(((i + 1) * items.length) / count)));
  return out;
}

/**
 * The cheapest way found to cut one linear op over `count` workers, or undefined when it has fewer than two groups
 * and two baby steps to cut along.
 */
export function splitLinearTerms(op: LinearShape, count: number): LinearTermSplit | undefined {
  if (count < 2) return undefined;
  const unsplitCost = linearCost(op, undefined);
  const candidates: LinearTermPart[][] = [];
  const groupIndexes = op.groups.map((_, i) => i);
  if (groupIndexes.length >= 2) candidates.push(chunk(groupIndexes, Math.min(count, groupIndexes.length)).map((items) => ({ axis: 'giant', items: new Set(items) })));
  const babies = [...new Set(op.groups.flatMap((g) => g.terms.map((t) => t.babyStep)))].sort((a, b) => a - b);
  if (babies.length >= 2) candidates.push(chunk(babies, Math.min(count, babies.length)).map((items) => ({ axis: 'baby', items: new Set(items) })));
  let best: LinearTermSplit | undefined;
  for (const parts of candidates) {
    const cost = Math.max(...parts.map((p) => linearCost(op, p)));
    if (!best || cost < best.cost) best = { parts, cost, unsplitCost };
  }
  return best;
}

/**
 * The linear ops (indexes into `plan.ops`) worth evaluating across `count` workers for one ciphertext group: those
 * whose slowest part saves at least one rotation, which outweighs the extra task hand-off and the partial
 * ciphertexts' serialisation (≈1–2 ms at N = 8192). Replicated-blocks plans only (feature-major has no rotations).
 */
export function planSplitStages(plan: FhePlan, count: number): number[] {
  if (plan.spec.layout.kind !== 'replicated-blocks' || count < 2) return [];
  const stages: number[] = [];
  plan.ops.forEach((op, i) => {
    if (op.kind !== 'linear') return;
    const split = splitLinearTerms(op, count);
    if (split && split.unsplitCost - split.cost >= 1) stages.push(i);
  });
  return stages;
}
