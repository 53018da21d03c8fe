// Public face of client/tee/: attest a TEE node, then run inference only its enclave can read.
export { connectTeeModel, isRelayedRefusal } from './connect-tee-model';
export type { ConnectTeeModelParameters, TeeEvidenceVerifier, TeeInference, TeeInferTimings, TeeModelClient, TeePolicy } from './connect-tee-model';
export { createTeeTransport } from './create-tee-transport';
export type { CreateTeeTransportOptions, TeeTransport } from './create-tee-transport';
export { createGatewayTeeTransport } from './create-gateway-tee-transport';
export type { CreateGatewayTeeTransportOptions, RoutedTeeTransport, TeeCallOptions, TeeRoute } from './create-gateway-tee-transport';
export { TeeError, isTeeError } from '../../tee';
export type { TeeErrorCode, TeeTensor, TeeTensorMap } from '../../tee';
export type { TeeIdempotencySlot, TeeOperationOptions, TeeOperationReceipt, TeeOperationResult, TeeStreamReceipt } from './connect-tee-model';
export type { RoutedTeeInferRequest } from './create-gateway-tee-transport';
export { createHttpTeeTransport, SEALED_CONTENT_TYPE } from './create-http-tee-transport';
export type { CreateHttpTeeTransportOptions, GatewayModel, HttpTeeTransport } from './create-http-tee-transport';
export { readServerSentEvents, createServerSentEventParser } from './read-server-sent-events';
export type { ServerSentEvent, ServerSentEventParser } from './read-server-sent-events';
