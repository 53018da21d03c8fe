import { onnxModelType, OnnxAttributeType, OnnxDataType } from './onnx-schema';

/** A tensor to write: float32 (default) or int64 (shapes for Reshape). Values are stored little-endian in raw_data. */
export type WriteOnnxTensor = { name: string; dims: number[]; dataType?: 'float32' | 'int64'; values: ArrayLike<number> };

/** Attributes are tagged with their ONNX type because 1 and 1.0 are the same JavaScript number. */
export type WriteOnnxAttribute =
  | { float: number } | { int: number } | { floats: number[] } | { ints: number[] } | { string: string } | { tensor: WriteOnnxTensor };

export type WriteOnnxNode = { name: string; opType: string; inputs: string[]; outputs: string[]; attributes?: Record<string, WriteOnnxAttribute> };

export type WriteOnnxValueInfo = { name: string; shape: (number | string)[] };

export type WriteOnnxModelParameters = {
  producerName: string;
  producerVersion?: string;
  /** Default operator-set version; 17 is the newest that Debian's python3-onnx 1.12 checker knows. */
  opsetVersion?: number;
  docString?: string;
  graph: {
    name: string;
    nodes: WriteOnnxNode[];
    initializers: WriteOnnxTensor[];
    inputs: WriteOnnxValueInfo[];
    outputs: WriteOnnxValueInfo[];
  };
};

/**
 * Encodes a float32 ONNX model (IR v8). The output is a pure function of the parameters, so scripts that
 * build models can be checked byte-for-byte against the committed file.
 *
 * @example
 * const bytes = writeOnnxModel({ producerName: 'veil', graph: { name: 'lr', nodes: [{ name: 'gemm', opType: 'Gemm',
 *   inputs: ['x', 'W', 'b'], outputs: ['logit'] }], initializers: [...], inputs: [{ name: 'x', shape: ['batch', 30] }],
 *   outputs: [{ name: 'logit', shape: ['batch', 1] }] } });
 */
export function writeOnnxModel(params: WriteOnnxModelParameters): Uint8Array {
  const type = onnxModelType();
  const message = {
    irVersion: 8,
    producerName: params.producerName,
    producerVersion: params.producerVersion ?? '',
    docString: params.docString,
    opsetImport: [{ domain: '', version: params.opsetVersion ?? 17 }],
    graph: {
      name: params.graph.name,
      node: params.graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([name, a]) => encodeAttribute(name, a)),
      })),
      initializer: params.graph.initializers.map(encodeTensor),
      input: params.graph.inputs.map(encodeValueInfo),
      output: params.graph.outputs.map(encodeValueInfo),
    },
  };
  return type.encode(type.fromObject(message)).finish();
}

function encodeTensor(t: WriteOnnxTensor) {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.values.length !== count) throw new RangeError(`tensor "${t.name}" has ${t.values.length} values, shape needs ${count}`);
  const int64 = t.dataType === 'int64';
  const raw = int64 ? new BigInt64Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (int64) (raw as BigInt64Array)[i] = BigInt(Math.trunc(t.values[i]!));
    else (raw as Float32Array)[i] = t.values[i]!;
  }
  return {
    name: t.name,
    dims: t.dims,
    dataType: int64 ? OnnxDataType.INT64 : OnnxDataType.FLOAT,
    rawData: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
  };
}

function encodeAttribute(name: string, a: WriteOnnxAttribute) {
  if ('float' in a) return { name, type: OnnxAttributeType.FLOAT, f: a.float };
  if ('int' in a) return { name, type: OnnxAttributeType.INT, i: a.int };
  if ('floats' in a) return { name, type: OnnxAttributeType.FLOATS, floats: a.floats };
  if ('ints' in a) return { name, type: OnnxAttributeType.INTS, ints: a.ints };
  if ('string' in a) return { name, type: OnnxAttributeType.STRING, s: Buffer.from(a.string, 'utf8') };
  return { name, type: OnnxAttributeType.TENSOR, t: encodeTensor(a.tensor) };
}

function encodeValueInfo(v: WriteOnnxValueInfo) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: OnnxDataType.FLOAT,
        shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}
