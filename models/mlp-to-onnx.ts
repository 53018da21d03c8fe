import { writeOnnxModel } from '../onnx';
import type { WriteOnnxNode, WriteOnnxTensor } from '../onnx';
import type { Mlp } from './train-mlp';

export type MlpToOnnxOptions = { graphName: string; docString: string };

/**
 * Encodes an MLP as ONNX: `x[batch,in]` → (Gemm → activation)* → Gemm → `logits[batch,classes]`. Activations use only
 * ops the FHE compiler accepts when the MLP is polynomial: `poly2` becomes `Mul(z,z)` (plus `Mul` by a constant and `Add`
 * when a ≠ 1 or b ≠ 0); `relu` becomes `Relu`. Weights are written as float32.
 *
 * @example
 * const bytes = mlpToOnnx(foldInputScale(mlp, 1 / 16), { graphName: 'digits_mlp', docString: '...' });
 */
export function mlpToOnnx(mlp: Mlp, options: MlpToOnnxOptions): Uint8Array {
  const nodes: WriteOnnxNode[] = [];
  const initializers: WriteOnnxTensor[] = [];
  const act = mlp.activation;
  let input = 'x';
  mlp.layers.forEach((layer, l) => {
    const n = l + 1;
    const last = l === mlp.layers.length - 1;
    const out = last ? 'logits' : `fc${n}_out`;
    initializers.push({ name: `W${n}`, dims: [layer.inputs, layer.outputs], values: layer.weights });
    initializers.push({ name: `b${n}`, dims: [layer.outputs], values: layer.bias });
    nodes.push({ name: `fc${n}`, opType: 'Gemm', inputs: [input, `W${n}`, `b${n}`], outputs: [out], attributes: { alpha: { float: 1 }, beta: { float: 1 }, transA: { int: 0 }, transB: { int: 0 } } });
    input = out;
    if (last) return;
    const actOut = `act${n}_out`;
    if (act.kind === 'relu') {
      nodes.push({ name: `act${n}_relu`, opType: 'Relu', inputs: [input], outputs: [actOut] });
    } else {
      const pure = act.a === 1 && act.b === 0;
      nodes.push({ name: `act${n}_square`, opType: 'Mul', inputs: [input, input], outputs: [pure ? actOut : `act${n}_sq`] });
      if (!pure) {
        initializers.push({ name: `act${n}_a`, dims: [1], values: [act.a] }, { name: `act${n}_b`, dims: [1], values: [act.b] });
        nodes.push(
          { name: `act${n}_scale_sq`, opType: 'Mul', inputs: [`act${n}_sq`, `act${n}_a`], outputs: [`act${n}_asq`] },
          { name: `act${n}_scale_lin`, opType: 'Mul', inputs: [input, `act${n}_b`], outputs: [`act${n}_bz`] },
          { name: `act${n}_sum`, opType: 'Add', inputs: [`act${n}_asq`, `act${n}_bz`], outputs: [actOut] },
        );
      }
    }
    input = actOut;
  });
  const first = mlp.layers[0]!;
  const lastLayer = mlp.layers[mlp.layers.length - 1]!;
  return writeOnnxModel({
    producerName: 'veil-models',
    producerVersion: '1',
    docString: options.docString,
    graph: {
      name: options.graphName,
      nodes,
      initializers,
      inputs: [{ name: 'x', shape: ['batch', first.inputs] }],
      outputs: [{ name: 'logits', shape: ['batch', lastLayer.outputs] }],
    },
  });
}

/**
 * Folds a constant input scaling into the first layer: the returned MLP on `x` equals `mlp` on `x · scale`. With
 * scale = 1/16 (a power of two) the fold is exact in floating point.
 */
export function foldInputScale(mlp: Mlp, scale: number): Mlp {
  const [first, ...rest] = mlp.layers;
  if (!first) return mlp;
  return { ...mlp, layers: [{ ...first, weights: first.weights.map((w) => w * scale) }, ...rest] };
}

/** Rounds every parameter to float32, i.e. exactly what the ONNX file stores, so JS evaluation matches onnxruntime. */
export function roundMlpToFloat32(mlp: Mlp): Mlp {
  return { ...mlp, layers: mlp.layers.map((l) => ({ ...l, weights: l.weights.map(Math.fround), bias: l.bias.map(Math.fround) })) };
}
