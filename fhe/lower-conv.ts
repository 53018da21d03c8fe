import type { OnnxAttributeValue } from '../onnx';

/**
 * A layer on a fixed-shape image as the dense map it is: y = W·x + b over the flattened (row-major [C, H, W])
 * tensors, W row-major (outputs × inputs). The plan packs it like any Gemm (BSGS diagonals), so a convolution or pool
 * costs one level and the rotations its diagonals need, and folds into a neighbouring dense layer for free.
 */
export type LoweredLayer = { weights: Float64Array; bias: Float64Array; outDims: number[] };

/** Window geometry along one spatial axis: output length, padding before. */
type Axis = { size: number; out: number; padBegin: number; kernel: number; stride: number; dilation: number };

const ints = (v: OnnxAttributeValue | undefined): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);

/**
 * Resolves ONNX's pads/strides/dilations/auto_pad for a 2-D window op (Conv, AveragePool) on an [H, W] input.
 * ceil_mode is accepted only where it gives the floor shape (otherwise windows run past the padding and the op's
 * divisor rules differ between runtimes).
 */
export function windowAxes(attrs: Record<string, OnnxAttributeValue>, spatial: [number, number], kernel: [number, number], fail: (reason: string) => never): [Axis, Axis] {
  const strides = ints(attrs.strides) ?? [1, 1];
  const dilations = ints(attrs.dilations) ?? [1, 1];
  const pads = ints(attrs.pads) ?? [0, 0, 0, 0];
  const autoPad = typeof attrs.auto_pad === 'string' ? attrs.auto_pad : 'NOTSET';
  const ceil = attrs.ceil_mode === 1;
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4) fail('only 2-D windows (strides, dilations of length 2, pads of length 4) are supported');
  if ([...strides, ...dilations].some((v) => !Number.isInteger(v) || v < 1) || pads.some((v) => !Number.isInteger(v) || v < 0)) fail('strides, dilations and pads must be non-negative integers (strides, dilations ≥ 1)');
  return [0, 1].map((a) => {
    const size = spatial[a]!;
    const k = kernel[a]!;
    const stride = strides[a]!;
    const dilation = dilations[a]!;
    const reach = dilation * (k - 1) + 1;
    let padBegin = pads[a]!;
    let padEnd = pads[a + 2]!;
    if (autoPad === 'VALID') padBegin = padEnd = 0;
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(size / stride);
      const total = Math.max(0, (out - 1) * stride + reach - size);
      padBegin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      padEnd = total - padBegin;
    } else if (autoPad !== 'NOTSET') fail(`auto_pad "${autoPad}" is not supported`);
    const span = size + padBegin + padEnd - reach;
    if (span < 0) fail(`the window (${reach} wide) is larger than the padded input (${size + padBegin + padEnd})`);
    const out = Math.floor(span / stride) + 1;
    if (ceil && Math.ceil(span / stride) + 1 !== out) fail('ceil_mode=1 with a window that runs past the padding is not supported; use ceil_mode=0 or padding that divides evenly');
    return { size, out, padBegin, kernel: k, stride, dilation };
  }) as [Axis, Axis];
}

/**
 * Conv (2-D, any stride, padding, dilation and group count) on an input of fixed shape [C, H, W], as a dense map
 * from C·H·W inputs to M·Ho·Wo outputs: output (o, y, x) = b_o + Σ_{c in o's group, i, j} K[o][c][i][j]·in(c, y·s − p + i·d, x·s − p + j·d),
 * zero-padded taps dropped. Most entries are zero; the plan only packs diagonals with a nonzero entry.
 */
export function lowerConv(
  attrs: Record<string, OnnxAttributeValue>,
  inDims: number[],
  kernel: { dims: number[]; data: Float64Array },
  bias: Float64Array | undefined,
  fail: (reason: string) => never,
): LoweredLayer {
  if (inDims.length !== 3) fail(`only 2-D convolutions on [batch, C, H, W] are supported (the input is [batch, ${inDims.join(', ')}])`);
  if (kernel.dims.length !== 4) fail(`the kernel must be [M, C/group, kH, kW] (got [${kernel.dims.join(', ')}])`);
  const [c, h, w] = inDims as [number, number, number];
  const [m, cg, kh, kw] = kernel.dims as [number, number, number, number];
  const group = typeof attrs.group === 'number' ? attrs.group : 1;
  if (!Number.isInteger(group) || group < 1 || c % group !== 0 || m % group !== 0 || cg !== c / group) {
    fail(`kernel [${kernel.dims.join(', ')}] with group=${group} does not fit ${c} input channels`);
  }
  const shape = ints(attrs.kernel_shape);
  if (shape && (shape[0] !== kh || shape[1] !== kw)) fail(`kernel_shape [${shape.join(', ')}] disagrees with the kernel [${kh}, ${kw}]`);
  if (bias && bias.length !== m) fail(`the bias has ${bias.length} values for ${m} output channels`);
  const [ay, ax] = windowAxes(attrs, [h, w], [kh, kw], fail);
  const n = c * h * w;
  const outs = m * ay.out * ax.out;
  const weights = new Float64Array(outs * n);
  const b = new Float64Array(outs);
  const perGroup = m / group;
  for (let o = 0; o < m; o++) {
    const c0 = Math.floor(o / perGroup) * cg;
    for (let y = 0; y < ay.out; y++) for (let x = 0; x < ax.out; x++) {
      const row = (o * ay.out + y) * ax.out + x;
      b[row] = bias ? bias[o]! : 0;
      for (let ci = 0; ci < cg; ci++) for (let i = 0; i < kh; i++) {
        const iy = y * ay.stride - ay.padBegin + i * ay.dilation;
        if (iy < 0 || iy >= h) continue;
        for (let j = 0; j < kw; j++) {
          const ix = x * ax.stride - ax.padBegin + j * ax.dilation;
          if (ix < 0 || ix >= w) continue;
          weights[row * n + ((c0 + ci) * h + iy) * w + ix]! += kernel.data[((o * cg + ci) * kh + i) * kw + j]!;
        }
      }
    }
  }
  return { weights, bias: b, outDims: [m, ay.out, ax.out] };
}
