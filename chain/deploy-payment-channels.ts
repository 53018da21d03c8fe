import { getAddress, type Address, type Hash } from 'viem';
import { veilPaymentChannelsAbi, veilPaymentChannelsBytecode } from './artifacts/veil-payment-channels';
import { ChainError } from './errors';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient } from './types';

export type DeployPaymentChannelsReturnType = { address: Address; transactionHash: Hash; blockNumber: bigint; gasUsed: bigint };

/**
 * Deploys VeilPaymentChannels from the committed artifact. It has no owner and no admin: nothing can be paused or upgraded.
 * @throws {ChainError} `rpc_unavailable`, `transaction_failed`
 */
export async function deployPaymentChannels(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
): Promise<DeployPaymentChannelsReturnType> {
  const result = await sendAndConfirm(publicClient, 'deployPaymentChannels', () =>
    walletClient.deployContract({ abi: veilPaymentChannelsAbi, bytecode: veilPaymentChannelsBytecode }),
  );
  const address = result.receipt.contractAddress;
  if (!address) throw new ChainError('transaction_failed', 'deployPaymentChannels: receipt has no contract address');
  return { address: getAddress(address), transactionHash: result.transactionHash, blockNumber: result.blockNumber, gasUsed: result.gasUsed };
}
