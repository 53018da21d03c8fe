import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx';
import { activationFunction } from './activation-functions';
import { FheCompileError } from './errors';
import type { FhePostprocess } from './fhe-plan';
import { lowerAveragePool, lowerGlobalAveragePool, lowerReduce } from './lower-average-pool';
import { lowerConv, type LoweredLayer } from './lower-conv';

/** Dense layer y = W·x + b; `weights` is row-major m × n. */
export type LinearStage = { kind: 'linear'; name: string; op: string; weights: Float64Array; bias: Float64Array; inputSize: number; outputSize: number };
/** Elementwise polynomial y_i = Σ_k coeffs[k][i] · x_i^k. */
export type PolyStage = { kind: 'poly'; name: string; op: string; coeffs: Float64Array[]; size: number };
/**
 * A non-polynomial elementwise function y_i = f(u_i, i) of the preceding dense layer's output u (Relu, Sigmoid, GELU
 * with the polynomial pieces around it composed in). The compiler replaces it by a calibrated polynomial.
 */
export type ActivationStage = { kind: 'activation'; name: string; op: string; f: (u: number, feature: number) => number; size: number };
export type Stage = LinearStage | PolyStage | ActivationStage;

export type TraceOnnxModelResult = { inputName: string; inputSize: number; stages: Stage[]; postprocess: FhePostprocess; outputName: string };

const SUPPORTED = 'Gemm, MatMul, Conv, AveragePool, GlobalAveragePool, BatchNormalization, Add (incl. residual), Sub, Mul, Div, Neg, Pow (2 or 3), '
  + 'Flatten, Reshape, Unsqueeze, Squeeze, Transpose, Identity, Constant; '
  + 'Relu, LeakyRelu, Sigmoid, Tanh, Softplus, Gelu, Erf (calibrated); final Sigmoid/Softmax/ArgMax';
const MAX_DEGREE = 3;
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow']);

/* A materialised tensor (the model input or a stage output) possibly followed by a pending affine map. */
type Source = {
  base: number; lin?: { weights: Float64Array; bias: Float64Array; m: number; n: number; name: string; op: string }; stage?: number;
  /** Polynomials of this source already emitted as a poly stage (keyed by their coefficient arrays): their output tensor. */
  emitted?: Map<Float64Array[], Dyn>;
};
/* A dynamic value: an elementwise polynomial (per-feature coefficients) of a source's (pending) output. */
type Dyn = { kind: 'dyn'; source: Source; coeffs: Float64Array[]; size: number; /** shape without the batch axis (product = size) */ dims: number[]; /** last elementwise node */ node?: string };
/* A dynamic value that is a non-polynomial function of a source's (pending) output u: y_i = f(u_i, i). */
type Fn = { kind: 'fn'; source: Source; f: (u: number, i: number) => number; size: number; dims: number[]; ops: string[]; node?: string; /** its activation stage, once emitted (shared by the copies of one function) */ memo: { stage?: Dyn } };
type Const = { kind: 'const'; dims: number[]; data: Float64Array };
type Value = Dyn | Fn | Const;

/**
 * Symbolically executes the ONNX graph and returns the stages the CKKS plan must evaluate: dense layers,
 * elementwise polynomials and non-polynomial activations (which the compiler approximates from a calibration). Affine pieces (Add/Sub/Mul/Div by constants, normalisation, temperature…) are folded
 * into the neighbouring dense layer, and consecutive dense layers are multiplied together, so they cost nothing.
 *
 * @throws {FheCompileError} naming the node, op and reason for anything the plan cannot evaluate.
 */
export function traceOnnxModel(model: OnnxModel): TraceOnnxModelResult {
  const g = model.graph;
  if (model.opsetVersion && (model.opsetVersion < 7 || model.opsetVersion > 21)) {
    throw new FheCompileError(`ONNX opset ${model.opsetVersion} is not supported (13–17 are tested)`);
  }
  if (g.inputs.length !== 1) throw new FheCompileError(`the model must have exactly one input tensor (found ${g.inputs.length})`);
  if (g.outputs.length !== 1) throw new FheCompileError(`the model must have exactly one output tensor (found ${g.outputs.length})`);
  const input = g.inputs[0]!;
  const shape = input.shape ?? [];
  // [batch, features] or an image [batch, C, H, W] (any fixed non-batch shape): the client packs the flattened row.
  const inputDims = shape.length === 1 ? shape : shape.slice(1);
  if (inputDims.length === 0 || !inputDims.every((d): d is number => typeof d === 'number' && d >= 1)) {
    throw new FheCompileError(`input "${input.name}" must have shape [batch, features] or [batch, C, H, W] with fixed sizes after the batch axis (got [${shape.join(', ')}])`);
  }
  const inputSize = inputDims.reduce((a, b) => a * b, 1);
  const stages: Stage[] = [];
  const env = new Map<string, Value>();
  for (const [name, t] of g.initializers) env.set(name, { kind: 'const', dims: t.dims, data: t.data });
  env.set(input.name, { kind: 'dyn', source: { base: -1 }, coeffs: identity(inputSize), size: inputSize, dims: inputDims });
  const outputName = g.outputs[0]!.name;
  let postprocess: FhePostprocess = 'none';
  let finalName: string | undefined;
  let resultName = outputName;

  const consumers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);

  for (const node of g.nodes) {
    const fail = (reason: string): never => {
      throw new FheCompileError(reason, node.name, node.opType);
    };
    if (node.domain && node.domain !== 'ai.onnx') fail(`operator domain "${node.domain}" is not supported`);
    if (finalName !== undefined) fail(`${finalName} must be the final node of the graph`);
    const get = (i: number): Value => {
      const name = node.inputs[i];
      const v = name ? env.get(name) : undefined;
      if (!v) fail(`input ${i} ("${name ?? ''}") is not produced by any earlier node or initializer`);
      return v!;
    };
    const out = (v: Value) =>
      env.set(node.outputs[0] ?? '', (v.kind === 'dyn' && ELEMENTWISE.has(node.opType)) || v.kind === 'fn' ? { ...v, node: node.name } : v);
    const dynIn = (i: number): Dyn => {
      const v = get(i);
      if (v.kind === 'fn') {
        fail(`input ${i} is a non-polynomial activation (${v.ops.join(', ')}); ${node.opType} can only follow it through a dense layer (Gemm/MatMul)`);
      }
      if (v.kind !== 'dyn') fail(`input ${i} must depend on the model input`);
      return v as Dyn;
    };
    // A residual Add/Sub: an activation or polynomial whose stage is already emitted (a later layer read it) is, for
    // the other branch, that stage's output tensor.
    if ((node.opType === 'Add' || node.opType === 'Sub') && node.inputs.length === 2) {
      const [a, b] = [env.get(node.inputs[0]!), env.get(node.inputs[1]!)];
      const emitted = (v: Value | undefined, w: Value | undefined): Dyn | undefined => {
        if (!v || v.kind === 'const' || !w || w.kind === 'const' || w.source === v.source) return undefined;
        return v.kind === 'fn' ? v.memo.stage : degree(v.coeffs) > 1 ? v.source.emitted?.get(v.coeffs) : undefined;
      };
      const [ea, eb] = [emitted(a, b), emitted(b, a)];
      if (ea || eb) {
        const d = [ea ?? a!, eb ?? b!] as Dyn[];
        if (d.every((x) => x.kind === 'dyn')) {
          out(d[0]!.source === d[1]!.source ? polyCombine(d[0]!, d[1]!, (x, y) => x + (node.opType === 'Sub' ? -y : y)) : addBranches(d[0]!, d[1]!, node.opType === 'Sub' ? -1 : 1, node, fail));
          continue;
        }
      }
    }
    // Elementwise ops touching a non-polynomial value stay one function of the same layer output.
    if (ELEMENTWISE.has(node.opType) && node.inputs.slice(0, 2).some((name) => env.get(name)?.kind === 'fn')) {
      out(combineFn(node, get(0), node.inputs[1] !== undefined ? get(1) : undefined, fail));
      continue;
    }
    const activation = activationFunction(node.opType, node.attributes);
    const hiddenSigmoid = node.opType === 'Sigmoid' && (node.outputs[0] !== outputName || (consumers.get(node.outputs[0] ?? '') ?? 0) > 0);
    if (activation && (node.opType !== 'Sigmoid' || hiddenSigmoid)) {
      const v = get(0);
      if (v.kind === 'const') fail('input 0 must depend on the model input');
      out(applyFn(v as Dyn | Fn, activation, node.opType));
      continue;
    }
    switch (node.opType) {
      case 'Constant': {
        const t = node.attributes.value;
        if (typeof t !== 'object' || Array.isArray(t)) fail('only tensor-valued Constant nodes are supported');
        out({ kind: 'const', dims: (t as OnnxTensor).dims, data: (t as OnnxTensor).data });
        break;
      }
      case 'Identity':
        out(get(0));
        break;
      case 'Flatten': {
        const v = get(0);
        if (v.kind === 'const') {
          out(v);
          break;
        }
        const d = v as Dyn | Fn;
        const axis = numAttr(node, 'axis', 1);
        // axis 1 keeps the batch axis and flattens the rest; axis 0 ([1, batch·features]) is kept for single rows.
        if (axis !== 0 && axis !== 1 && axis !== -d.dims.length) fail(`Flatten at axis ${axis} mixes the batch axis with the features; only axis 1 is supported`);
        out({ ...d, dims: [d.size] });
        break;
      }
      case 'Reshape': {
        const v = get(0);
        const target = get(1);
        if (v.kind === 'const') {
          out(v);
          break;
        }
        if (target.kind !== 'const') fail('the target shape must be a constant');
        const d = v as Dyn | Fn;
        const shape = Array.from((target as Const).data);
        if (numAttr(node, 'allowzero', 0) === 1 && shape.slice(1).includes(0)) fail('a zero-sized dimension (allowzero=1) is not supported');
        out({ ...d, dims: reshapeDims(d.dims, shape, fail) });
        break;
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const v = get(0);
        let axes = Array.isArray(node.attributes.axes) ? (node.attributes.axes as number[]) : undefined;
        if (node.inputs[1]) {
          const a = get(1);
          if (a.kind !== 'const') fail('the axes must be a constant');
          axes = Array.from((a as Const).data);
        }
        if (v.kind === 'const') {
          // Shape arithmetic (x.view(x.size(0), -1)): only the data's shape changes.
          const rank = v.dims.length + (node.opType === 'Unsqueeze' ? (axes?.length ?? 0) : 0);
          const norm = (axes ?? []).map((x) => (x < 0 ? x + rank : x));
          const dims = [...v.dims];
          if (node.opType === 'Unsqueeze') for (const x of [...norm].sort((p, q) => p - q)) dims.splice(x, 0, 1);
          out({ ...v, dims: node.opType === 'Unsqueeze' ? dims : dims.filter((d, k) => d !== 1 || (axes !== undefined && !norm.includes(k))) });
          break;
        }
        const d = v as Dyn | Fn;
        out({ ...d, dims: squeezeDims(d.dims, axes, node.opType === 'Unsqueeze', fail) });
        break;
      }
      // The shape computation exporters write for x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat. The
      // batch size is unknown at compile time (NaN); Reshape reads a NaN first entry as "the batch".
      case 'Shape': {
        const v = get(0);
        const full = v.kind === 'const' ? v.dims : [NaN, ...(v as Dyn | Fn).dims];
        const rank = full.length;
        const clamp = (x: number) => Math.min(rank, Math.max(0, x < 0 ? x + rank : x));
        const picked = full.slice(clamp(numAttr(node, 'start', 0)), clamp(numAttr(node, 'end', rank)));
        out({ kind: 'const', dims: [picked.length], data: Float64Array.from(picked) });
        break;
      }
      case 'Gather': {
        const data = get(0);
        const idx = get(1);
        if (data.kind !== 'const' || idx.kind !== 'const') fail('only Gather on constants (shape arithmetic) is supported');
        const dc = data as Const;
        const ic = idx as Const;
        if (dc.dims.length !== 1 || numAttr(node, 'axis', 0) !== 0) fail('only Gather from a 1-D constant along axis 0 is supported');
        const picked = Array.from(ic.data, (i) => dc.data[i < 0 ? i + dc.data.length : i]);
        if (picked.some((x) => x === undefined)) fail('Gather index out of range');
        out({ kind: 'const', dims: ic.dims, data: Float64Array.from(picked as number[]) });
        break;
      }
      case 'Concat': {
        const parts = node.inputs.map((_, i) => get(i));
        if (parts.some((p) => p.kind !== 'const' || p.dims.length > 1)) fail('only Concat of 1-D constants (shape arithmetic) is supported');
        const data = Float64Array.from(parts.flatMap((p) => Array.from((p as Const).data)));
        out({ kind: 'const', dims: [data.length], data });
        break;
      }
      case 'Cast': {
        const v = get(0);
        if (v.kind !== 'const') fail('Cast of an input-dependent tensor is not supported');
        out(v);
        break;
      }
      case 'Transpose': {
        const v = get(0);
        if (v.kind === 'const') fail('constant folding is not supported; fold it at export');
        const d = v as Dyn | Fn;
        const rank = d.dims.length + 1;
        const perm = Array.isArray(node.attributes.perm) ? (node.attributes.perm as number[]) : Array.from({ length: rank }, (_, k) => rank - 1 - k);
        if (perm.length !== rank || perm[0] !== 0 || [...perm].sort((x, y) => x - y).some((p, k) => p !== k)) {
          fail(`perm [${perm.join(', ')}] must keep the batch axis first and permute the other ${rank - 1} axes`);
        }
        const dims = perm.slice(1).map((p) => d.dims[p - 1]!);
        const moved = perm.slice(1).filter((p) => d.dims[p - 1] !== 1);
        // Only size-1 axes move: the flattened order is unchanged, so this is a relabelling and costs nothing.
        if (moved.every((p, k) => k === 0 || p > moved[k - 1]!)) {
          out({ ...d, dims });
          break;
        }
        // A real permutation of the features is a linear map; it folds into the neighbouring dense layer.
        const a = dynOrFnIn(d, 0, fail, stages);
        out(applyLinear(a, transposeMatrix(d.dims, perm.slice(1).map((p) => p - 1)), new Float64Array(d.size), dims, node, stages));
        break;
      }
      case 'Conv':
      case 'AveragePool':
      case 'GlobalAveragePool': {
        const a = dynOrFnIn(get(0), 0, fail, stages);
        let lowered: LoweredLayer;
        if (node.opType === 'Conv') {
          const k = get(1);
          if (k.kind !== 'const') fail('the kernel (input W) must be an initializer');
          let bias: Float64Array | undefined;
          if (node.inputs[2]) {
            const bv = get(2);
            if (bv.kind !== 'const') fail('the bias (input B) must be an initializer');
            bias = (bv as Const).data;
          }
          lowered = lowerConv(node.attributes, a.dims, k as Const, bias, fail);
        } else lowered = node.opType === 'AveragePool' ? lowerAveragePool(node.attributes, a.dims, fail) : lowerGlobalAveragePool(a.dims, fail);
        out(applyLinear(a, lowered.weights, lowered.bias, lowered.outDims, node, stages));
        break;
      }
      case 'ReduceMean':
      case 'ReduceSum': {
        const a = dynOrFnIn(get(0), 0, fail, stages);
        let axes = Array.isArray(node.attributes.axes) ? (node.attributes.axes as number[]) : undefined;
        if (node.inputs[1]) {
          const v = get(1);
          if (v.kind !== 'const') fail('the axes must be a constant');
          axes = Array.from((v as Const).data);
        }
        const rank = a.dims.length + 1;
        if (!axes || axes.length === 0) {
          if (numAttr(node, 'noop_with_empty_axes', 0) === 1) {
            out(a);
            break;
          }
          fail('reducing over every axis would mix the samples of a batch; give the feature axes');
        }
        const norm = axes!.map((x) => (x < 0 ? x + rank : x));
        if (norm.some((x) => x <= 0 || x >= rank)) fail(`axes [${axes!.join(', ')}] include the batch axis; only feature axes can be reduced`);
        const lowered = lowerReduce(a.dims, norm.map((x) => x - 1), numAttr(node, 'keepdims', 1) !== 0, node.opType === 'ReduceMean');
        out(applyLinear(a, lowered.weights, lowered.bias, lowered.outDims, node, stages));
        break;
      }
      case 'MaxPool':
      case 'GlobalMaxPool':
        fail(`${node.opType} has no low-degree polynomial form under CKKS (a max needs a high-degree sign approximation per comparison); use AveragePool (torch.nn.AvgPool2d) or GlobalAveragePool instead`);
        break;
      case 'BatchNormalization': {
        const v = get(0);
        if (v.kind === 'const') fail('input 0 must depend on the model input');
        if (numAttr(node, 'training_mode', 0) !== 0 || node.outputs.filter(Boolean).length > 1) fail('only inference-mode BatchNormalization (one output) is supported; export the model in eval() mode');
        const params = [1, 2, 3, 4].map((i) => get(i));
        if (params.some((p) => p.kind !== 'const')) fail('scale, bias, mean and variance must be initializers');
        const [scale, shift, mean, variance] = params.map((p) => (p as Const).data) as [Float64Array, Float64Array, Float64Array, Float64Array];
        // After an activation, the affine map acts on the activation's output: emit it, and the map folds forward.
        const x = v.kind === 'fn' ? materialiseFn(v, stages, fail) : (v as Dyn);
        out(batchNorm(x, { scale, shift, mean, variance, epsilon: numAttr(node, 'epsilon', 1e-5) }, fail));
        break;
      }
      case 'Gemm': {
        const a = dynOrFnIn(get(0), 0, fail, stages);
        const b = get(1);
        if (b.kind !== 'const') fail('the weight matrix (input B) must be an initializer');
        const bc = b as Const;
        if (numAttr(node, 'transA', 0) !== 0) fail('transA=1 is not supported (the input must be [batch, features])');
        if (bc.dims.length !== 2) fail(`weight matrix must be 2-D (got [${bc.dims.join(', ')}])`);
        const alpha = numAttr(node, 'alpha', 1);
        const beta = numAttr(node, 'beta', 1);
        const transB = numAttr(node, 'transB', 0) !== 0;
        const [r, c] = bc.dims as [number, number];
        const n = transB ? c : r;
        const m = transB ? r : c;
        if (n !== a.size) fail(`weight matrix expects ${n} input features but the input has ${a.size}`);
        const w = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[i * n + j] = alpha * (transB ? bc.data[i * c + j]! : bc.data[j * c + i]!);
        const bias = new Float64Array(m);
        if (node.inputs[2]) {
          const cv = get(2);
          if (cv.kind !== 'const') fail('the bias (input C) must be an initializer');
          const cb = broadcastVector(cv as Const, [m]);
          if (!cb) fail(`bias of shape [${(cv as Const).dims.join(', ')}] does not broadcast to [${m}]`);
          for (let i = 0; i < m; i++) bias[i] = beta * cb![i]!;
        }
        out(applyLinear(a, w, bias, [m], node, stages));
        break;
      }
      case 'MatMul': {
        const a0 = get(0);
        const a = a0.kind === 'fn' ? dynOrFnIn(a0, 0, fail, stages) : a0;
        const b = get(1);
        if (a.kind !== 'dyn' || b.kind !== 'const') fail('only MatMul(input-dependent [batch, …, n], constant [n, m]) is supported');
        const bc = b as Const;
        const av = a as Dyn;
        const k = av.dims[av.dims.length - 1]!;
        if (bc.dims.length !== 2 || bc.dims[0] !== k) fail(`weight of shape [${bc.dims.join(', ')}] does not multiply [batch, ${av.dims.join(', ')}]`);
        // Over the last axis, for each of the `rows` leading positions (one block of the block-diagonal map).
        const m = bc.dims[1]!;
        const rows = av.size / k;
        const n = av.size;
        const w = new Float64Array(rows * m * n);
        for (let r = 0; r < rows; r++) for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) w[(r * m + i) * n + r * k + j] = bc.data[j * m + i]!;
        out(applyLinear(av, w, new Float64Array(rows * m), [...av.dims.slice(0, -1), m], node, stages));
        break;
      }
      case 'Add':
      case 'Sub': {
        const sign = node.opType === 'Sub' ? -1 : 1;
        const a = get(0);
        const b = get(1);
        if (a.kind === 'const' && b.kind === 'const') fail('constant folding of two constants is not supported; fold it at export');
        if (a.kind === 'dyn' && b.kind === 'dyn') {
          if (a.source !== b.source) out(addBranches(a, b, sign, node, fail));
          else out(polyCombine(a, b, (x, y) => x + sign * y));
        } else {
          const d = (a.kind === 'dyn' ? a : b) as Dyn;
          const c = broadcastVector((a.kind === 'const' ? a : b) as Const, d.dims);
          if (!c) fail(`constant does not broadcast to [batch, ${d.size}]`);
          const dynSign = a.kind === 'dyn' ? 1 : sign;
          const constSign = a.kind === 'dyn' ? sign : 1;
          const coeffs = d.coeffs.map((k) => k.map((v) => v * dynSign));
          coeffs[0] = coeffs[0]!.map((v, i) => v + constSign * c![i]!);
          out({ ...d, coeffs });
        }
        break;
      }
      case 'Mul':
      case 'Div': {
        const a = get(0);
        const b = get(1);
        if (node.opType === 'Div' && b.kind !== 'const') fail('division by an input-dependent tensor is not a polynomial');
        if (a.kind === 'const' && b.kind === 'const') fail('constant folding of two constants is not supported; fold it at export');
        if (a.kind === 'dyn' && b.kind === 'dyn') {
          if (a.source !== b.source) fail('multiplies two different intermediate tensors; only polynomials of one tensor are supported');
          out(checkDegree(polyMultiply(a, b), fail));
        } else {
          const d = (a.kind === 'dyn' ? a : b) as Dyn;
          const c = broadcastVector((a.kind === 'const' ? a : b) as Const, d.dims);
          if (!c) fail(`constant does not broadcast to [batch, ${d.size}]`);
          const f = node.opType === 'Div' ? c!.map((v) => 1 / v) : c!;
          if (f.some((v) => !Number.isFinite(v))) fail('division by zero');
          out({ ...d, coeffs: d.coeffs.map((k) => k.map((v, i) => v * f[i]!)) });
        }
        break;
      }
      case 'Neg': {
        const d = dynIn(0);
        out({ ...d, coeffs: d.coeffs.map((k) => k.map((v) => -v)) });
        break;
      }
      case 'Pow': {
        const d = dynIn(0);
        const e = get(1);
        const exp = e.kind === 'const' && e.data.length === 1 ? e.data[0]! : NaN;
        if (!(exp === 1 || exp === 2 || exp === 3)) fail('only integer exponents 1, 2 or 3 are polynomial activations Veil evaluates');
        let r: Dyn = d;
        for (let k = 1; k < exp; k++) r = polyMultiply(r, d);
        out(checkDegree(r, fail));
        break;
      }
      case 'Sigmoid':
      case 'Softmax':
      case 'ArgMax': {
        dynIn(0);
        if (node.outputs[0] !== outputName || (consumers.get(node.outputs[0] ?? '') ?? 0) > 0) {
          fail(`${node.opType} is not a polynomial; it is only supported as the final node (applied by the client after decryption)`);
        }
        if (node.opType !== 'Sigmoid') {
          const axis = numAttr(node, 'axis', node.opType === 'Softmax' ? -1 : 0);
          if (axis !== -1 && axis !== 1) fail(`${node.opType} over axis ${axis} is not supported (only the feature axis)`);
        }
        postprocess = node.opType.toLowerCase() as FhePostprocess;
        finalName = node.opType;
        resultName = node.inputs[0]!;
        break;
      }
      default:
        fail(`operator ${node.opType} is not supported in FHE plans (supported: ${SUPPORTED})`);
    }
  }
  let result = env.get(resultName);
  if (result?.kind === 'fn') result = materialiseFn(result, stages, (reason) => {
    throw new FheCompileError(reason, result?.kind === 'fn' ? result.node : undefined, 'activation');
  });
  if (!result || result.kind !== 'dyn') throw new FheCompileError(`the model output "${outputName}" does not depend on the input`);
  finish(result, stages);
  if (stages.length === 0) throw new FheCompileError('the model computes nothing from its input (identity)');
  return { inputName: input.name, inputSize, stages, postprocess, outputName };
}

function numAttr(node: OnnxNode, name: string, fallback: number): number {
  const v = node.attributes[name];
  return typeof v === 'number' ? v : fallback;
}

function identity(size: number): Float64Array[] {
  return [new Float64Array(size), new Float64Array(size).fill(1)];
}

function degree(coeffs: Float64Array[]): number {
  for (let k = coeffs.length - 1; k > 0; k--) if (coeffs[k]!.some((v) => v !== 0)) return k;
  return 0;
}

function isIdentity(coeffs: Float64Array[]): boolean {
  return degree(coeffs) === 1 && coeffs[0]!.every((v) => v === 0) && coeffs[1]!.every((v) => v === 1);
}

/**
 * Broadcasts a constant (NumPy rules, right-aligned) onto a value of shape [batch, ...dims] without growing it: a
 * scalar, [size], [1, size], a per-channel [C, 1, 1]… Returns the constant per flattened feature.
 */
function broadcastVector(c: Const, dims: number[]): Float64Array | undefined {
  const size = dims.reduce((a, b) => a * b, 1);
  if (c.data.length === 1) return new Float64Array(size).fill(c.data[0]!);
  const cd = [...c.dims];
  while (cd.length > dims.length && cd[0] === 1) cd.shift(); // leading 1s (the batch axis)
  if (cd.length > dims.length) return undefined;
  while (cd.length < dims.length) cd.unshift(1);
  if (cd.some((d, k) => d !== 1 && d !== dims[k])) return undefined;
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let rem = i;
    let src = 0;
    let stride = 1;
    for (let k = dims.length - 1; k >= 0; k--) {
      const idx = rem % dims[k]!;
      rem = Math.floor(rem / dims[k]!);
      if (cd[k] !== 1) src += idx * stride;
      stride *= cd[k]!;
    }
    out[i] = c.data[src]!;
  }
  return out;
}

function polyCombine(a: Dyn, b: Dyn, f: (x: number, y: number) => number): Dyn {
  const len = Math.max(a.coeffs.length, b.coeffs.length);
  const zero = new Float64Array(a.size);
  const coeffs = Array.from({ length: len }, (_, k) => (a.coeffs[k] ?? zero).map((v, i) => f(v, (b.coeffs[k] ?? zero)[i]!)));
  return { ...a, coeffs };
}

function polyMultiply(a: Dyn, b: Dyn): Dyn {
  const da = degree(a.coeffs);
  const db = degree(b.coeffs);
  const coeffs = Array.from({ length: da + db + 1 }, () => new Float64Array(a.size));
  for (let i = 0; i <= da; i++) for (let j = 0; j <= db; j++) {
    const ai = a.coeffs[i]!;
    const bj = b.coeffs[j]!;
    const t = coeffs[i + j]!;
    for (let s = 0; s < a.size; s++) t[s]! += ai[s]! * bj[s]!;
  }
  return { ...a, coeffs };
}

function checkDegree(d: Dyn, fail: (reason: string) => never): Dyn {
  const deg = degree(d.coeffs);
  if (deg > MAX_DEGREE) fail(`polynomial activation of degree ${deg} exceeds the supported degree ${MAX_DEGREE}`);
  return d;
}

/** Materialises a source's pending affine map as a linear stage (once). */
function materialise(s: Source, stages: Stage[]): number {
  if (!s.lin) return s.base;
  if (s.stage === undefined) {
    stages.push({ kind: 'linear', name: s.lin.name, op: s.lin.op, weights: s.lin.weights, bias: s.lin.bias, inputSize: s.lin.n, outputSize: s.lin.m });
    s.stage = stages.length - 1;
  }
  return s.stage;
}

/**
 * A dense layer applied to a value. Affine values fold into the layer (W·(c1⊙z + c0) + b = (W·diag(c1))·z + W·c0 + b)
 * and a pending dense layer is multiplied in, so chains of affine ops become one matrix. A value of degree ≥ 2 is
 * materialised as a polynomial stage first.
 */
function applyLinear(v: Dyn, w: Float64Array, b: Float64Array, outDims: number[], node: OnnxNode, stages: Stage[]): Dyn {
  const n = v.size;
  const m = outDims.reduce((x, y) => x * y, 1);
  const dims = outDims;
  if (degree(v.coeffs) <= 1) {
    const c0 = v.coeffs[0]!;
    const c1 = v.coeffs[1] ?? new Float64Array(n);
    const a = new Float64Array(m * n);
    const bias = Float64Array.from(b);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      a[i * n + j] = w[i * n + j]! * c1[j]!;
      bias[i]! += w[i * n + j]! * c0[j]!;
    }
    const prev = v.source.lin;
    if (prev) {
      // (A·W1) and A·b1 + a: the two dense layers collapse into one.
      const k = prev.n;
      const composed = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        const aij = a[i * n + j]!;
        if (aij === 0) continue;
        for (let t = 0; t < k; t++) composed[i * k + t]! += aij * prev.weights[j * k + t]!;
        bias[i]! += aij * prev.bias[j]!;
      }
      return { kind: 'dyn', source: { base: v.source.base, lin: { weights: composed, bias, m, n: k, name: node.name, op: node.opType } }, coeffs: identity(m), size: m, dims };
    }
    return { kind: 'dyn', source: { base: v.source.base, lin: { weights: a, bias, m, n, name: node.name, op: node.opType } }, coeffs: identity(m), size: m, dims };
  }
  let emitted = v.source.emitted?.get(v.coeffs);
  if (!emitted) {
    materialise(v.source, stages);
    stages.push({ kind: 'poly', name: v.node ?? `${node.name}:activation`, op: 'Poly', coeffs: v.coeffs.slice(0, degree(v.coeffs) + 1), size: n });
    emitted = { kind: 'dyn', source: { base: stages.length - 1 }, coeffs: identity(n), size: n, dims: v.dims };
    (v.source.emitted ??= new Map()).set(v.coeffs, emitted);
  }
  const polyStage = emitted.source.base;
  return { kind: 'dyn', source: { base: polyStage, lin: { weights: w, bias: b, m, n, name: node.name, op: node.opType } }, coeffs: identity(m), size: m, dims };
}

/** Emits whatever the final value still needs; an affine tail folds into the pending dense layer (diag(c1)·W, c1⊙b + c0). */
function finish(v: Dyn, stages: Stage[]): void {
  const deg = degree(v.coeffs);
  const lin = v.source.lin;
  if (deg <= 1 && lin) {
    const c0 = v.coeffs[0]!;
    const c1 = v.coeffs[1] ?? new Float64Array(v.size);
    const weights = new Float64Array(lin.m * lin.n);
    const bias = new Float64Array(lin.m);
    for (let i = 0; i < lin.m; i++) {
      for (let j = 0; j < lin.n; j++) weights[i * lin.n + j] = c1[i]! * lin.weights[i * lin.n + j]!;
      bias[i] = c1[i]! * lin.bias[i]! + c0[i]!;
    }
    materialise({ base: v.source.base, lin: { ...lin, weights, bias } }, stages);
    return;
  }
  materialise(v.source, stages);
  if (isIdentity(v.coeffs)) return;
  if (deg === 0) throw new FheCompileError('the model output is a constant');
  stages.push({ kind: 'poly', name: v.node ?? 'output:activation', op: 'Poly', coeffs: v.coeffs.slice(0, deg + 1), size: v.size });
}

/** Value of a polynomial Dyn at feature i for source output u. */
function polyAtFeature(coeffs: Float64Array[], i: number, u: number): number {
  let y = 0;
  for (let k = coeffs.length - 1; k >= 0; k--) y = y * u + coeffs[k]![i]!;
  return y;
}

/** Any input-dependent value as a function of its source output. */
function asFn(v: Dyn | Fn): Fn {
  if (v.kind === 'fn') return v;
  const coeffs = v.coeffs;
  return { kind: 'fn', source: v.source, f: (u, i) => polyAtFeature(coeffs, i, u), size: v.size, dims: v.dims, ops: [], node: v.node, memo: {} };
}

function applyFn(v: Dyn | Fn, g: (x: number) => number, op: string): Fn {
  const inner = asFn(v);
  const f = inner.f;
  return { ...inner, f: (u, i) => g(f(u, i)), ops: [...inner.ops, op], memo: {} };
}

/**
 * Add/Sub/Mul/Div/Neg/Pow with a non-polynomial operand: the result is still one function of the same layer output
 * (x·Sigmoid(x) = SiLU, 0.5·x·(1 + Erf(x/√2)) = GELU), or the graph mixes two tensors, which CKKS plans cannot.
 */
function combineFn(node: OnnxNode, a: Value, b: Value | undefined, fail: (reason: string) => never): Fn {
  const op = node.opType;
  if (op === 'Neg') return applyFn(a as Fn, (x) => -x, 'Neg');
  if (op === 'Pow') {
    const exp = b?.kind === 'const' && b.data.length === 1 ? b.data[0]! : NaN;
    if (!Number.isFinite(exp)) fail('the exponent must be a scalar constant');
    return { ...applyFn(a as Fn, (x) => x ** exp, 'Pow'), ops: (a as Fn).ops };
  }
  if (!b) fail(`${op} needs two inputs`);
  const dyn = [a, b].filter((v): v is Dyn | Fn => v.kind !== 'const').map(asFn);
  const size = dyn[0]!.size;
  if (dyn.length === 2 && dyn[0]!.source !== dyn[1]!.source) fail(`combines two different intermediate tensors; only functions of one tensor are supported`);
  if (dyn.some((d) => d.size !== size)) fail('operands have different feature counts');
  const operand = (v: Value): ((u: number, i: number) => number) => {
    if (v.kind !== 'const') return asFn(v).f;
    const c = broadcastVector(v, dyn[0]!.dims);
    if (!c) fail(`constant does not broadcast to [batch, ${size}]`);
    return (_u, i) => c![i]!;
  };
  const fa = operand(a);
  const fb = operand(b!);
  if (op === 'Div' && b!.kind !== 'const') fail('division by an input-dependent tensor is not supported');
  const f: (u: number, i: number) => number =
    op === 'Add' ? (u, i) => fa(u, i) + fb(u, i)
      : op === 'Sub' ? (u, i) => fa(u, i) - fb(u, i)
        : op === 'Mul' ? (u, i) => fa(u, i) * fb(u, i)
          : (u, i) => fa(u, i) / fb(u, i);
  const ops = [...new Set(dyn.flatMap((d) => d.ops))];
  return { kind: 'fn', source: dyn[0]!.source, f, size, dims: dyn[0]!.dims, ops, memo: {} };
}

/**
 * Emits a non-polynomial value as an activation stage right after its dense layer (the compiler folds the
 * approximation's input scaling into that layer, so the activation must read a dense layer's output).
 */
function materialiseFn(v: Fn, stages: Stage[], fail: (reason: string) => never): Dyn {
  if (v.memo.stage) return v.memo.stage;
  if (!v.source.lin) fail(`the activation ${v.ops.join(', ')} must directly follow a dense layer (Gemm/MatMul)`);
  materialise(v.source, stages);
  stages.push({ kind: 'activation', name: v.node ?? 'activation', op: v.ops.join('+') || 'Activation', f: v.f, size: v.size });
  v.memo.stage = { kind: 'dyn', source: { base: stages.length - 1 }, coeffs: identity(v.size), size: v.size, dims: v.dims };
  return v.memo.stage;
}

/** A Gemm/MatMul operand: a non-polynomial value becomes its activation stage first. */
function dynOrFnIn(v: Value, i: number, fail: (reason: string) => never, stages: Stage[]): Dyn {
  if (v.kind === 'fn') return materialiseFn(v, stages, fail);
  if (v.kind !== 'dyn') fail(`input ${i} must depend on the model input`);
  return v as Dyn;
}

/**
 * Reshape of a value that keeps the batch axis first: the target's first entry is the batch (-1, 0 or a fixed batch
 * size), the rest must hold the same features (one -1 inferred, 0 copies the input's size on that axis). A rank-1
 * target ([features] or [-1]) is accepted as before (single rows).
 */
function reshapeDims(dims: number[], target: number[], fail: (reason: string) => never): number[] {
  const size = dims.reduce((a, b) => a * b, 1);
  const bad = (): never => fail(`reshape to [${target.join(', ')}] changes the [batch, ${dims.join(', ')}] feature layout (the batch axis must stay first)`);
  if (target.length === 1) return target[0] === size || target[0] === -1 ? [size] : bad();
  if (!(Number.isNaN(target[0]) || target[0]! >= -1)) bad(); // NaN: the batch size, from Shape
  const rest = target.slice(1).map((d, k) => (d === 0 ? dims[k] ?? bad() : d));
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = rest.filter((d) => d === -1).length;
  if (rest.some((d) => d === 0 || d < -1) || free > 1 || (free === 1 && target[0] === -1)) bad();
  if (free === 1) {
    if (known === 0 || size % known !== 0) bad();
    return rest.map((d) => (d === -1 ? size / known : d));
  }
  return known === size ? rest : bad();
}

/** Unsqueeze / Squeeze of the non-batch axes (axis 0 would move the batch axis: refused). */
function squeezeDims(dims: number[], axes: number[] | undefined, unsqueeze: boolean, fail: (reason: string) => never): number[] {
  const full: number[] = [NaN, ...dims];
  if (unsqueeze) {
    if (!axes || axes.length === 0) fail('Unsqueeze needs its axes');
    const rank = full.length + axes!.length;
    const norm = axes!.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    if (norm.some((a) => a <= 0 || a >= rank)) fail(`axes [${axes!.join(', ')}] would move the batch axis`);
    for (const a of norm) full.splice(a, 0, 1);
    return full.slice(1);
  }
  const norm = (axes ?? dims.flatMap((d, k) => (d === 1 ? [k + 1] : []))).map((a) => (a < 0 ? a + full.length : a));
  if (norm.some((a) => a <= 0 || a >= full.length || full[a] !== 1)) fail(`axes [${(axes ?? []).join(', ')}] are not size-1 feature axes`);
  return full.slice(1).filter((_, k) => !norm.includes(k + 1));
}

/** The permutation matrix of a transpose of the feature axes (perm over dims, without the batch axis). */
function transposeMatrix(dims: number[], perm: number[]): Float64Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = dims.map((_, k) => dims.slice(k + 1).reduce((a, b) => a * b, 1));
  const w = new Float64Array(size * size);
  for (let o = 0; o < size; o++) {
    let rem = o;
    let src = 0;
    for (let k = outDims.length - 1; k >= 0; k--) {
      src += (rem % outDims[k]!) * inStrides[perm[k]!]!;
      rem = Math.floor(rem / outDims[k]!);
    }
    w[o * size + src] = 1;
  }
  return w;
}

type BatchNormParameters = { scale: Float64Array; shift: Float64Array; mean: Float64Array; variance: Float64Array; epsilon: number };

/**
 * Inference BatchNormalization y = γ(x − μ)/√(σ² + ε) + β per channel (axis 1), an affine map per feature. After a
 * dense layer (Conv/Gemm) with nothing non-affine between, it is folded into that layer's rows and bias, so the layer
 * output is what the next activation is calibrated on; elsewhere (after an activation) it stays an affine term of the
 * value, which the next dense layer absorbs.
 */
function batchNorm(v: Dyn, p: BatchNormParameters, fail: (reason: string) => never): Dyn {
  const channels = v.dims.length > 1 ? v.dims[0]! : v.size;
  if ([p.scale, p.shift, p.mean, p.variance].some((t) => t.length !== channels)) fail(`the parameters do not have one value per channel (${channels})`);
  const per = v.size / channels;
  const s = new Float64Array(v.size);
  const t = new Float64Array(v.size);
  for (let i = 0; i < v.size; i++) {
    const c = Math.floor(i / per);
    s[i] = p.scale[c]! / Math.sqrt(p.variance[c]! + p.epsilon);
    t[i] = p.shift[c]! - p.mean[c]! * s[i]!;
  }
  const lin = v.source.lin;
  if (lin && degree(v.coeffs) <= 1) {
    const c0 = v.coeffs[0]!;
    const c1 = v.coeffs[1] ?? new Float64Array(v.size);
    const weights = new Float64Array(lin.weights.length);
    const bias = new Float64Array(lin.m);
    for (let i = 0; i < lin.m; i++) {
      const a = s[i]! * c1[i]!;
      for (let j = 0; j < lin.n; j++) weights[i * lin.n + j] = a * lin.weights[i * lin.n + j]!;
      bias[i] = a * lin.bias[i]! + s[i]! * c0[i]! + t[i]!;
    }
    return { ...v, source: { base: v.source.base, lin: { ...lin, weights, bias } }, coeffs: identity(v.size) };
  }
  const coeffs = v.coeffs.map((k) => k.map((x, i) => x * s[i]!));
  coeffs[0] = coeffs[0]!.map((x, i) => x + t[i]!);
  return { ...v, coeffs };
}

/** A degree ≤ 1 value as one affine map of its base tensor: rows diag(c1)·W (W = identity when nothing is pending). */
function affineOfBase(v: Dyn): { weights: Float64Array; bias: Float64Array; n: number } {
  const c0 = v.coeffs[0]!;
  const c1 = v.coeffs[1] ?? new Float64Array(v.size);
  const lin = v.source.lin;
  const n = lin ? lin.n : v.size;
  const weights = new Float64Array(v.size * n);
  const bias = new Float64Array(v.size);
  for (let i = 0; i < v.size; i++) {
    if (lin) {
      for (let j = 0; j < n; j++) weights[i * n + j] = c1[i]! * lin.weights[i * n + j]!;
      bias[i] = c1[i]! * lin.bias[i]! + c0[i]!;
    } else {
      weights[i * n + i] = c1[i]!;
      bias[i] = c0[i]!;
    }
  }
  return { weights, bias, n };
}

/**
 * a ± b for two branches of the graph (a residual connection). When both are affine in the same materialised tensor
 * (e.g. h + Conv(h), the block's input and a linear branch read from one activation's output) the sum is one dense
 * map of that tensor, folded like any other. Branches from different layers would need the earlier ciphertext kept
 * at its level beside the later one (a second layout at another depth), which the plan does not do: refused.
 */
function addBranches(a: Dyn, b: Dyn, sign: number, node: OnnxNode, fail: (reason: string) => never): Dyn {
  if (a.size !== b.size || a.dims.join() !== b.dims.join()) fail(`adds branches of different shapes [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  if (a.source.base !== b.source.base) {
    fail('adds two branches that leave different layers (a skip connection across an activation); only branches that are affine in one tensor (e.g. h + Conv(h)) are supported');
  }
  if (degree(a.coeffs) > 1 || degree(b.coeffs) > 1) fail('adds a polynomial branch to another branch; only affine branches of one tensor are supported');
  const x = affineOfBase(a);
  const y = affineOfBase(b);
  if (x.n !== y.n) fail('adds branches that read tensors of different sizes');
  const weights = x.weights.map((w, k) => w + sign * y.weights[k]!);
  const bias = x.bias.map((v, k) => v + sign * y.bias[k]!);
  return { kind: 'dyn', source: { base: a.source.base, lin: { weights, bias, m: a.size, n: x.n, name: node.name, op: node.opType } }, coeffs: identity(a.size), size: a.size, dims: a.dims };
}
