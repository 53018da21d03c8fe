import { erc20Abi, parseSignature, type Address, type Hex } from 'viem';
import { veilPaymentChannelsAbi } from './artifacts/veil-payment-channels';
import type { ChannelConfig } from './channel-config';
import { channelId, toChannelConfigMessage } from './channel-id';
import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import { sendAndConfirm } from './send-and-confirm';
import type { RegistryPublicClient, RegistryWalletClient, WriteReturnType } from './types';
import { toAddress } from './validate';

const permitAbi = [
  { type: 'function', name: 'nonces', stateMutability: 'view', inputs: [{ name: 'owner', type: 'address' }], outputs: [{ type: 'uint256' }] },
  { type: 'function', name: 'name', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
] as const;

export type DepositChannelParameters = {
  contractAddress: Address;
  config: ChannelConfig;
  amount: bigint;
  /**
   * How the contract gets the allowance: `'permit'` signs an EIP-2612 permit and deposits in one transaction (the token
   * must support it, as VeilDevToken and USDC do); `'approve'` (default) sends an `approve` first when the allowance is short.
   */
  allowance?: 'approve' | 'permit';
  /** Permit deadline, unix seconds; defaults to one hour from the latest block. */
  permitDeadline?: bigint;
};
export type DepositChannelReturnType = WriteReturnType & { channelId: Hex };

/**
 * Opens the channel (first deposit) or tops it up; the tokens come from the wallet's account. `topUpChannel` is the same
 * call: the contract opens implicitly.
 *
 * @example
 * const { channelId } = await depositChannel(payer.walletClient, payer.publicClient, { contractAddress, config, amount: 1_000_000n })
 * @throws {ChainError} `zero_amount`, `withdraw_delay_out_of_range`, `native_token_unsupported`, `channel_closed`, `withdraw_pending`, …
 */
export async function depositChannel(
  walletClient: RegistryWalletClient,
  publicClient: RegistryPublicClient,
  { contractAddress, config, amount, allowance = 'approve', permitDeadline }: DepositChannelParameters,
): Promise<DepositChannelReturnType> {
  const address = toAddress('contractAddress', contractAddress);
  if (amount <= 0n) throw new ChainError('invalid_argument', 'amount: must be positive');
  const message = toChannelConfigMessage(config);
  const owner = walletClient.account.address;
  const id = channelId({ chainId: walletClient.chain.id, contractAddress: address, config });
  if (allowance === 'permit') {
    const [nonce, name, block] = await readRegistry('depositChannel', () =>
      Promise.all([
        publicClient.readContract({ address: message.token, abi: permitAbi, functionName: 'nonces', args: [owner] }),
        publicClient.readContract({ address: message.token, abi: permitAbi, functionName: 'name' }),
        publicClient.getBlock({ blockTag: 'latest' }),
      ]),
    );
    const deadline = permitDeadline ?? block.timestamp + 3600n;
    const signature = await walletClient.signTypedData({
      domain: { name, version: '1', chainId: walletClient.chain.id, verifyingContract: message.token },
      types: {
        Permit: [
          { name: 'owner', type: 'address' },
          { name: 'spender', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
        ],
      },
      primaryType: 'Permit',
      message: { owner, spender: address, value: amount, nonce, deadline },
    });
    const { r, s, v, yParity } = parseSignature(signature);
    const vByte = Number(v ?? BigInt(yParity + 27));
    const { receipt: _r, ...result } = await sendAndConfirm(publicClient, 'depositChannel', () =>
      walletClient.writeContract({
        address,
        abi: veilPaymentChannelsAbi,
        functionName: 'depositWithPermit',
        args: [message, amount, deadline, vByte, r, s],
      }),
      address,
    );
    return { ...result, channelId: id };
  }
  const current = await readRegistry('depositChannel', () =>
    publicClient.readContract({ address: message.token, abi: erc20Abi, functionName: 'allowance', args: [owner, address] }),
  );
  if (current < amount) {
    await sendAndConfirm(publicClient, 'depositChannel', () =>
      walletClient.writeContract({ address: message.token, abi: erc20Abi, functionName: 'approve', args: [address, amount] }),
    );
  }
  const { receipt: _r, ...result } = await sendAndConfirm(publicClient, 'depositChannel', () =>
    walletClient.writeContract({ address, abi: veilPaymentChannelsAbi, functionName: 'deposit', args: [message, amount] }),
    address,
  );
  return { ...result, channelId: id };
}
