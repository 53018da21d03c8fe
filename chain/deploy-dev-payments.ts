import type { Address } from 'viem';
import { deployDevToken, mintDevToken } from './deploy-dev-token';
import { deployPaymentChannels } from './deploy-payment-channels';
import { DEV_ACCOUNTS } from './dev-accounts';
import type { RegistryPublicClient, RegistryWalletClient } from './types';

export type DeployDevPaymentsParameters = {
  /** Whom to fund with dev tokens; defaults to every dev account. */
  fund?: readonly Address[];
  /** Per funded account, in token base units (6 decimals); defaults to 1,000,000 vUSD. */
  amount?: bigint;
};
export type DeployDevPaymentsReturnType = { paymentChannelsAddress: Address; tokenAddress: Address; funded: readonly Address[] };

/**
 * Dev chain only: deploys VeilPaymentChannels and VeilDevToken from the given (dev) wallet and mints test tokens to the
 * dev accounts, so the zero-config path has a funded payer. The dev keys are public: never use this on a shared network.
 */
export async function deployDevPayments(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { fund = DEV_ACCOUNTS.map((a) => a.address), amount = 1_000_000n * 10n ** 6n }: DeployDevPaymentsParameters = {},
): Promise<DeployDevPaymentsReturnType> {
  const { address: paymentChannelsAddress } = await deployPaymentChannels(walletClient, publicClient);
  const { address: tokenAddress } = await deployDevToken(walletClient, publicClient);
  // One at a time: the mints come from one account and would race for the nonce.
  for (const to of fund) await mintDevToken(walletClient, publicClient, { tokenAddress, to, amount });
  return { paymentChannelsAddress, tokenAddress, funded: fund };
}
