/** TypeScript shapes of the veil.v1 TeeNode messages as @grpc/proto-loader decodes them (see veil/v1/tee.proto). */
export type GetTeeEvidenceRequest = { nonce: Uint8Array };
export type TeeIdentity = { hpkePublicKey: Uint8Array; signingAddress: string; hpkeSuite: string; protocol: string };
export type GetTeeEvidenceResponse = { envelopeJson: string; identity: TeeIdentity | null; platform: string; modelIds: string[] };
export type TeeInferRequest = { modelId: string; sealedRequest: Uint8Array };
export type TeeInferResponse = { sealedResponse: Uint8Array; signature: string; signingAddress: string; nodeMicros: number; computeMicros: number };
