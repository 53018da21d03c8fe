export { loadVeilProto, VEIL_PROTO_FILES, VEIL_SERVICES } from './load-veil-proto';
export type { VeilProto, VeilServiceName } from './load-veil-proto';
export type * from './messages';
export type * from './tee-messages';
export { closeGrpcServer } from './close-grpc-server';
export { closeHttpApp } from './close-http-app';
export type { ClosableHttpApp } from './close-http-app';
export { createTlsChannelCredentials, createTlsFileProvider, createTlsServerCredentials, TlsFilesError } from './create-tls-file-provider';
export type { CreateTlsFileProviderOptions, TlsFileProvider, TlsFiles } from './create-tls-file-provider';
export { scheduleAt, MAX_TIMER_DELAY_MS } from './schedule-at';
export type { ScheduledCall, ScheduleTimers } from './schedule-at';
export { runWithLimits, callUnary, streamWithLimits, callServerStream } from './run-with-limits';
export type { CallLimits, CallLimitErrors } from './run-with-limits';
export { guardRequestDecoding, UndecodableRequest } from './guard-request-decoding';
export { wellFormedStatusText } from './well-formed-status-text';
export { typeSizeRefusals } from './type-size-refusals';
// issue #10: FHE over HTTP, the binary predict body (gateway/http/FHE-HTTP.md), shared by the gateway and the SDK.
export { decodeCiphertextGroups, encodeCiphertextGroups, FheFramingError, FHE_GROUPS_MAGIC } from './fhe-http-framing';
export { MIN_KEY_CHUNK_BYTES } from './key-chunk-bytes';
export { widenReceiveWindow, RECEIVE_WINDOW_BYTES } from './widen-receive-window';
export { writeWithBackpressure } from './write-with-backpressure';
// issue #12: W3C trace context over gRPC metadata (OpenTelemetry API only: no-ops until a process installs the SDK).
export { traceGrpcCalls, grpcTraceContext, grpcServerSpanName } from './trace-grpc-calls';
