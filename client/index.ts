export { createVeilClient } from './create-veil-client';
export type { VeilClient, VeilClientOptions, CallOptions, CreateFheSessionParameters } from './create-veil-client';
export { connectFheModel } from './connect-fhe-model';
export type { ConnectFheModelParameters, FheModelClient, FhePrediction } from './connect-fhe-model';
export { VeilClientError } from './veil-client-error';
export { apiKeyInterceptor } from './api-key-interceptor';
export { startVeilProxy } from './proxy';
export type { ProxyAttestation, StartVeilProxyOptions, VeilProxy } from './proxy';
