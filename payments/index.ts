/**
 * `payments/`: per-call billing shared by the gateway's surfaces and the SDK's payer (issue #11). This file is the
 * package's public face. MINIMAL on branch h/payer: only what client/payments uses (the x402 messages, the error
 * class) and what its tests drive (the gate, the ledger contract); the lead merges it with the ledger branch's.
 */
export {
  X402_VERSION, VEIL_CHANNEL_SCHEME, PAYMENT_REQUIRED_HEADER, PAYMENT_SIGNATURE_HEADER, PAYMENT_RESPONSE_HEADER, MAX_PAYMENT_HEADER_BYTES,
  encodeX402, decodeX402, decodePaymentPayload,
  type ChannelStateView, type PaymentRequirements, type PaymentRequired, type ChannelPayment, type PaymentPayload, type SettlementResponse,
} from './x402-messages';
export { PaymentError, isPaymentError, type PaymentErrorCode } from './payment-error';
export { createPaymentGate, type PaymentGate, type PaymentGateOptions, type PaidAdmission, type ReplayedAdmission } from './create-payment-gate';
export type {
  PaymentLedger, ReserveRequest, ReserveResult, LedgerChannel, OnchainChannelState, PaymentReceipt, ClaimableChannel, PendingClaim, LedgerTotals,
} from './payment-ledger';
