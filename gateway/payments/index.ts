export { chargeCall } from './charge-call';
export type { GatewayPayments, PaidCall } from './charge-call';
export { devPaymentContracts, startPayments } from './start-payments';
export { pricingBody } from './pricing-body';
export type { PricingInfo } from './pricing-body';
export type { PaymentsInfo, StartedPayments, StartPaymentsDependencies } from './start-payments';
