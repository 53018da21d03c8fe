import { createPrng, shuffleInPlace } from './create-prng';

/**
 * Hidden-layer activation. `relu` for TEE models; `poly2` is a·z² + b·z, the CKKS-friendly choice (one ciphertext
 * multiplication; with b = 0 it is a pure square and `a` can be folded into the next layer).
 */
export type MlpActivation = { kind: 'relu' } | { kind: 'poly2'; a: number; b: number };

/** A dense layer stored as ONNX Gemm expects without transB: `weights` is inputs×outputs, row-major. */
export type MlpLayer = { inputs: number; outputs: number; weights: Float64Array; bias: Float64Array };

/** Dense layers with `activation` between them and none after the last: the output is logits. */
export type Mlp = { layers: MlpLayer[]; activation: MlpActivation };

export type TrainMlpParameters = {
  features: Float64Array[];
  labels: number[];
  classCount: number;
  hidden: number[];
  activation: MlpActivation;
  epochs: number;
  batchSize: number;
  /** Adam step size at epoch 0; decays by cosine to 0 at the last epoch. */
  learningRate: number;
  /** Decoupled (AdamW) weight decay on weights, not biases; keeps activations bounded for CKKS. */
  weightDecay: number;
  /** Seeds weight initialisation and the per-epoch shuffles. */
  seed: number;
  /** Multiplies the initial weights (He-uniform × initGain); squares need a smaller start than ReLU. */
  initGain?: number;
  /** Called after each epoch (progress output in scripts). */
  onEpoch?: (epoch: number, loss: number) => void;
};

/**
 * Trains an MLP with softmax cross-entropy and mini-batch AdamW. Deterministic: initialisation and shuffles come from
 * one seeded PRNG and the arithmetic order is fixed, so the result is a pure function of the parameters (this is what
 * lets the committed `.onnx` files be rebuilt byte for byte).
 *
 * @example
 * const mlp = trainMlp({ features, labels, classCount: 10, hidden: [32], activation: { kind: 'poly2', a: 1, b: 0 },
 *   epochs: 100, batchSize: 32, learningRate: 0.01, weightDecay: 1e-4, seed: 1 });
 */
export function trainMlp(params: TrainMlpParameters): Mlp {
  const { features, labels, classCount, activation, batchSize, epochs, weightDecay } = params;
  const n = features.length;
  const inputSize = features[0]?.length ?? 0;
  if (n === 0 || labels.length !== n) throw new RangeError(`need one label per row: ${n} rows, ${labels.length} labels`);
  const prng = createPrng(params.seed);
  const sizes = [inputSize, ...params.hidden, classCount];
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const outputs = sizes[l + 1]!;
    // He-uniform: variance 2/fan_in. Uniform rather than Gaussian so initialisation needs no transcendental functions.
    const limit = Math.sqrt(6 / inputs) * (params.initGain ?? 1);
    const weights = new Float64Array(inputs * outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = prng.nextSymmetric(limit);
    layers.push({ inputs, outputs, weights, bias: new Float64Array(outputs) });
  }
  const mlp: Mlp = { layers, activation };

  // Adam state and gradient buffers, one per parameter tensor.
  const tensors = layers.flatMap((layer) => [layer.weights, layer.bias]);
  const grads = tensors.map((p) => new Float64Array(p.length));
  const m1 = tensors.map((p) => new Float64Array(p.length));
  const m2 = tensors.map((p) => new Float64Array(p.length));
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  let step = 0;

  const pre = sizes.map((s) => new Float64Array(s)); // pre-activations per layer (index 0 unused)
  const post = sizes.map((s) => new Float64Array(s)); // activations per layer (index 0 = input)
  const delta = sizes.map((s) => new Float64Array(s));
  const order = Array.from({ length: n }, (_, i) => i);

  for (let epoch = 0; epoch < epochs; epoch++) {
    const lr = 0.5 * params.learningRate * (1 + Math.cos((Math.PI * epoch) / epochs));
    shuffleInPlace(order, prng);
    let lossSum = 0;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      for (const g of grads) g.fill(0);
      for (let s = start; s < end; s++) {
        const row = order[s]!;
        lossSum += forward(mlp, features[row]!, pre, post, labels[row]!);
        backward(mlp, pre, post, delta, grads, labels[row]!);
      }
      const scale = 1 / (end - start);
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let t = 0; t < tensors.length; t++) {
        const p = tensors[t]!, g = grads[t]!, a = m1[t]!, v = m2[t]!;
        const decay = t % 2 === 0 ? lr * weightDecay : 0;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]! * scale;
          a[i] = beta1 * a[i]! + (1 - beta1) * gi;
          v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
          p[i] = p[i]! - lr * (a[i]! / c1) / (Math.sqrt(v[i]! / c2) + eps) - decay * p[i]!;
        }
      }
    }
    params.onEpoch?.(epoch, lossSum / n);
  }
  return mlp;
}

/** Logits for one row, in float64. */
export function predictMlp(mlp: Mlp, x: ArrayLike<number>): Float64Array {
  const sizes = [mlp.layers[0]!.inputs, ...mlp.layers.map((l) => l.outputs)];
  const pre = sizes.map((s) => new Float64Array(s));
  const post = sizes.map((s) => new Float64Array(s));
  forward(mlp, x, pre, post, -1);
  return post[sizes.length - 1]!.slice();
}

/** Pre-activation of every hidden layer for one row (for the magnitude report). */
export function hiddenPreActivations(mlp: Mlp, x: ArrayLike<number>): Float64Array[] {
  const sizes = [mlp.layers[0]!.inputs, ...mlp.layers.map((l) => l.outputs)];
  const pre = sizes.map((s) => new Float64Array(s));
  const post = sizes.map((s) => new Float64Array(s));
  forward(mlp, x, pre, post, -1);
  return pre.slice(1, -1).map((p) => p.slice());
}

function activate(act: MlpActivation, z: number): number {
  return act.kind === 'relu' ? (z > 0 ? z : 0) : act.a * z * z + act.b * z;
}

function activateDerivative(act: MlpActivation, z: number): number {
  return act.kind === 'relu' ? (z > 0 ? 1 : 0) : 2 * act.a * z + act.b;
}

/** Fills pre/post; returns the cross-entropy loss for `label` (or 0 when label < 0). Output post = softmax when label ≥ 0. */
function forward(mlp: Mlp, x: ArrayLike<number>, pre: Float64Array[], post: Float64Array[], label: number): number {
  const input = post[0]!;
  for (let i = 0; i < input.length; i++) input[i] = x[i]!;
  const last = mlp.layers.length - 1;
  mlp.layers.forEach((layer, l) => {
    const inp = post[l]!, z = pre[l + 1]!, out = post[l + 1]!;
    z.set(layer.bias);
    for (let i = 0; i < layer.inputs; i++) {
      const xi = inp[i]!;
      if (xi === 0) continue;
      const row = i * layer.outputs;
      for (let j = 0; j < layer.outputs; j++) z[j]! += xi * layer.weights[row + j]!;
    }
    for (let j = 0; j < layer.outputs; j++) out[j] = l === last ? z[j]! : activate(mlp.activation, z[j]!);
  });
  if (label < 0) return 0;
  // Softmax in place on the output (stable: subtract the max).
  const out = post[last + 1]!;
  let max = -Infinity;
  for (const v of out) max = Math.max(max, v);
  let sum = 0;
  for (let j = 0; j < out.length; j++) { out[j] = Math.exp(out[j]! - max); sum += out[j]!; }
  for (let j = 0; j < out.length; j++) out[j]! /= sum;
  return -Math.log(Math.max(out[label]!, 1e-300));
}

function backward(mlp: Mlp, pre: Float64Array[], post: Float64Array[], delta: Float64Array[], grads: Float64Array[], label: number): void {
  const last = mlp.layers.length;
  const dOut = delta[last]!;
  dOut.set(post[last]!);
  dOut[label]! -= 1;
  for (let l = last - 1; l >= 0; l--) {
    const layer = mlp.layers[l]!;
    const inp = post[l]!, d = delta[l + 1]!, gW = grads[2 * l]!, gB = grads[2 * l + 1]!;
    for (let j = 0; j < layer.outputs; j++) gB[j]! += d[j]!;
    const dIn = delta[l]!;
    for (let i = 0; i < layer.inputs; i++) {
      const xi = inp[i]!;
      const row = i * layer.outputs;
      let back = 0;
      for (let j = 0; j < layer.outputs; j++) {
        gW[row + j]! += xi * d[j]!;
        back += layer.weights[row + j]! * d[j]!;
      }
      dIn[i] = l > 0 ? back * activateDerivative(mlp.activation, pre[l]![i]!) : 0;
    }
  }
}
