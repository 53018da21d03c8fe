import { writeOnnxModel } from '../onnx';
import type { WriteOnnxNode, WriteOnnxTensor } from '../onnx';

/** Deterministic pseudo-random numbers in [−1, 1) (tests and benches must not depend on Math.random). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
}

export type DenseLayer = { weights: number[][]; bias: number[] };
export type Activation = 'square' | { poly: number[] } | 'relu';

/**
 * Builds an MLP as ONNX: Gemm(transB=1) layers with activations written as Mul/Add chains between them
 * (square = Mul(x, x); poly [c0, c1, c2, c3] = c0 + c1·x + c2·x·x + c3·x·x·x), optional final node.
 * For tests and benchmarks; `weights[i]` is output row i.
 */
export function buildMlpModel(layers: DenseLayer[], options: { activation?: Activation; final?: 'Sigmoid' | 'Softmax' | 'ArgMax'; inputName?: string } = {}): Uint8Array {
  const nodes: WriteOnnxNode[] = [];
  const inits: WriteOnnxTensor[] = [];
  let cur = options.inputName ?? 'x';
  layers.forEach((layer, li) => {
    const m = layer.weights.length;
    const n = layer.weights[0]!.length;
    inits.push({ name: `W${li}`, dims: [m, n], values: layer.weights.flat() }, { name: `b${li}`, dims: [m], values: layer.bias });
    nodes.push({ name: `fc${li}`, opType: 'Gemm', inputs: [cur, `W${li}`, `b${li}`], outputs: [`h${li}`], attributes: { transB: { int: 1 } } });
    cur = `h${li}`;
    if (li < layers.length - 1 && options.activation) {
      const a = options.activation;
      if (a === 'square') {
        nodes.push({ name: `act${li}`, opType: 'Mul', inputs: [cur, cur], outputs: [`a${li}`] });
      } else if (a === 'relu') {
        nodes.push({ name: `act${li}`, opType: 'Relu', inputs: [cur], outputs: [`a${li}`] });
      } else {
        const c = a.poly;
        let acc = `c0_${li}`;
        inits.push({ name: acc, dims: [1], values: [c[0] ?? 0] });
        let pow = cur;
        for (let k = 1; k < c.length; k++) {
          if (k > 1) {
            nodes.push({ name: `pow${li}_${k}`, opType: 'Mul', inputs: [pow, cur], outputs: [`p${li}_${k}`] });
            pow = `p${li}_${k}`;
          }
          inits.push({ name: `c${k}_${li}`, dims: [1], values: [c[k]!] });
          nodes.push({ name: `term${li}_${k}`, opType: 'Mul', inputs: [pow, `c${k}_${li}`], outputs: [`t${li}_${k}`] });
          nodes.push({ name: `sum${li}_${k}`, opType: 'Add', inputs: [acc, `t${li}_${k}`], outputs: [`s${li}_${k}`] });
          acc = `s${li}_${k}`;
        }
        nodes.push({ name: `act${li}`, opType: 'Identity', inputs: [acc], outputs: [`a${li}`] });
      }
      cur = `a${li}`;
    }
  });
  const outSize = layers[layers.length - 1]!.weights.length;
  if (options.final) {
    nodes.push({ name: 'final', opType: options.final, inputs: [cur], outputs: ['y'], attributes: options.final === 'Sigmoid' ? {} : { axis: { int: 1 } } });
    cur = 'y';
  }
  return writeOnnxModel({
    producerName: 'veil-test',
    graph: {
      name: 'mlp',
      nodes,
      initializers: inits,
      inputs: [{ name: options.inputName ?? 'x', shape: ['batch', layers[0]!.weights[0]!.length] }],
      outputs: [{ name: cur, shape: options.final === 'ArgMax' ? ['batch', 1] : ['batch', outSize] }],
    },
  });
}

/** A random dense layer m × n with weights in ±scale. */
export function randomLayer(rand: () => number, m: number, n: number, scale = 1): DenseLayer {
  return {
    weights: Array.from({ length: m }, () => Array.from({ length: n }, () => rand() * scale)),
    bias: Array.from({ length: m }, () => rand() * scale),
  };
}

/** Plaintext reference of buildMlpModel's graph (without the final node). */
export function referenceMlp(layers: DenseLayer[], activation: Activation | undefined, x: ArrayLike<number>): Float64Array {
  let v = Float64Array.from(x as ArrayLike<number>);
  layers.forEach((layer, li) => {
    v = Float64Array.from(layer.weights.map((row, i) => row.reduce((s, w, j) => s + w * v[j]!, layer.bias[i]!)));
    if (li < layers.length - 1 && activation) {
      if (activation === 'square') v = v.map((t) => t * t);
      else if (activation === 'relu') v = v.map((t) => Math.max(0, t));
      else {
        const c = activation.poly;
        v = v.map((t) => c.reduce((s, ck, k) => s + ck * t ** k, 0));
      }
    }
  });
  return v;
}
