/**
 * Shared tail of every write action: send, wait for the receipt, classify failures.
 * @internal
 */
import { isAddressEqual, type Address, type Hash, type TransactionReceipt } from 'viem';
import { ChainError } from './errors';
import { toChainError } from './to-chain-error';
import type { RegistryPublicClient, WriteReturnType } from './types';

export type SendOptions = {
  /** Called with the transaction hash once it is sent, before waiting for its receipt. */
  onSent?: (hash: Hash) => Promise<void> | void;
  /** Bound on the wait for the receipt (viem's `timeout`); a timeout is a ChainError, the transaction may still land. */
  timeoutMs?: number;
};

export async function sendAndConfirm(
  publicClient: RegistryPublicClient,
  operation: string,
  send: () => Promise<Hash>,
  /** Every registry write emits an event. A call to an address without code "succeeds" silently, so require one. */
  expectEventFrom?: Address,
  options: SendOptions = {},
): Promise<WriteReturnType & { receipt: TransactionReceipt }> {
  let hash: Hash;
  try {
    // viem estimates gas first, so a contract refusal surfaces here as a decoded custom error and costs no gas.
    hash = await send();
  } catch (err) {
    throw toChainError(err, operation);
  }
  // Recorded before the wait: a caller that crashes while waiting still knows what it sent (settlement's pending claims).
  await options.onSent?.(hash);
  let receipt: TransactionReceipt;
  try {
    receipt = await publicClient.waitForTransactionReceipt({ hash, ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}) });
  } catch (err) {
    throw toChainError(err, operation);
  }
  if (receipt.status !== 'success') {
    throw new ChainError('transaction_failed', `${operation}: transaction reverted on-chain`, {
      details: { operation, transactionHash: hash, blockNumber: receipt.blockNumber.toString() },
    });
  }
  if (expectEventFrom && !receipt.logs.some((l) => isAddressEqual(l.address, expectEventFrom))) {
    throw new ChainError('registry_not_found', `${operation}: no registry contract at this address on this chain`, {
      details: { operation, transactionHash: hash, registryAddress: expectEventFrom },
    });
  }
  return { transactionHash: hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt };
}
