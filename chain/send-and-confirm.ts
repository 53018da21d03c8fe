/**
 * Shared tail of every write action: send, wait for the receipt, classify failures.
 * @internal
 */
import type { Hash, TransactionReceipt } from 'viem';
import { ChainError } from './errors';
import { toChainError } from './to-chain-error';
import type { RegistryPublicClient, WriteReturnType } from './types';

export async function sendAndConfirm(
  publicClient: RegistryPublicClient,
  operation: string,
  send: () => Promise<Hash>,
): Promise<WriteReturnType & { receipt: TransactionReceipt }> {
  let hash: Hash;
  try {
    // viem estimates gas first, so a contract refusal surfaces here as a decoded custom error and costs no gas.
    hash = await send();
  } catch (err) {
    throw toChainError(err, operation);
  }
  let receipt: TransactionReceipt;
  try {
    receipt = await publicClient.waitForTransactionReceipt({ hash });
  } catch (err) {
    throw toChainError(err, operation);
  }
  if (receipt.status !== 'success') {
    throw new ChainError('transaction_failed', `${operation}: transaction reverted on-chain`, {
      details: { operation, transactionHash: hash, blockNumber: receipt.blockNumber.toString() },
    });
  }
  return { transactionHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt };
}
