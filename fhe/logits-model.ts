import { onnxModelType } from '../onnx';
import { FheCompileError } from './errors';

const FINAL_OPS = new Set(['Sigmoid', 'Softmax', 'ArgMax']);

/**
 * The same ONNX model without its final Sigmoid/Softmax/ArgMax, so onnxruntime computes exactly what the encrypted
 * plan returns (logits). Models without such a node are returned unchanged.
 */
export function logitsModel(bytes: Uint8Array): Uint8Array {
  const type = onnxModelType();
  let msg: Record<string, any>;
  try {
    msg = type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as Record<string, any>;
  } catch {
    throw new FheCompileError('cannot read the model: not a valid ONNX protobuf');
  }
  const graph = msg.graph as Record<string, any> | undefined;
  const nodes = (graph?.node ?? []) as { opType?: string; input?: string[]; output?: string[] }[];
  const outputs = (graph?.output ?? []) as { name?: string; type?: unknown }[];
  const last = nodes[nodes.length - 1];
  if (!graph || !last || !FINAL_OPS.has(last.opType ?? '') || outputs.length !== 1 || last.output?.[0] !== outputs[0]!.name) return bytes;
  graph.node = nodes.slice(0, -1);
  graph.output = [{ name: last.input?.[0], type: { tensorType: { elemType: 1 } } }];
  return type.encode(type.fromObject(msg)).finish();
}
