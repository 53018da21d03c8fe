/** Why the payer refused to pay (nothing was signed), or a call handle was used wrongly. */
export type PayerErrorCode =
  /** The gateway asked for another scheme, network, receiver, token or contract than this payer's channel. */
  | 'requirements_refused'
  /** This call's ceiling is above the payer's `maxPerCall`. */
  | 'ceiling_above_max_per_call'
  /** Paying this call could take the payer's total past its `maxSpend`. */
  | 'budget_exceeded'
  /** The channel's deposit cannot cover the voucher and no auto top-up is configured (or it is spent). */
  | 'deposit_insufficient'
  /** A withdrawal is pending or the channel is closed: it takes no more vouchers. */
  | 'channel_closing'
  /** The resumed channel's authorizer was rotated away from this session key. */
  | 'session_key_not_authorizer'
  /** A PaymentMismatch stopped this payer: it signs nothing more on this channel. */
  | 'payer_stopped'
  /** settle()/fail() got a handle that is not in flight (unknown, or already settled or failed). */
  | 'call_not_in_flight'
  /** connectGatewayPayer: the gateway's pricing says it does not charge, so there is nothing to pay. */
  | 'gateway_not_charging'
  /** connectGatewayPayer: the gateway's pricing lacks or garbles where to pay (network, contract, token, receiver). */
  | 'pricing_invalid'
  /** connectGatewayPayer: no chain URL was given and the gateway publishes none (only its embedded dev chain's). */
  | 'chain_rpc_required'
  /** connectGatewayPayer: a non-development chain needs the paying wallet's own key. */
  | 'wallet_key_required'
  /** connectGatewayPayer: the chain URL given is another chain than the gateway's pricing names. */
  | 'chain_mismatch';

export class PayerError extends Error {
  override readonly name = 'PayerError';
  constructor(
    readonly code: PayerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPayerError(value: unknown, code?: PayerErrorCode): value is PayerError {
  return value instanceof PayerError && (code === undefined || value.code === code);
}
