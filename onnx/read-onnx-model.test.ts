import * as ort from 'onnxruntime-node';
import { readOnnxModel } from './read-onnx-model';
import { writeOnnxModel } from './write-onnx-model';
import { OnnxError } from './onnx-error';

const W = [0.5, -1.25, 2, 0.75, -0.5, 1]; // 3×2
const b = [0.1, -0.2];

function buildGemmModel(): Uint8Array {
  return writeOnnxModel({
    producerName: 'veil-test',
    graph: {
      name: 'g',
      nodes: [
        { name: 'fc', opType: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attributes: { alpha: { float: 1 }, transB: { int: 0 } } },
        { name: 'shape', opType: 'Reshape', inputs: ['y', 'shape'], outputs: ['out'] },
      ],
      initializers: [
        { name: 'W', dims: [3, 2], values: W },
        { name: 'b', dims: [2], values: b },
        { name: 'shape', dims: [2], dataType: 'int64', values: [-1, 2] },
      ],
      inputs: [{ name: 'x', shape: ['batch', 3] }],
      outputs: [{ name: 'out', shape: ['batch', 2] }],
    },
  });
}

describe('readOnnxModel', () => {
  test('round-trips what writeOnnxModel wrote, and onnxruntime agrees with the decoded weights', async () => {
    const bytes = buildGemmModel();
    const model = readOnnxModel(bytes);
    expect(model.opsetVersion).toBe(17);
    expect(model.irVersion).toBe(8);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Reshape']);
    expect(model.graph.nodes[0]!.attributes).toEqual({ alpha: 1, transB: 0 });
    expect(model.graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 3] }]);
    expect(Array.from(model.graph.initializers.get('shape')!.data)).toEqual([-1, 2]);
    const w = model.graph.initializers.get('W')!;
    expect(w.dims).toEqual([3, 2]);
    expect(Array.from(w.data)).toEqual(W);

    const session = await ort.InferenceSession.create(bytes);
    const x = [1, 2, 3];
    const { out } = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 3]) });
    const expected = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * W[i * 2 + j]!, b[j]!));
    Array.from(out!.data as Float32Array).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
    await session.release();
  });

  test('writes byte-identical output for identical parameters', () => {
    expect(Buffer.from(buildGemmModel()).equals(Buffer.from(buildGemmModel()))).toBe(true);
  });

  test('error: random bytes are refused as onnx_malformed', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (let trial = 0; trial < 200; trial++) {
      const bytes = Uint8Array.from({ length: 1 + (trial % 64) }, rand);
      try {
        readOnnxModel(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(OnnxError);
      }
    }
    expect(() => readOnnxModel(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(OnnxError);
    expect(() => readOnnxModel(new Uint8Array(0))).toThrow(/no graph/);
  });

  test('error: truncated model is refused with a typed error', () => {
    const bytes = buildGemmModel();
    for (let cut = 1; cut < bytes.length; cut += 7) {
      try {
        readOnnxModel(bytes.subarray(0, cut));
      } catch (err) {
        expect(err).toBeInstanceOf(OnnxError);
      }
    }
  });
});
