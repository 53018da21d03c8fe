import type { ChannelConfig } from '../chain';
import { LedgerError } from './ledger-error';
import type { OnchainChannelState, PendingClaim, ReserveRequest } from './payment-ledger';

/**
 * Argument checks shared by both ledgers, so a bad argument is refused the same way before anything is stored.
 * Ids are opaque strings (a channel id is a bytes32 hex today; an API-key budget may use another id), bounded so a
 * caller bug cannot grow the store without limit.
 * @internal
 */
export const UINT128_MAX = (1n << 128n) - 1n;
const MAX_ID_LENGTH = 256;
const MAX_SIGNATURE_LENGTH = 1024;

function invalid(message: string): LedgerError {
  return new LedgerError('invalid_argument', message);
}

export function checkAmount(name: string, value: unknown): bigint {
  if (typeof value !== 'bigint') throw invalid(`${name} must be a bigint, got ${typeof value}`);
  if (value < 0n || value > UINT128_MAX) throw invalid(`${name} must be between 0 and 2^128 - 1, got ${value}`);
  return value;
}

export function checkId(name: string, value: unknown, max = MAX_ID_LENGTH): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`${name} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

/** Unix times (ms or s) and counts: non-negative safe integers. */
export function checkTime(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}

export function checkLimit(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalid(`limit must be a positive integer, got ${String(value)}`);
  return value;
}

export function checkConfig(value: ChannelConfig): ChannelConfig {
  if (typeof value !== 'object' || value === null) throw invalid('config must be a ChannelConfig');
  for (const key of ['payer', 'payerAuthorizer', 'receiver', 'token', 'salt'] as const) checkId(`config.${key}`, value[key]);
  checkTime('config.withdrawDelay', value.withdrawDelay);
  return value;
}

export function checkReserveRequest(request: ReserveRequest): void {
  if (typeof request !== 'object' || request === null) throw invalid('reserve: request must be an object');
  checkId('requestId', request.requestId);
  checkId('channelId', request.channelId);
  checkId('resource', request.resource);
  if (typeof request.voucher !== 'object' || request.voucher === null) throw invalid('voucher must be an object');
  checkAmount('voucher.maxClaimableAmount', request.voucher.maxClaimableAmount);
  checkId('voucher.signature', request.voucher.signature, MAX_SIGNATURE_LENGTH);
  checkAmount('ceiling', request.ceiling);
  checkTime('at', request.at);
  checkTime('expiresAt', request.expiresAt);
  if (request.expiresAt <= request.at) throw invalid(`expiresAt (${request.expiresAt}) must be after at (${request.at})`);
}

export function checkOnchainState(state: OnchainChannelState): void {
  if (typeof state !== 'object' || state === null) throw invalid('state must be an object');
  checkAmount('state.deposited', state.deposited);
  checkAmount('state.claimed', state.claimed);
  if (state.claimed > state.deposited) throw invalid(`state.claimed (${state.claimed}) exceeds state.deposited (${state.deposited})`);
  checkTime('state.withdrawReadyAt', state.withdrawReadyAt);
  if (typeof state.closed !== 'boolean') throw invalid('state.closed must be a boolean');
  if (typeof state.authorizer !== 'string') throw invalid('state.authorizer must be a string');
  if (typeof state.block !== 'bigint' || state.block < 0n) throw invalid('state.block must be a non-negative bigint');
}

export function checkPendingClaim(claim: PendingClaim): void {
  if (typeof claim !== 'object' || claim === null) throw invalid('claim must be an object');
  checkId('txHash', claim.txHash);
  checkTime('sentAt', claim.sentAt);
  if (!Array.isArray(claim.entries) || claim.entries.length === 0) throw invalid('claim.entries must be a non-empty array');
  const seen = new Set<string>();
  for (const [i, entry] of claim.entries.entries()) {
    checkId(`entries[${i}].channelId`, entry?.channelId);
    checkAmount(`entries[${i}].amount`, entry.amount);
    if (seen.has(entry.channelId)) throw invalid(`entries[${i}].channelId ${entry.channelId} appears twice in one claim`);
    seen.add(entry.channelId);
  }
}
