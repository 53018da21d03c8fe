import { LlmError } from './llm-error';

export type SamplingParameters = {
  /** 0 = greedy (argmax); otherwise logits are divided by it before the softmax. OpenAI's range: 0–2. */
  temperature: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probabilities sum to at least this. (0, 1]. */
  topP: number;
};

/** Checks sampling parameters once, naming the OpenAI parameter that is out of range. */
export function checkSamplingParameters(p: SamplingParameters): void {
  if (!Number.isFinite(p.temperature) || p.temperature < 0 || p.temperature > 2) {
    throw new LlmError('invalid_input', `temperature must be a number from 0 to 2 (got ${describe(p.temperature)})`, { param: 'temperature' });
  }
  if (!Number.isFinite(p.topP) || p.topP <= 0 || p.topP > 1) {
    throw new LlmError('invalid_input', `top_p must be a number greater than 0 and at most 1 (got ${describe(p.topP)})`, { param: 'top_p' });
  }
}

/**
 * Picks the next token from one position's logits: argmax at temperature 0, else temperature-scaled softmax
 * restricted to the top-p nucleus, drawn with the request's seeded generator. Ties in argmax go to the lowest id,
 * as in transformers' greedy search.
 */
export function sampleNextToken(logits: Float32Array, p: SamplingParameters, random: () => number): number {
  if (p.temperature === 0) return argmax(logits);
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((logits[i]! - max) / p.temperature);
    probs[i] = e;
    sum += e;
  }
  let order: number[];
  let total = 1;
  if (p.topP < 1) {
    order = Array.from({ length: n }, (_, i) => i).sort((x, y) => probs[y]! - probs[x]! || x - y);
    let kept = 0;
    let mass = 0;
    while (kept < n && mass < p.topP * sum) mass += probs[order[kept++]!]!;
    order = order.slice(0, Math.max(1, kept));
    total = mass / sum;
  } else {
    order = Array.from({ length: n }, (_, i) => i);
  }
  let r = random() * total * sum;
  for (const i of order) {
    r -= probs[i]!;
    if (r < 0) return i;
  }
  return order[order.length - 1]!;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v;
}
