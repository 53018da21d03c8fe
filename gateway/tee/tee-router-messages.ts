import type { GetTeeEvidenceResponse } from '../../proto';
import type { TeeNodeStatus } from './create-tee-router';

/** veil.v1.Tee message shapes as @grpc/proto-loader decodes them (see proto/veil/v1/tee.proto). */
export type GetRoutedTeeEvidenceRequest = { modelId: string; nonce: Uint8Array; excludeNodeIds: string[] };
export type GetRoutedTeeEvidenceResponse = { nodeId: string; evidence: GetTeeEvidenceResponse };
export type RoutedTeeInferRequest = { nodeId: string; modelId: string; sealedRequest: Uint8Array };
export type ListTeeNodesResponse = { nodes: Omit<TeeNodeStatus, 'simulated'>[] };
