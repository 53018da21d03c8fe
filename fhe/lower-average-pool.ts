import type { OnnxAttributeValue } from '../onnx';
import { windowAxes, type LoweredLayer } from './lower-conv';

/**
 * AveragePool (2-D) on a fixed [C, H, W] input as a dense map: each output is the mean of its window's taps in its
 * own channel. The divisor is the window size (count_include_pad=1) or the number of taps inside the input
 * (count_include_pad=0, ONNX's default), as onnxruntime computes it.
 */
export function lowerAveragePool(attrs: Record<string, OnnxAttributeValue>, inDims: number[], fail: (reason: string) => never): LoweredLayer {
  if (inDims.length !== 3) fail(`only 2-D pooling on [batch, C, H, W] is supported (the input is [batch, ${inDims.join(', ')}])`);
  const [c, h, w] = inDims as [number, number, number];
  const shape = attrs.kernel_shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1)) fail('kernel_shape must be two positive integers');
  const [kh, kw] = shape as [number, number];
  const includePad = attrs.count_include_pad === 1;
  const [ay, ax] = windowAxes(attrs, [h, w], [kh, kw], fail);
  const n = c * h * w;
  const outs = c * ay.out * ax.out;
  const weights = new Float64Array(outs * n);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < ay.out; y++) for (let x = 0; x < ax.out; x++) {
    const row = (ch * ay.out + y) * ax.out + x;
    const taps: number[] = [];
    for (let i = 0; i < kh; i++) {
      const iy = y * ay.stride - ay.padBegin + i * ay.dilation;
      if (iy < 0 || iy >= h) continue;
      for (let j = 0; j < kw; j++) {
        const ix = x * ax.stride - ax.padBegin + j * ax.dilation;
        if (ix >= 0 && ix < w) taps.push((ch * h + iy) * w + ix);
      }
    }
    const divisor = includePad ? kh * kw : taps.length;
    for (const t of taps) weights[row * n + t]! += 1 / divisor;
  }
  return { weights, bias: new Float64Array(outs), outDims: [c, ay.out, ax.out] };
}

/** GlobalAveragePool on [C, ...spatial]: the mean over each channel's spatial positions, output [C, 1, …, 1]. */
export function lowerGlobalAveragePool(inDims: number[], fail: (reason: string) => never): LoweredLayer {
  if (inDims.length < 2) fail(`GlobalAveragePool needs [batch, C, spatial…] (the input is [batch, ${inDims.join(', ')}])`);
  return lowerReduce(inDims, inDims.slice(1).map((_, k) => k + 1), true, true);
}

/**
 * ReduceMean / ReduceSum over feature axes (indices into `inDims`, the shape without the batch axis) as a dense map;
 * the dynamo exporter writes adaptive_avg_pool2d(x, 1) as ReduceMean over the spatial axes.
 */
export function lowerReduce(inDims: number[], axes: number[], keepDims: boolean, mean: boolean): LoweredLayer {
  const reduced = new Set(axes);
  const kept = inDims.map((d, k) => (reduced.has(k) ? 1 : d));
  const n = inDims.reduce((a, b) => a * b, 1);
  const outs = kept.reduce((a, b) => a * b, 1);
  const count = n / outs;
  const weights = new Float64Array(outs * n);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let row = 0;
    let stride = 1;
    for (let k = inDims.length - 1; k >= 0; k--) {
      const idx = rem % inDims[k]!;
      rem = Math.floor(rem / inDims[k]!);
      if (!reduced.has(k)) row += idx * stride;
      stride *= kept[k]!;
    }
    weights[row * n + i] = mean ? 1 / count : 1;
  }
  const outDims = keepDims ? kept : inDims.filter((_, k) => !reduced.has(k));
  return { weights, bias: new Float64Array(outs), outDims: outDims.length ? outDims : [1] };
}
