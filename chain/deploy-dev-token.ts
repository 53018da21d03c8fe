import { getAddress, type Address, type Hash } from 'viem';
import { veilDevTokenAbi, veilDevTokenBytecode } from './artifacts/veil-dev-token';
import { ChainError } from './errors';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type DeployDevTokenReturnType = { address: Address; transactionHash: Hash; blockNumber: bigint; gasUsed: bigint };
export type MintDevTokenParameters = { tokenAddress: Address; to: Address; amount: bigint };

/** Dev chain only: deploys VeilDevToken (6 decimals, EIP-2612 permit); the deployer is its only minter. */
export async function deployDevToken(walletClient: RegistryWalletClient, publicClient: RegistryPublicClient): Promise<DeployDevTokenReturnType> {
  const result = await sendAndConfirm(publicClient, 'deployDevToken', () =>
    walletClient.deployContract({ abi: veilDevTokenAbi, bytecode: veilDevTokenBytecode }),
  );
  const address = result.receipt.contractAddress;
  if (!address) throw new ChainError('transaction_failed', 'deployDevToken: receipt has no contract address');
  return { address: getAddress(address), transactionHash: result.transactionHash, blockNumber: result.blockNumber, gasUsed: result.gasUsed };
}

/** Dev chain only: mints test tokens (minter = deployer). */
export async function mintDevToken(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { tokenAddress, to, amount }: MintDevTokenParameters,
): Promise<WriteReturnType> {
  const address = toAddress('tokenAddress', tokenAddress);
  const { receipt: _r, ...result } = await sendAndConfirm(publicClient, 'mintDevToken', () =>
    walletClient.writeContract({ address, abi: veilDevTokenAbi, functionName: 'mint', args: [toAddress('to', to), amount] }),
    address,
  );
  return result;
}
