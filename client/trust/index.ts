export { checkEnclaveOnchain } from './check-enclave-onchain';
export type { CheckEnclaveOnchainParameters, CheckEnclaveOnchainResult, EnclaveOnchainReason } from './check-enclave-onchain';
