import { getAddress, type Address, type Hash } from 'viem';
import { veilRegistryAbi, veilRegistryBytecode } from './artifacts/veil-registry';
import { ChainError } from './errors';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient } from './types';
import { toAddress } from './validate';

export type DeployRegistryParameters = {
  /** Governance address that will own the registry. Defaults to the deploying account. */
  owner?: Address;
};

export type DeployRegistryReturnType = {
  address: Address;
  deployer: Address;
  owner: Address;
  transactionHash: Hash;
  blockNumber: bigint;
  gasUsed: bigint;
};

/**
 * Deploys a new VeilRegistry from the committed artifact.
 *
 * @example
 * const { address } = await deployRegistry(walletClient, publicClient, { owner: '0xGov…' })
 * @throws {ChainError} `invalid_address`, `rpc_unavailable`, `transaction_failed`
 */
export async function deployRegistry(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { owner }: DeployRegistryParameters = {},
): Promise<DeployRegistryReturnType> {
  const deployer = walletClient.account.address;
  const initialOwner = owner === undefined ? deployer : toAddress('owner', owner);
  const result = await sendAndConfirm(publicClient, 'deployRegistry', () =>
    walletClient.deployContract({ abi: veilRegistryAbi, bytecode: veilRegistryBytecode, args: [initialOwner] }),
  );
  const address = result.receipt.contractAddress;
  if (!address) throw new ChainError('transaction_failed', 'deployRegistry: receipt has no contract address');
  return { address: getAddress(address), deployer, owner: initialOwner, transactionHash: result.transactionHash, blockNumber: result.blockNumber, gasUsed: result.gasUsed };
}
