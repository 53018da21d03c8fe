import { decodeX402, type PaymentRequired } from '../../payments';

/**
 * A PAYMENT-REQUIRED value (HTTP header, gRPC trailer or in-band event) as the x402 object, or undefined when there is
 * none or it has no `accepts` list. The one reading of it for every client transport.
 * @throws {PaymentError} `payment_invalid` when the value is not base64 JSON
 */
export function parsePaymentRequired(value: string | undefined): PaymentRequired | undefined {
  if (value === undefined) return undefined;
  const decoded = decodeX402<PaymentRequired>(value, 'PAYMENT-REQUIRED');
  return decoded && typeof decoded === 'object' && Array.isArray(decoded.accepts) ? decoded : undefined;
}
