import { encodeX402, type PaymentRequired } from '../../payments';
import type { VeilError } from './veil-error';

/**
 * The x402 PAYMENT-REQUIRED value (base64 JSON) a payment refusal carries, for the HTTP header and the gRPC trailer of
 * the same name; undefined for every other error. One rule for both surfaces, so they always send the same payload.
 */
export function paymentRequiredOf(error: VeilError): string | undefined {
  const required = error.details?.paymentRequired as PaymentRequired | undefined;
  return required && typeof required === 'object' ? encodeX402(required) : undefined;
}
