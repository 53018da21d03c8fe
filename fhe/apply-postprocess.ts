import type { FheModelSpec } from './fhe-plan';

/**
 * Applies the model's final non-polynomial node on the client after decryption. 'argmax' returns the index;
 * the others return a new vector.
 */
export function applyPostprocess(spec: Pick<FheModelSpec, 'postprocess'>, logits: Float64Array): Float64Array | number {
  switch (spec.postprocess) {
    case 'none':
      return Float64Array.from(logits);
    case 'sigmoid':
      return logits.map((v) => 1 / (1 + Math.exp(-v)));
    case 'softmax': {
      const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
      const e = logits.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    }
    case 'argmax': {
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      return best;
    }
  }
}
