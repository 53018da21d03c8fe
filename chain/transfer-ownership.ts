import type { Address } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type TransferOwnershipParameters = {
  registryAddress: Address;
  /** The proposed owner; nothing changes until it calls `acceptOwnership`. The zero address cancels a pending transfer. */
  newOwner: Address;
};
export type TransferOwnershipReturnType = WriteReturnType;

/**
 * Owner only: step one of the two-step ownership transfer.
 *
 * @example
 * await transferOwnership(walletClient, publicClient, { registryAddress, newOwner: multisig })
 * @throws {ChainError} `not_owner`, `invalid_address`, `rpc_unavailable`
 */
export async function transferOwnership(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress, newOwner }: TransferOwnershipParameters,
): Promise<TransferOwnershipReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const next = toAddress('newOwner', newOwner);
  const { receipt: _receipt, ...result } = await sendAndConfirm(
    publicClient,
    'transferOwnership',
    () => walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'transferOwnership', args: [next] }),
    address,
  );
  return result;
}
