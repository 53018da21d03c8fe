import { loadVeilProto } from '../../proto';

/** The veil.v1 services a fuzz case can call, by service and method. */
export type RpcName =
  | 'Models.ListModels' | 'Models.GetFheSpec'
  | 'Fhe.CreateSession' | 'Fhe.Predict' | 'Fhe.CloseSession'
  | 'Tee.GetEvidence' | 'Tee.Infer' | 'Tee.ListNodes'
  | 'Trust.GetRegistry'
  | 'TeeNode.GetEvidence' | 'TeeNode.Infer';

export const GATEWAY_RPCS: readonly RpcName[] = [
  'Models.ListModels', 'Models.GetFheSpec', 'Fhe.CreateSession', 'Fhe.Predict', 'Fhe.CloseSession',
  'Tee.GetEvidence', 'Tee.Infer', 'Tee.ListNodes', 'Trust.GetRegistry',
];
export const WORKER_RPCS: readonly RpcName[] = ['TeeNode.GetEvidence', 'TeeNode.Infer'];

type MethodDefinition = {
  path: string;
  requestSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
};

/**
 * Encodes requests and decodes responses with the exact serializers the server uses (the shared proto-loader
 * definition), so a "valid" fuzz message is byte-identical to what the SDK would send before it is mutated.
 */
export type VeilCodec = {
  path(rpc: RpcName): string;
  encode(rpc: RpcName, request: object): Buffer;
  decode<T>(rpc: RpcName, response: Buffer): T;
};

export function createVeilCodec(): VeilCodec {
  const definition = loadVeilProto().packageDefinition as unknown as Record<string, Record<string, MethodDefinition>>;
  const method = (rpc: RpcName): MethodDefinition => {
    const [service, name] = rpc.split('.') as [string, string];
    const found = definition[`veil.v1.${service}`]?.[name];
    if (!found) throw new Error(`veil-codec: no method veil.v1.${rpc}`);
    return found;
  };
  return {
    path: (rpc) => method(rpc).path,
    encode: (rpc, request) => method(rpc).requestSerialize(request),
    decode: <T>(rpc: RpcName, response: Buffer) => method(rpc).responseDeserialize(response) as T,
  };
}
