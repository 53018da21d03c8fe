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
  const c = inDims[0]!;
  const area = inDims.slice(1).reduce((a, b) => a * b, 1);
  const n = c * area;
  const weights = new Float64Array(c * n);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < area; p++) weights[ch * n + ch * area + p] = 1 / area;
  return { weights, bias: new Float64Array(c), outDims: [c, ...inDims.slice(1).map(() => 1)] };
}
