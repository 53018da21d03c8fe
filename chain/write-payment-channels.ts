/**
 * Shared tail of the payment-channel write actions: one contract call, its receipt, and the rule that it emitted an
 * event from the contract (so a wrong address cannot look like success).
 * @internal
 */
import type { Address, ContractFunctionArgs, ContractFunctionName } from 'viem';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import { sendAndConfirm, type SendOptions } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

type Abi = typeof veilPaymentChannelsAbi;
type WriteName = ContractFunctionName<Abi, 'nonpayable'>;

export async function writePaymentChannels<N extends WriteName>(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  operation: string,
  contractAddress: Address,
  functionName: N,
  args: ContractFunctionArgs<Abi, 'nonpayable', N>,
  /** `false` for calls that may legitimately change nothing (a batch of stale vouchers); the code is checked instead. */
  requireEvent = true,
  options: SendOptions = {},
): Promise<WriteReturnType> {
  const address = toAddress('contractAddress', contractAddress);
  if (!requireEvent) {
    const code = await readRegistry(operation, () => publicClient.getCode({ address }));
    if (!code || code === '0x') {
      throw new ChainError('registry_not_found', `${operation}: no payment-channel contract at this address on this chain`, { details: { operation, contractAddress: address } });
    }
  }
  const { receipt: _r, ...result } = await sendAndConfirm(
    publicClient,
    operation,
    // viem's generics cannot narrow `args` through a generic function name; the signature above keeps callers typed.
    () => walletClient.writeContract({ address, abi: veilPaymentChannelsAbi, functionName, args } as never),
    requireEvent ? address : undefined,
    options,
  );
  return result;
}
