export { ERROR_SPECS, isErrorCode } from './error-codes';
export type { ErrorCode, ErrorSpec } from './error-codes';
export { VeilError } from './veil-error';
export type { VeilErrorOptions } from './veil-error';
export { toVeilError } from './to-veil-error';
export { toGrpcStatus } from './to-grpc-status';
export { toOpenAIError } from './to-openai-error';
export { paymentRequiredOf } from './payment-required-of';
export type { OpenAIErrorBody } from './to-openai-error';
