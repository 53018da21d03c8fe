/**
 * TypeScript shapes of the veil.v1 messages as @grpc/proto-loader decodes them (camelCase, defaults filled,
 * int64 as number, enums as names, bytes as Buffer). They mirror the .proto files beside this module.
 */
export type ModelInfo = { id: string; description: string; modes: string[]; inputSize: number; outputSize: number; postprocess: string; fheVariants: string[] };
export type ListModelsResponse = { models: ModelInfo[] };
export type GetFheSpecRequest = { modelId: string; variant?: string };
export type GetPricingResponse = { pricingJson: string };
export type GetFheSpecResponse = {
  modelId: string; specJson: string; polyModulusDegree: number; coeffModulusBits: number[]; scaleBits: number;
  batchCapacity: number; galoisSteps: number[]; needsRelinKeys: boolean; specSha256: string; variant: string;
};
export type SessionHeader = { modelId: string; galoisKeysBytes: number; relinKeysBytes: number; specSha256: string; variant?: string };
export type KeyChunkKind = 'KIND_UNSPECIFIED' | 'KIND_GALOIS' | 'KIND_RELIN';
export type KeyChunk = { kind: KeyChunkKind; data: Uint8Array };
export type CreateSessionRequest = { header?: SessionHeader | null; chunk?: KeyChunk | null; part?: 'header' | 'chunk' };
export type CreateSessionResponse = { sessionId: string; bytesReceived: number; ttlSeconds: number };
export type CiphertextGroup = { ciphertexts: Uint8Array[] };
export type PredictRequest = { sessionId: string; groups: CiphertextGroup[] };
export type PredictResponse = { groups: CiphertextGroup[]; evalMicros: number };
export type CloseSessionRequest = { sessionId: string };
export type GetRegistryResponse = { enabled: boolean; chainId: number; rpcUrl: string; registryAddress: string; embedded: boolean };
