/**
 * `chain/`: the on-chain attestation registry (VeilRegistry), its viem actions, the embedded dev chain and the
 * gateway's attestation publisher, and the payment channels (VeilPaymentChannels, VeilDevToken) with their actions.
 * This file is the package's public face; everything else is internal.
 */
export { veilRegistryAbi, veilRegistryBytecode, veilRegistryDeployedBytecode } from './artifacts/veil-registry';
export { ChainError, isChainError, type ChainErrorCode, type ChainErrorOptions } from './errors';
export { PLATFORMS, MEASUREMENT_BYTES, isPlatform, platformTag, platformFromTag, type Platform } from './platform';
export { measurementId, normalizeMeasurement } from './measurement-id';
export { nitroMeasurementHex } from './nitro-measurement';
export { evidenceHash, hpkeKeyHash } from './evidence-hashes';
export { registryMeasurement, type MeasurementClaims } from './registry-measurement';
export type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';

// write actions (walletClient, publicClient, params)
export { deployRegistry, type DeployRegistryParameters, type DeployRegistryReturnType } from './deploy-registry';
export { setOperator, type SetOperatorParameters, type SetOperatorReturnType } from './set-operator';
export { approveMeasurement, type ApproveMeasurementParameters, type ApproveMeasurementReturnType } from './approve-measurement';
export { revokeMeasurement, type RevokeMeasurementParameters, type RevokeMeasurementReturnType } from './revoke-measurement';
export { publishAttestation, type PublishAttestationParameters, type PublishAttestationReturnType } from './publish-attestation';
export { revokeAttestation, type RevokeAttestationParameters, type RevokeAttestationReturnType } from './revoke-attestation';
export { transferOwnership, type TransferOwnershipParameters, type TransferOwnershipReturnType } from './transfer-ownership';
export { acceptOwnership, type AcceptOwnershipParameters, type AcceptOwnershipReturnType } from './accept-ownership';

// read actions (publicClient, params)
export { isAttested, type IsAttestedParameters, type IsAttestedReturnType } from './is-attested';
export { getAttestation, type AttestationRecord, type GetAttestationParameters, type GetAttestationReturnType } from './get-attestation';
export { getMeasurement, type GetMeasurementParameters, type GetMeasurementReturnType, type MeasurementState } from './get-measurement';
export {
  getRegistryState,
  type AttestationSummary,
  type GetRegistryStateParameters,
  type GetRegistryStateReturnType,
  type MeasurementHistoryEntry,
  type MeasurementSummary,
} from './get-registry-state';
export {
  checkOnchainAttestation,
  type CheckOnchainAttestationParameters,
  type CheckOnchainAttestationReturnType,
  type OnchainAttestationReason,
  type OnchainAttestationReasonCode,
} from './check-onchain-attestation';

// connections, keys, dev chain, publisher
export { connectChain, type ChainConnection, type ConnectChainParameters, type ConnectChainReturnType } from './connect-chain';
export { childProcessEnv, type ChildProcessEnvParameters } from './child-process-env';
export { readSecretFile, type ReadSecretFileParameters } from './read-secret-file';
export { loadPrivateKey, PRIVATE_KEY_ENV, type LoadPrivateKeyParameters, type LoadPrivateKeyReturnType } from './load-private-key';
export {
  startDevChain,
  DEV_DEPLOYMENT_FILE,
  DEV_STATE_FILE,
  type DevChain,
  type DevChainDeployment,
  type StartDevChainParameters,
  type StartDevChainReturnType,
} from './start-dev-chain';
export { DEV_ACCOUNTS, DEV_CHAIN_ID, DEV_CHAIN_IDS } from './dev-accounts';
export {
  createAttestationPublisher,
  type AttestationPublisher,
  type AttestationPublisherLogEntry,
  type CreateAttestationPublisherOptions,
  type PublishOutcome,
  type PublishRequest,
} from './create-attestation-publisher';

// payment channels (x402 batch-settlement shaped): artifacts, ids and signatures, write actions, reads
export { veilPaymentChannelsAbi, veilPaymentChannelsBytecode, veilPaymentChannelsDeployedBytecode } from './artifacts/veil-payment-channels';
export { veilDevTokenAbi, veilDevTokenBytecode, veilDevTokenDeployedBytecode } from './artifacts/veil-dev-token';
export type { ChannelConfig, PaymentChannelsDeployment } from './channel-config';
export { channelId, type ChannelIdParameters } from './channel-id';
export { PAYMENT_CHANNEL_TYPES, PAYMENT_CHANNELS_DOMAIN_NAME, PAYMENT_CHANNELS_DOMAIN_VERSION, paymentChannelsDomain } from './payment-channel-typed-data';
export { signVoucher, type SignedVoucher, type SignVoucherParameters, type Voucher } from './sign-voucher';
export { signClose, type SignCloseParameters } from './sign-close';
export { deployPaymentChannels, type DeployPaymentChannelsReturnType } from './deploy-payment-channels';
export { deployDevPayments, type DeployDevPaymentsParameters, type DeployDevPaymentsReturnType } from './deploy-dev-payments';
export { deployDevToken, mintDevToken, type DeployDevTokenReturnType, type MintDevTokenParameters } from './deploy-dev-token';
export { depositChannel, type DepositChannelParameters, type DepositChannelReturnType } from './deposit-channel';
export { topUpChannel, type TopUpChannelParameters, type TopUpChannelReturnType } from './top-up-channel';
export { claimVouchers, type ClaimVouchersParameters, type ClaimVouchersReturnType, type VoucherClaim } from './claim-vouchers';
export { initiateWithdraw, type InitiateWithdrawParameters, type InitiateWithdrawReturnType } from './initiate-withdraw';
export { finalizeWithdraw, type FinalizeWithdrawParameters, type FinalizeWithdrawReturnType } from './finalize-withdraw';
export { closeChannel, type CloseChannelParameters, type CloseChannelReturnType } from './close-channel';
export { rotateAuthorizer, type RotateAuthorizerParameters, type RotateAuthorizerReturnType } from './rotate-authorizer';
export { getChannel, type ChannelState, type GetChannelParameters, type GetChannelReturnType } from './get-channel';
export {
  readChannelEvents,
  type ChannelEvent,
  type ChannelEventName,
  type ReadChannelEventsParameters,
  type ReadChannelEventsReturnType,
} from './read-channel-events';
export { confirmedBlock } from './confirmed-block';
