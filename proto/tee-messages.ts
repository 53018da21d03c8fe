/** TypeScript shapes of the veil.v1 TeeNode messages as @grpc/proto-loader decodes them (see veil/v1/tee.proto). */
export type GetTeeEvidenceRequest = { nonce: Uint8Array };
export type TeeIdentity = { hpkePublicKey: Uint8Array; signingAddress: string; hpkeSuite: string; protocol: string };
export type GetTeeEvidenceResponse = {
  envelopeJson: string; identity: TeeIdentity | null; platform: string; modelIds: string[];
  /** The node's gRPC message limit; 0 (or absent, from an older node) = not reported. */
  maxMessageBytes?: number;
  /** What each served model is (issue #10); absent from older nodes. */
  models?: TeeModelInfo[];
};
/** kind: "tabular" (tensor bodies), "chat" or "embedding" (operation bodies); contextLength 0 for tabular models. */
export type TeeModelInfo = { id: string; kind: string; contextLength: number };
/** One sealed event of a streamed answer; the last carries the receipt over the whole transcript (tee/PROTOCOL.md §10). */
/** A language-model call's signed token counts (tee/PROTOCOL.md §12). */
export type TeeUsage = { inputTokens: number; outputTokens: number; signature: string };
export type TeeStreamEvent = { sealedEvent: Uint8Array; signature?: string; signingAddress?: string; nodeMicros?: number; computeMicros?: number; usage?: TeeUsage };
export type TeeInferRequest = { modelId: string; sealedRequest: Uint8Array };
export type TeeInferResponse = { sealedResponse: Uint8Array; signature: string; signingAddress: string; nodeMicros: number; computeMicros: number; usage?: TeeUsage };

/** veil.v1.Tee (the gateway's router) message shapes. */
export type GetRoutedTeeEvidenceRequest = { modelId: string; nonce: Uint8Array; excludeNodeIds: string[] };
export type GetRoutedTeeEvidenceResponse = { nodeId: string; evidence: GetTeeEvidenceResponse };
export type RoutedTeeInferRequest = { nodeId: string; modelId: string; sealedRequest: Uint8Array };
/** InferStreamPaid (oneof `kind`): the request first, then top-up vouchers. */
export type TeeStreamClientMessage = { kind?: 'request' | 'paymentSignature'; request?: RoutedTeeInferRequest; paymentSignature?: string };
/** InferStreamPaid's answers (oneof `kind`): a sealed event or an in-band payment message. */
export type TeePaidStreamMessage = { kind?: 'event' | 'paymentRequired' | 'paymentResponse'; event?: TeeStreamEvent; paymentRequired?: string; paymentResponse?: string };
export type TeeNodeStatusMessage = {
  nodeId: string; address: string; state: string; reason: string; platform: string; measurement: string;
  signingAddress: string; modelIds: string[]; verifiedAtMs: number; attestedEvidenceJson: string;
};
export type ListTeeNodesResponse = { nodes: TeeNodeStatusMessage[] };
