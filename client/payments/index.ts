/** `client/payments`: the SDK's payer for per-call billing (issue #11 §4): a payment channel, vouchers, receipt checks, fetch that pays. */
export {
  createChannelPayer,
  type CallHandle, type ChannelPayer, type ChannelPayerOptions, type ChargeCheck, type PaidCall, type PayerStatus, type ResyncResult, type SettledCall,
} from './create-channel-payer';
export { createReceiptChain, type ChainReceipt, type ReceiptChain } from './create-receipt-chain';
export { payingFetch, type PayingFetchOptions } from './paying-fetch';
export { createPaymentRounds, isBalancerFailure, type PaymentRound, type PaymentRoundsOptions, type RoundAnswer } from './create-payment-rounds';
export { PaymentMismatch, isPaymentMismatch } from './payment-mismatch';
export { PayerError, isPayerError, type PayerErrorCode } from './payer-error';
export { createSessionKey } from './create-session-key';
export { payingInterceptor, type PayingInterceptorOptions } from './paying-interceptor';
export { connectGatewayPayer, DEV_PAYER_BUDGET, isDevChainPricing, type ConnectGatewayPayerOptions, type GatewayPayer } from './connect-gateway-payer';
