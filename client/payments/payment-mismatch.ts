/**
 * A gateway's PAYMENT-RESPONSE (or corrective 402) disagrees with what the payer authorized: it charged more than a
 * call's ceiling, its cumulative charge jumped beyond the calls the payer can account for, it names another channel,
 * or it claims charges no voucher of the payer ever covered. The payer stops paying on that channel: every later
 * `pay()` refuses with `payer_stopped`, so an overcharging gateway gets no further voucher.
 */
export class PaymentMismatch extends Error {
  override readonly name = 'PaymentMismatch';
  readonly code = 'payment_mismatch' as const;
  constructor(
    /** The field that disagrees, e.g. `extra.chargedAmount`, `extra.channelState.charged`, `extra.channelState.channelId`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export function isPaymentMismatch(value: unknown): value is PaymentMismatch {
  return value instanceof PaymentMismatch;
}
