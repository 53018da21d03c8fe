/**
 * The single place where raw failures (viem errors, fetch errors, contract reverts) become `ChainError`s.
 * @internal
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  HttpRequestError,
  TimeoutError,
  WebSocketRequestError,
} from 'viem';
import { veilDevTokenAbi } from './artifacts/veil-dev-token';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { ChainError, type ChainErrorCode } from './errors';

type ErrorName<A extends readonly unknown[]> = Extract<A[number], { type: 'error'; name: string }>['name'];
/** Every custom error of every contract in chain/contracts (names shared between contracts mean the same thing). */
type RegistryErrorName = ErrorName<typeof veilRegistryAbi> | ErrorName<typeof veilPaymentChannelsAbi> | ErrorName<typeof veilDevTokenAbi>;

/** Exhaustive over the contract's custom errors: adding an `error` to the .sol fails type-checking here until mapped. */
const REVERT_CODES = {
  NotOwner: 'not_owner',
  NotPendingOwner: 'not_pending_owner',
  NotOperator: 'not_operator',
  NotAuthorised: 'not_authorised',
  ZeroAddress: 'zero_address',
  UnknownPlatform: 'unknown_platform',
  EmptyMeasurement: 'empty_measurement',
  MeasurementAlreadyApproved: 'measurement_already_approved',
  MeasurementNotApproved: 'measurement_not_approved',
  PlatformMismatch: 'platform_mismatch',
  EmptyEvidenceHash: 'empty_evidence_hash',
  ExpiryNotInFuture: 'expiry_not_in_future',
  AttestationNotFound: 'attestation_not_found',
  AttestationAlreadyRevoked: 'attestation_already_revoked',
  AttestationHeldByOtherOperator: 'attestation_held_by_other_operator',
  ZeroAmount: 'zero_amount',
  NativeTokenUnsupported: 'native_token_unsupported',
  WithdrawDelayOutOfRange: 'withdraw_delay_out_of_range',
  ChannelNotFound: 'channel_not_found',
  ChannelIsClosed: 'channel_closed',
  NotPayer: 'not_payer',
  NotReceiver: 'not_receiver',
  InvalidSignature: 'invalid_voucher_signature',
  VoucherExceedsDeposit: 'voucher_exceeds_deposit',
  ClaimExceedsVoucher: 'claim_exceeds_voucher',
  WithdrawPending: 'withdraw_pending',
  WithdrawNotInitiated: 'withdraw_not_initiated',
  WithdrawNotReady: 'withdraw_not_ready',
  RotationPending: 'rotation_pending',
  DepositOverflow: 'deposit_overflow',
  TokenTransferFailed: 'token_transfer_failed',
  FeeOnTransferToken: 'fee_on_transfer_token',
  Reentrancy: 'reentrancy',
  NotMinter: 'not_minter',
  InsufficientBalance: 'insufficient_balance',
  InsufficientAllowance: 'insufficient_allowance',
  PermitExpired: 'permit_expired',
  InvalidPermitSignature: 'invalid_permit_signature',
} as const satisfies Record<RegistryErrorName, ChainErrorCode>;

const REVERT_MESSAGES: Record<RegistryErrorName, string> = {
  NotOwner: 'the sender is not the registry owner',
  NotPendingOwner: 'the sender is not the pending owner',
  NotOperator: 'the sender is not an authorised operator',
  NotAuthorised: 'only the owner or the publishing operator may revoke this attestation',
  ZeroAddress: 'the zero address is not allowed here',
  UnknownPlatform: 'the registry does not know this platform',
  EmptyMeasurement: 'the measurement is empty',
  MeasurementAlreadyApproved: 'the measurement is already approved',
  MeasurementNotApproved: 'the measurement is not approved in the registry',
  PlatformMismatch: 'the measurement was approved for a different platform',
  EmptyEvidenceHash: 'the evidence hash is zero',
  ExpiryNotInFuture: 'the expiry is not after the current block time',
  AttestationNotFound: 'no attestation is recorded for this signer',
  AttestationAlreadyRevoked: 'the attestation is already revoked',
  AttestationHeldByOtherOperator: 'a live attestation for this signer belongs to another operator',
  ZeroAmount: 'the amount is zero',
  NativeTokenUnsupported: 'native ETH is not accepted; use WETH',
  WithdrawDelayOutOfRange: 'the withdraw delay must be between 15 minutes and 30 days',
  ChannelNotFound: 'no channel is open under this config',
  ChannelIsClosed: 'the channel is closed',
  NotPayer: 'only the channel payer may do this',
  NotReceiver: 'only the channel receiver may do this',
  InvalidSignature: 'the signature is not from the channel authorizer (or receiver) under this contract and chain',
  VoucherExceedsDeposit: 'the claimed total exceeds what was deposited in the channel',
  ClaimExceedsVoucher: 'the claimed total exceeds the voucher’s maxClaimableAmount',
  WithdrawPending: 'a withdrawal is already pending on this channel',
  WithdrawNotInitiated: 'no withdrawal was initiated on this channel',
  WithdrawNotReady: 'the withdraw delay has not elapsed yet',
  RotationPending: 'an authorizer rotation is still in its delay',
  DepositOverflow: 'the channel deposit would exceed uint128',
  TokenTransferFailed: 'the token transfer failed',
  FeeOnTransferToken: 'the token delivered less than the amount (fee-on-transfer tokens are not supported)',
  Reentrancy: 'reentrant call refused',
  NotMinter: 'only the dev token deployer may mint',
  InsufficientBalance: 'the token balance is too low',
  InsufficientAllowance: 'the token allowance is too low',
  PermitExpired: 'the permit deadline has passed',
  InvalidPermitSignature: 'the permit signature is invalid',
};

function isRegistryErrorName(name: string): name is RegistryErrorName {
  return Object.hasOwn(REVERT_CODES, name);
}

/** Node's fetch reports a refused or reset connection as `TypeError: fetch failed` with a system error as cause. */
function isConnectionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/.test(code)) return true;
    if (e.message === 'fetch failed') return true;
  }
  return false;
}

/**
 * Classify any error thrown by a registry call.
 * @param context what was being attempted, e.g. `'approveMeasurement'`; goes into `details.operation`.
 */
export function toChainError(err: unknown, context: string): ChainError {
  if (err instanceof ChainError) return err;
  const operation = { operation: context };

  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName;
      if (name && isRegistryErrorName(name)) {
        const args = (reverted.data?.args ?? []).map((a) => (typeof a === 'bigint' ? a.toString() : a));
        return new ChainError(REVERT_CODES[name], `${context}: ${REVERT_MESSAGES[name]} (${name})`, {
          details: { ...operation, contractError: name, args },
          cause: err,
        });
      }
      return new ChainError('transaction_failed', `${context}: the registry reverted (${reverted.reason ?? 'no reason'})`, {
        details: { ...operation, signature: reverted.signature },
        cause: err,
      });
    }
    if (err.walk((e) => e instanceof ContractFunctionZeroDataError)) {
      return new ChainError('registry_not_found', `${context}: no registry contract at this address on this chain`, {
        details: operation,
        cause: err,
      });
    }
    const transport = err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError);
    if (transport) {
      const status = transport instanceof HttpRequestError ? transport.status : undefined;
      // A 4xx from the endpoint (bad API key, wrong path) will not heal by retrying; refused connections, 5xx and timeouts may.
      const unavailable = status === undefined || status >= 500 || status === 429;
      return new ChainError(
        unavailable ? 'rpc_unavailable' : 'rpc_error',
        `${context}: the RPC endpoint ${unavailable ? 'is unreachable' : `answered HTTP ${status}`}`,
        { details: { ...operation, status, reason: err.shortMessage }, cause: err },
      );
    }
    if (isConnectionFailure(err)) {
      return new ChainError('rpc_unavailable', `${context}: the RPC endpoint is unreachable`, { details: operation, cause: err });
    }
    return new ChainError('rpc_error', `${context}: ${err.shortMessage}`, { details: { ...operation, name: err.name }, cause: err });
  }
  if (isConnectionFailure(err)) {
    return new ChainError('rpc_unavailable', `${context}: the RPC endpoint is unreachable`, { details: operation, cause: err });
  }
  return new ChainError('internal', `${context}: unexpected error`, {
    details: { ...operation, message: err instanceof Error ? err.message : String(err) },
    cause: err,
  });
}
