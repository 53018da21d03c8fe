export { createVeilClient } from './create-veil-client';
export type { VeilClient, VeilClientOptions, CallOptions, CreateFheSessionParameters } from './create-veil-client';
export { connectFheModel } from './connect-fhe-model';
export { createHttpFheClient } from './create-http-fhe-client';
export type { FheGatewayClient, HttpFheClientOptions } from './create-http-fhe-client';
export type { ConnectFheModelParameters, FheModelClient, FhePrediction } from './connect-fhe-model';
export { VeilClientError } from './veil-client-error';
export { apiKeyInterceptor } from './api-key-interceptor';
