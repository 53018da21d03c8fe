export { loadVeilProto, VEIL_PROTO_FILES, VEIL_SERVICES } from './load-veil-proto';
export type { VeilProto, VeilServiceName } from './load-veil-proto';
export type * from './messages';
export type * from './tee-messages';
export { closeGrpcServer } from './close-grpc-server';
export { createTlsChannelCredentials, createTlsFileProvider, createTlsServerCredentials, TlsFilesError } from './create-tls-file-provider';
export type { CreateTlsFileProviderOptions, TlsFileProvider, TlsFiles } from './create-tls-file-provider';
