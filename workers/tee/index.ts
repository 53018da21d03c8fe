// Public face of workers/tee/: the TEE inference pool and the TEE worker node (veil.v1.TeeNode).
export { createTeePool } from './create-tee-pool';
export type { CreateTeePoolOptions, TeePool, TeeRunOutput, TeeRunParameters } from './create-tee-pool';
export { createTeeNode } from './create-tee-node';
export type { CreateTeeNodeOptions, TeeEvidenceSource, TeeInferTimings as TeeNodeTimings, TeeNode } from './create-tee-node';
export { startTeeNodeServer } from './start-tee-node-server';
export type { StartTeeNodeServerOptions, TeeNodeServer } from './start-tee-node-server';
export { toTeeGrpcStatus, toTeeNodeFailure } from './to-tee-grpc-status';
export type { TeeNodeFailure } from './to-tee-grpc-status';
export type { TeeLanguageHost, TeeLanguageModelInfo } from './tee-language-host';
