export { checkEnclaveOnchain } from './check-enclave-onchain';
export type { CheckEnclaveOnchainParameters, CheckEnclaveOnchainResult, EnclaveOnchainReason } from './check-enclave-onchain';
export { requireEnclaveOnchain } from './require-enclave-onchain';
export type { RequireEnclaveOnchainParameters } from './require-enclave-onchain';
