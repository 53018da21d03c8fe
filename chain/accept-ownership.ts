import type { Address } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type AcceptOwnershipParameters = { registryAddress: Address };
export type AcceptOwnershipReturnType = WriteReturnType;

/**
 * Pending owner only: step two of the ownership transfer; proves the new owner controls its key.
 *
 * @example
 * await acceptOwnership(multisigWallet, publicClient, { registryAddress })
 * @throws {ChainError} `not_pending_owner`, `rpc_unavailable`
 */
export async function acceptOwnership(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress }: AcceptOwnershipParameters,
): Promise<AcceptOwnershipReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const { receipt: _receipt, ...result } = await sendAndConfirm(
    publicClient,
    'acceptOwnership',
    () => walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'acceptOwnership' }),
    address,
  );
  return result;
}
