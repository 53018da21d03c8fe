/**
 * `payments/`: per-call billing with payment channels (issue #11). This file is the module's public face; everything
 * else is internal. The x402 wire messages and voucher rules (shared with the SDK), the price table, the payment gate
 * every paid surface admits through, the ledger contract (`PaymentLedger`) with its two implementations (SQLite for
 * one gateway, PostgreSQL for several replicas; their native drivers load only when opened), settlement and the
 * chain mirror.
 */
export type {
  ClaimableChannel,
  LedgerChannel,
  LedgerTotals,
  OnchainChannelState,
  PaymentLedger,
  PaymentReceipt,
  PendingClaim,
  ReserveRequest,
  ReserveResult,
} from './payment-ledger';
export { LedgerError, isLedgerError, type LedgerErrorCode } from './ledger-error';
export { openSqliteLedger, type OpenSqliteLedgerOptions } from './open-sqlite-ledger';
export { openPostgresLedger, type OpenPostgresLedgerOptions } from './open-postgres-ledger';
export { PaymentError, isPaymentError } from './payment-error';
export type { PaymentErrorCode } from './payment-error';
export { DEFAULT_PRICE_TABLE, PRICE_UNITS, costOf, parsePriceTable, priceOf, priceTableJson } from './price-table';
export type { ModelPrice, PriceTable, PriceUnit, Usage } from './price-table';
export {
  X402_VERSION, VEIL_CHANNEL_SCHEME, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER, PAYMENT_RESPONSE_HEADER, MAX_PAYMENT_HEADER_BYTES,
  decodePaymentPayload, decodeX402, encodeX402,
} from './x402-messages';
export type { ChannelPayment, ChannelStateView, PaymentPayload, PaymentRequired, PaymentRequirements, SettlementResponse, SignedUsage } from './x402-messages';
export { verifyVoucher } from './verify-voucher';
export type { VerifiedVoucher, VerifyVoucherParameters } from './verify-voucher';
export { createPaymentGate } from './create-payment-gate';
export type { PaidAdmission, PaymentGate, PaymentGateOptions, ReplayedAdmission } from './create-payment-gate';
export { createSettlementWorker } from './create-settlement-worker';
export type { SettlementWorker, SettlementWorkerOptions } from './create-settlement-worker';
export { createChannelMirror } from './create-channel-mirror';
export type { ChannelMirror, ChannelMirrorOptions } from './create-channel-mirror';
export { BUDGET_CHANNEL_PREFIX, budgetChannelId, isBudgetChannel } from './budget-channel';
export { createBudgetGate } from './create-budget-gate';
export { createReservationLeases, DEFAULT_LEASE_MS } from './create-reservation-leases';
export type { ReservationLeases, ReservationLeasesOptions } from './create-reservation-leases';
export type { BudgetGate, BudgetGateOptions } from './create-budget-gate';
