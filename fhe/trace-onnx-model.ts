import type { OnnxModel, OnnxNode, OnnxTensor } from '../onnx';
import { activationFunction } from './activation-functions';
import { FheCompileError } from './errors';
import type { FhePostprocess } from './fhe-plan';

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

const SUPPORTED = 'Gemm, MatMul, Add, Sub, Mul, Div, Neg, Pow (2 or 3), Flatten, Reshape, Identity, Constant; '
  + 'Relu, LeakyRelu, Sigmoid, Tanh, Softplus, Gelu, Erf (calibrated); final Sigmoid/Softmax/ArgMax';
const MAX_DEGREE = 3;
const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow']);

/* A materialised tensor (the model input or a stage output) possibly followed by a pending affine map. */
type Source = { base: number; lin?: { weights: Float64Array; bias: Float64Array; m: number; n: number; name: string; op: string }; stage?: number };
/* A dynamic value: an elementwise polynomial (per-feature coefficients) of a source's (pending) output. */
type Dyn = { kind: 'dyn'; source: Source; coeffs: Float64Array[]; size: number; /** last elementwise node */ node?: string };
/* A dynamic value that is a non-polynomial function of a source's (pending) output u: y_i = f(u_i, i). */
type Fn = { kind: 'fn'; source: Source; f: (u: number, i: number) => number; size: number; ops: string[]; node?: string };
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
  const last = shape[shape.length - 1];
  if (typeof last !== 'number' || last < 1 || shape.slice(0, -1).some((d) => typeof d === 'number' && d !== 1 && shape.length > 2)) {
    throw new FheCompileError(`input "${input.name}" must have shape [batch, features] with a fixed feature count (got [${shape.join(', ')}])`);
  }
  const inputSize = last;
  const stages: Stage[] = [];
  const env = new Map<string, Value>();
  for (const [name, t] of g.initializers) env.set(name, { kind: 'const', dims: t.dims, data: t.data });
  env.set(input.name, { kind: 'dyn', source: { base: -1 }, coeffs: identity(inputSize), size: inputSize });
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
      case 'Flatten':
        out(get(0));
        break;
      case 'Reshape': {
        const v = get(0);
        const target = get(1);
        if (v.kind !== 'const') {
          if (target.kind !== 'const') fail('the target shape must be a constant');
          const dims = Array.from((target as Const).data);
          const lastDim = dims[dims.length - 1];
          const ok = dims.length >= 1 && (lastDim === v.size || (lastDim === -1 && dims.slice(0, -1).every((d) => d === 1 || d === 0 || d === -1)))
            && dims.slice(0, -1).every((d) => d === -1 || d === 1 || d === 0);
          if (!ok) fail(`reshape to [${dims.join(', ')}] changes the [batch, ${v.size}] feature layout`);
          out(v);
        } else out(v);
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
          const cb = broadcastVector(cv as Const, m);
          if (!cb) fail(`bias of shape [${(cv as Const).dims.join(', ')}] does not broadcast to [${m}]`);
          for (let i = 0; i < m; i++) bias[i] = beta * cb![i]!;
        }
        out(applyLinear(a, w, bias, m, node, stages));
        break;
      }
      case 'MatMul': {
        const a0 = get(0);
        const a = a0.kind === 'fn' ? dynOrFnIn(a0, 0, fail, stages) : a0;
        const b = get(1);
        if (a.kind !== 'dyn' || b.kind !== 'const') fail('only MatMul(input-dependent [batch, n], constant [n, m]) is supported');
        const bc = b as Const;
        const av = a as Dyn;
        if (bc.dims.length !== 2 || bc.dims[0] !== av.size) fail(`weight of shape [${bc.dims.join(', ')}] does not multiply [batch, ${av.size}]`);
        const m = bc.dims[1]!;
        const n = av.size;
        const w = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[i * n + j] = bc.data[j * m + i]!;
        out(applyLinear(av, w, new Float64Array(m), m, node, stages));
        break;
      }
      case 'Add':
      case 'Sub': {
        const sign = node.opType === 'Sub' ? -1 : 1;
        const a = get(0);
        const b = get(1);
        if (a.kind === 'const' && b.kind === 'const') fail('constant folding of two constants is not supported; fold it at export');
        if (a.kind === 'dyn' && b.kind === 'dyn') {
          if (a.source !== b.source) fail('adds two different intermediate tensors; only polynomials of one tensor are supported');
          out(polyCombine(a, b, (x, y) => x + sign * y));
        } else {
          const d = (a.kind === 'dyn' ? a : b) as Dyn;
          const c = broadcastVector((a.kind === 'const' ? a : b) as Const, d.size);
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
          const c = broadcastVector((a.kind === 'const' ? a : b) as Const, d.size);
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

/** Broadcasts a constant to a per-feature vector: scalar, [size], [1, size] (or [1]…). */
function broadcastVector(c: Const, size: number): Float64Array | undefined {
  if (c.data.length === 1) return new Float64Array(size).fill(c.data[0]!);
  const dims = c.dims.filter((d, i) => !(d === 1 && i < c.dims.length - 1));
  if (dims.length === 1 && dims[0] === size && c.data.length === size) return Float64Array.from(c.data);
  return undefined;
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
function applyLinear(v: Dyn, w: Float64Array, b: Float64Array, m: number, node: OnnxNode, stages: Stage[]): Dyn {
  const n = v.size;
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
      return { kind: 'dyn', source: { base: v.source.base, lin: { weights: composed, bias, m, n: k, name: node.name, op: node.opType } }, coeffs: identity(m), size: m };
    }
    return { kind: 'dyn', source: { base: v.source.base, lin: { weights: a, bias, m, n, name: node.name, op: node.opType } }, coeffs: identity(m), size: m };
  }
  const base = materialise(v.source, stages);
  void base;
  stages.push({ kind: 'poly', name: v.node ?? `${node.name}:activation`, op: 'Poly', coeffs: v.coeffs.slice(0, degree(v.coeffs) + 1), size: n });
  const polyStage = stages.length - 1;
  return { kind: 'dyn', source: { base: polyStage, lin: { weights: w, bias: b, m, n, name: node.name, op: node.opType } }, coeffs: identity(m), size: m };
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
  return { kind: 'fn', source: v.source, f: (u, i) => polyAtFeature(coeffs, i, u), size: v.size, ops: [], node: v.node };
}

function applyFn(v: Dyn | Fn, g: (x: number) => number, op: string): Fn {
  const inner = asFn(v);
  const f = inner.f;
  return { ...inner, f: (u, i) => g(f(u, i)), ops: [...inner.ops, op] };
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
    const c = broadcastVector(v, size);
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
  return { kind: 'fn', source: dyn[0]!.source, f, size, ops };
}

/**
 * Emits a non-polynomial value as an activation stage right after its dense layer (the compiler folds the
 * approximation's input scaling into that layer, so the activation must read a dense layer's output).
 */
function materialiseFn(v: Fn, stages: Stage[], fail: (reason: string) => never): Dyn {
  if (!v.source.lin) fail(`the activation ${v.ops.join(', ')} must directly follow a dense layer (Gemm/MatMul)`);
  materialise(v.source, stages);
  stages.push({ kind: 'activation', name: v.node ?? 'activation', op: v.ops.join('+') || 'Activation', f: v.f, size: v.size });
  return { kind: 'dyn', source: { base: stages.length - 1 }, coeffs: identity(v.size), size: v.size };
}

/** A Gemm/MatMul operand: a non-polynomial value becomes its activation stage first. */
function dynOrFnIn(v: Value, i: number, fail: (reason: string) => never, stages: Stage[]): Dyn {
  if (v.kind === 'fn') return materialiseFn(v, stages, fail);
  if (v.kind !== 'dyn') fail(`input ${i} must depend on the model input`);
  return v as Dyn;
}
