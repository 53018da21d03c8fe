import type { Stage } from './trace-onnx-model';

/**
 * Plaintext float64 forward pass of traced stages with the exact activation functions: the reference the calibration
 * measures ranges on (it computes what onnxruntime computes, minus float32 rounding). `onActivation` sees each
 * activation stage's input vector.
 */
export function runTracedStages(stages: readonly Stage[], x: ArrayLike<number>, onActivation?: (stage: number, input: Float64Array) => void): Float64Array {
  let cur = Float64Array.from(x);
  stages.forEach((st, s) => {
    if (st.kind === 'linear') {
      const y = new Float64Array(st.outputSize);
      for (let i = 0; i < st.outputSize; i++) {
        let acc = st.bias[i]!;
        for (let j = 0; j < st.inputSize; j++) acc += st.weights[i * st.inputSize + j]! * cur[j]!;
        y[i] = acc;
      }
      cur = y;
    } else if (st.kind === 'poly') {
      cur = cur.map((v, i) => {
        let y = 0;
        for (let k = st.coeffs.length - 1; k >= 0; k--) y = y * v + st.coeffs[k]![i]!;
        return y;
      });
    } else {
      onActivation?.(s, cur);
      cur = cur.map((v, i) => st.f(v, i));
    }
  });
  return cur;
}
