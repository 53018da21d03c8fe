import type { Address } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { readRegistry } from './read-registry';
import type { RegistryPublicClient } from './types';
import { toAddress } from './validate';

export type IsAttestedParameters = { registryAddress: Address; signingAddress: Address; blockNumber?: bigint };
export type IsAttestedReturnType = boolean;

/**
 * True when the signer currently has an unrevoked, unexpired attestation under an approved measurement, judged by the
 * contract at the latest block (or `blockNumber`). One `eth_call`.
 *
 * @example
 * if (!(await isAttested(publicClient, { registryAddress, signingAddress }))) refuse()
 * @throws {ChainError} `registry_not_found`, `rpc_unavailable`, `invalid_address`
 */
export async function isAttested(
  publicClient: RegistryPublicClient,
  { registryAddress, signingAddress, blockNumber }: IsAttestedParameters,
): Promise<IsAttestedReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const signer = toAddress('signingAddress', signingAddress);
  return readRegistry('isAttested', () =>
    publicClient.readContract({ address, abi: veilRegistryAbi, functionName: 'isAttested', args: [signer], blockNumber }),
  );
}
