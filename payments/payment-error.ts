/**
 * Why a payment was refused. Every code but `payment_invalid` (a malformed header: HTTP 400) and
 * `payment_unavailable` (the chain could not be read: 503) is a "payment required" answer — HTTP 402 with
 * `PAYMENT-REQUIRED`, gRPC FAILED_PRECONDITION with the same payload in a trailer — so a client can pay, resync or
 * open another channel and retry. The gateway's error registry maps each code once (gateway/errors).
 */
export type PaymentErrorCode =
  /** No payment came with a call that costs money. */
  | 'payment_required'
  /** The payment header or payload is not well formed (not base64 JSON, a field missing or of the wrong type). */
  | 'payment_invalid'
  /** The voucher is for another chain, contract, receiver or token, or its channel id is not its config's hash. */
  | 'voucher_wrong_network'
  /** The voucher's signature is not by the channel's authorizer (forged, or signed with a key never authorized). */
  | 'voucher_signature_invalid'
  /** The voucher does not cover what is charged and reserved plus this call's ceiling: the client resyncs from the channel state. */
  | 'voucher_insufficient'
  /** The channel's deposit cannot cover the voucher: top up. */
  | 'deposit_insufficient'
  /** The channel was never opened on chain (no deposit yet, or it is not confirmed). */
  | 'channel_not_found'
  /** A withdrawal is pending or the channel is closed: it takes no more calls (open a new one). */
  | 'channel_closing'
  /** This request id is already running on the channel. */
  | 'payment_in_progress'
  /** The chain could not be read to check the channel. */
  | 'payment_unavailable'
  /** An API key's budget cannot cover this call (charged + in flight + its ceiling). */
  | 'budget_exhausted';

export class PaymentError extends Error {
  override readonly name = 'PaymentError';
  /** For the gateway's classifier: `details.paymentRequired` becomes the PAYMENT-REQUIRED header / trailer. */
  readonly details: { paymentRequired?: import('./x402-types').PaymentRequired } | undefined;
  constructor(
    readonly code: PaymentErrorCode,
    message: string,
    /** What the client needs to pay or resync (the x402 PaymentRequired the surfaces send); absent for 400/503. */
    readonly paymentRequired?: import('./x402-types').PaymentRequired,
  ) {
    super(message);
    this.details = paymentRequired ? { paymentRequired } : undefined;
  }
}

export function isPaymentError(value: unknown, code?: PaymentErrorCode): value is PaymentError {
  return value instanceof PaymentError && (code === undefined || value.code === code);
}
