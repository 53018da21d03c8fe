/**
 * The one error class of `chain/`. Codes are stable snake_case strings that callers branch on; `message` is safe to show
 * (no keys, no RPC URLs with credentials); `details` carries diagnostic context for logs; `cause` keeps the original error.
 */
export type ChainErrorCode =
  // transport
  | 'rpc_unavailable'
  | 'rpc_error'
  | 'registry_not_found'
  | 'transaction_failed'
  // contract refusals (one per custom error in VeilRegistry.sol, see to-chain-error.ts)
  | 'not_owner'
  | 'not_pending_owner'
  | 'not_operator'
  | 'not_authorised'
  | 'zero_address'
  | 'unknown_platform'
  | 'empty_measurement'
  | 'measurement_already_approved'
  | 'measurement_not_approved'
  | 'platform_mismatch'
  | 'empty_evidence_hash'
  | 'expiry_not_in_future'
  | 'attestation_not_found'
  | 'attestation_already_revoked'
  | 'attestation_held_by_other_operator'
  // VeilPaymentChannels and VeilDevToken refusals
  | 'zero_amount'
  | 'native_token_unsupported'
  | 'withdraw_delay_out_of_range'
  | 'channel_not_found'
  | 'channel_closed'
  | 'not_payer'
  | 'not_receiver'
  | 'invalid_voucher_signature'
  | 'voucher_exceeds_deposit'
  | 'claim_exceeds_voucher'
  | 'withdraw_pending'
  | 'withdraw_not_initiated'
  | 'withdraw_not_ready'
  | 'rotation_pending'
  | 'deposit_overflow'
  | 'token_transfer_failed'
  | 'fee_on_transfer_token'
  | 'reentrancy'
  | 'not_minter'
  | 'insufficient_balance'
  | 'insufficient_allowance'
  | 'permit_expired'
  | 'invalid_permit_signature'
  // local input and set-up
  | 'invalid_address'
  | 'invalid_hex'
  | 'invalid_argument'
  | 'invalid_private_key'
  | 'private_key_missing'
  | 'key_file_insecure'
  | 'dev_chain_failed'
  | 'internal';

export type ChainErrorOptions = { details?: Record<string, unknown>; cause?: unknown };

export class ChainError extends Error {
  override name = 'ChainError' as const;
  readonly code: ChainErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ChainErrorCode, message: string, { details = {}, cause }: ChainErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  /** Only transport failures are worth retrying: a contract refusal will refuse again. */
  get retryable(): boolean {
    return this.code === 'rpc_unavailable';
  }
}

export function isChainError(value: unknown, code?: ChainErrorCode): value is ChainError {
  return value instanceof ChainError && (code === undefined || value.code === code);
}
