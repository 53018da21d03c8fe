import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { wellFormedStatusText } from '../../proto';
import { ERROR_SPECS } from './error-codes';
import { paymentRequiredOf } from './payment-required-of';
import { toVeilError } from './to-veil-error';

/**
 * Encodes any error as a gRPC status: the safe message, plus `veil-error-code` (and `veil-error-param`)
 * trailers so clients can branch on the stable code rather than on text; a payment refusal adds `payment-required`
 * (the x402 PaymentRequired, base64 JSON, as HTTP's PAYMENT-REQUIRED header).
 */
export function toGrpcStatus(err: unknown): Partial<StatusObject> & { code: number; details: string; metadata: Metadata } {
  const e = toVeilError(err);
  const metadata = new Metadata();
  metadata.set('veil-error-code', e.code);
  if (e.param) metadata.set('veil-error-param', wellFormedStatusText(e.param));
  const required = paymentRequiredOf(e);
  if (required) metadata.set('payment-required', required);
  return { code: ERROR_SPECS[e.code].grpc, details: wellFormedStatusText(e.message), metadata };
}
