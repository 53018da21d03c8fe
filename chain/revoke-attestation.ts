import type { Address } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type RevokeAttestationParameters = { registryAddress: Address; signingAddress: Address };
export type RevokeAttestationReturnType = WriteReturnType;

/**
 * Owner or the publishing operator: revoke a signer's attestation (e.g. the worker was retired or its key leaked).
 *
 * @example
 * await revokeAttestation(walletClient, publicClient, { registryAddress, signingAddress })
 * @throws {ChainError} `not_authorised`, `attestation_not_found`, `attestation_already_revoked`, `rpc_unavailable`
 */
export async function revokeAttestation(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress, signingAddress }: RevokeAttestationParameters,
): Promise<RevokeAttestationReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const signer = toAddress('signingAddress', signingAddress);
  const { receipt: _receipt, ...result } = await sendAndConfirm(publicClient, 'revokeAttestation', () =>
    walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'revokeAttestation', args: [signer] }),
    address,
  );
  return result;
}
