export { createGrpcServer } from './create-grpc-server';
export type { CreateGrpcServerOptions, GrpcServer, GrpcServices } from './create-grpc-server';
export { createModelsService, fheSpecOf } from './models-service';
export { createFheService } from './fhe-service';
export type { FheServiceOptions } from './fhe-service';
export { createFheHandlers, MAX_EMPTY_CHUNKS } from './fhe-service';
export type { FheHandlers } from './fhe-service';
export { createTrustService } from './trust-service';
