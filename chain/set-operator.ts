import type { Address } from 'viem';
import { veilRegistryAbi } from './artifacts/veil-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

export type SetOperatorParameters = { registryAddress: Address; operator: Address; authorised: boolean };
export type SetOperatorReturnType = WriteReturnType;

/**
 * Owner only: authorise (or de-authorise) an address to publish attestations. De-authorising does not revoke what the
 * operator already published; revoke those with `revokeAttestation` if the operator is compromised.
 *
 * @example
 * await setOperator(walletClient, publicClient, { registryAddress, operator: gatewayAddress, authorised: true })
 * @throws {ChainError} `not_owner`, `zero_address`, `invalid_address`, `rpc_unavailable`
 */
export async function setOperator(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { registryAddress, operator, authorised }: SetOperatorParameters,
): Promise<SetOperatorReturnType> {
  const address = toAddress('registryAddress', registryAddress);
  const op = toAddress('operator', operator);
  const { receipt: _receipt, ...result } = await sendAndConfirm(publicClient, 'setOperator', () =>
    walletClient.writeContract({ address, abi: veilRegistryAbi, functionName: 'setOperator', args: [op, authorised] }),
    address,
  );
  return result;
}
