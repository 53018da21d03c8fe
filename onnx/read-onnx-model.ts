import { onnxModelType, OnnxAttributeType, OnnxDataType } from './onnx-schema';
import { OnnxError } from './onnx-error';
import type { OnnxAttributeValue, OnnxDim, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-model';

/* The decoded protobuf objects (protobufjs `toObject` output, camelCase, longs as numbers). */
type RawTensor = {
  name?: string; dims?: number[]; dataType?: number; floatData?: number[]; int32Data?: number[];
  int64Data?: number[]; doubleData?: number[]; uint64Data?: number[]; rawData?: Uint8Array; dataLocation?: number;
  externalData?: unknown[];
};
type RawAttribute = {
  name?: string; type?: number; f?: number; i?: number; s?: Uint8Array; t?: RawTensor;
  floats?: number[]; ints?: number[]; strings?: Uint8Array[]; tensors?: RawTensor[];
};
type RawValueInfo = {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
};

/**
 * Decodes ONNX model bytes into plain data: nodes in file order, initializers as Float64Array, and the
 * graph's real inputs (initializers that older exporters also list as inputs are removed).
 *
 * @throws {OnnxError} `onnx_malformed` when the bytes are not an ONNX model; `onnx_unsupported_tensor` for
 *   tensors stored outside the file or in an element type Veil does not evaluate.
 * @example
 * const model = readOnnxModel(fs.readFileSync('models/breast-cancer-lr.onnx'));
 * model.graph.nodes.map((n) => n.opType); // ['Gemm']
 */
export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  let raw: Record<string, any>;
  try {
    const type = onnxModelType();
    raw = type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true });
  } catch (cause) {
    throw new OnnxError('onnx_malformed', 'model file is not a valid ONNX protobuf', { cause: String(cause) });
  }
  const graph = raw.graph as Record<string, any> | undefined;
  if (!graph) throw new OnnxError('onnx_malformed', 'model file has no graph (is it an ONNX model?)');

  const defaultOpset = (raw.opsetImport as { domain?: string; version?: number }[] | undefined)?.find(
    (o) => !o.domain || o.domain === 'ai.onnx',
  );
  const initializers = new Map<string, OnnxTensor>();
  for (const t of (graph.initializer ?? []) as RawTensor[]) {
    const tensor = decodeTensor(t);
    initializers.set(tensor.name, tensor);
  }
  const nodes: OnnxNode[] = ((graph.node ?? []) as Record<string, any>[]).map((n, index) => ({
    name: n.name || `${n.opType ?? 'node'}_${index}`,
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: n.input ?? [],
    outputs: n.output ?? [],
    attributes: Object.fromEntries(((n.attribute ?? []) as RawAttribute[]).map((a) => [a.name ?? '', decodeAttribute(a)])),
  }));
  return {
    irVersion: raw.irVersion ?? 0,
    opsetVersion: defaultOpset?.version ?? 0,
    producerName: raw.producerName ?? '',
    producerVersion: raw.producerVersion ?? '',
    graph: {
      name: graph.name ?? '',
      nodes,
      initializers,
      inputs: ((graph.input ?? []) as RawValueInfo[]).map(decodeValueInfo).filter((v) => !initializers.has(v.name)),
      outputs: ((graph.output ?? []) as RawValueInfo[]).map(decodeValueInfo),
    },
  };
}

function decodeValueInfo(v: RawValueInfo): OnnxValueInfo {
  const tensorType = v.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  const shape: OnnxDim[] | null = dims
    ? dims.map((d) => (d.dimValue !== undefined ? d.dimValue : d.dimParam !== undefined ? d.dimParam : null))
    : null;
  return { name: v.name ?? '', elemType: tensorType?.elemType ?? 0, shape };
}

function decodeAttribute(a: RawAttribute): OnnxAttributeValue {
  switch (a.type) {
    case OnnxAttributeType.FLOAT: return a.f ?? 0;
    case OnnxAttributeType.INT: return a.i ?? 0;
    case OnnxAttributeType.STRING: return Buffer.from(a.s ?? []).toString('utf8');
    case OnnxAttributeType.TENSOR:
      if (!a.t) throw new OnnxError('onnx_malformed', `attribute "${a.name}" is declared as a tensor but holds none`);
      return decodeTensor(a.t);
    case OnnxAttributeType.FLOATS: return a.floats ?? [];
    case OnnxAttributeType.INTS: return a.ints ?? [];
    case OnnxAttributeType.STRINGS: return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    default:
      // Very old exporters omit `type`; infer it from whichever field is present.
      if (a.t) return decodeTensor(a.t);
      if (a.floats?.length) return a.floats;
      if (a.ints?.length) return a.ints;
      if (a.s) return Buffer.from(a.s).toString('utf8');
      if (a.f !== undefined) return a.f;
      return a.i ?? 0;
  }
}

function decodeTensor(t: RawTensor): OnnxTensor {
  const name = t.name ?? '';
  const dims = t.dims ?? [];
  const dataType = t.dataType ?? 0;
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new OnnxError('onnx_unsupported_tensor', `tensor "${name}" keeps its data in an external file; embed it in the model`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const data = decodeTensorData(t, name, dataType);
  if (data.length !== count) {
    throw new OnnxError('onnx_malformed', `tensor "${name}" has ${data.length} values but its shape [${dims.join(', ')}] needs ${count}`);
  }
  return { name, dims, dataType, data };
}

function decodeTensorData(t: RawTensor, name: string, dataType: number): Float64Array {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const fromRaw = (width: number, read: (offset: number) => number): Float64Array => {
    if (!view || view.byteLength % width !== 0) {
      throw new OnnxError('onnx_malformed', `tensor "${name}" raw data length ${view?.byteLength ?? 0} is not a multiple of ${width}`);
    }
    const out = new Float64Array(view.byteLength / width);
    for (let i = 0; i < out.length; i++) out[i] = read(i * width);
    return out;
  };
  switch (dataType) {
    case OnnxDataType.FLOAT:
      return view ? fromRaw(4, (o) => view.getFloat32(o, true)) : Float64Array.from(t.floatData ?? []);
    case OnnxDataType.DOUBLE:
      return view ? fromRaw(8, (o) => view.getFloat64(o, true)) : Float64Array.from(t.doubleData ?? []);
    case OnnxDataType.INT64:
      return view ? fromRaw(8, (o) => Number(view.getBigInt64(o, true))) : Float64Array.from(t.int64Data ?? []);
    case OnnxDataType.INT32:
      return view ? fromRaw(4, (o) => view.getInt32(o, true)) : Float64Array.from(t.int32Data ?? []);
    case OnnxDataType.INT8:
      return view ? fromRaw(1, (o) => view.getInt8(o)) : Float64Array.from(t.int32Data ?? []);
    case OnnxDataType.UINT8:
      return view ? fromRaw(1, (o) => view.getUint8(o)) : Float64Array.from(t.int32Data ?? []);
    default:
      throw new OnnxError('onnx_unsupported_tensor', `tensor "${name}" has ONNX element type ${dataType}, which Veil does not evaluate`);
  }
}
