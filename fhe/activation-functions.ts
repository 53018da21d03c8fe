/**
 * The non-polynomial activations the compiler approximates, as exact scalar functions of their input. They are what
 * the calibration forward pass evaluates and what the polynomial fits target; onnxruntime is the reference they are
 * checked against (fhe/calibrate-activations.test.ts).
 */
export type ActivationFunction = (x: number) => number;

/** erf by Abramowitz & Stegun 7.1.26 (|ε| ≤ 1.5e-7): the fits only need it far below any approximation error. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

const sigmoid: ActivationFunction = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Softplus log(1 + e^x), computed without overflow for large |x|. */
const softplus: ActivationFunction = (x) => (x > 30 ? x : x < -30 ? Math.exp(x) : Math.log1p(Math.exp(x)));

/**
 * The ONNX op types (and their attributes) that become calibrated approximations. `Gelu` follows the ONNX opset-20
 * definition: exact (erf) unless approximate="tanh". Erf itself is listed because exporters write GELU as
 * 0.5·x·(1 + Erf(x/√2)); the tracer composes it with the surrounding Mul/Add into one function of the layer output.
 */
export function activationFunction(opType: string, attributes: Record<string, unknown>): ActivationFunction | undefined {
  switch (opType) {
    case 'Relu':
      return (x) => (x > 0 ? x : 0);
    case 'LeakyRelu': {
      const alpha = typeof attributes.alpha === 'number' ? attributes.alpha : 0.01;
      return (x) => (x > 0 ? x : alpha * x);
    }
    case 'Sigmoid':
      return sigmoid;
    case 'Tanh':
      return Math.tanh;
    case 'Softplus':
      return softplus;
    case 'Erf':
      return erf;
    case 'Gelu':
      return attributes.approximate === 'tanh'
        ? (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
        : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    default:
      return undefined;
  }
}
