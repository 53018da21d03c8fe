import { isAddress, type Address, type Hex } from 'viem';
import { connectChain, DEV_ACCOUNTS, DEV_CHAIN_IDS } from '../../chain';
import { createChannelPayer, type ChannelPayer } from './create-channel-payer';
import { createSessionKey } from './create-session-key';
import { PayerError } from './payer-error';

export type ConnectGatewayPayerOptions = {
  /** The gateway's pricing JSON: `GET /v1/pricing`, or `Models.GetPricing` (`VeilClient.getPricing()`). */
  pricing: Record<string, unknown>;
  /** The most this payer may sign in total (token atomic units): no app behind it can spend more. */
  maxSpend: bigint;
  /** The chain's JSON-RPC URL; default the one the gateway publishes (its embedded dev chain only). */
  rpcUrl?: string;
  /** The paying wallet; default dev account 1 on a development chain, required elsewhere. */
  privateKey?: Hex;
  /** The first deposit (default maxSpend). */
  deposit?: bigint;
  maxPerCall?: bigint;
};

export type GatewayPayer = {
  payer: ChannelPayer;
  /** The wallet that deposits. */
  account: Address;
  network: string;
  /** True when the wallet is the public dev account 1 (development chains only). */
  devAccount: boolean;
  /** One line for a CLI to print: wallet, network, budget. */
  describe: string;
};

/**
 * A channel payer set up from what a gateway publishes (issue #11 §4): where to pay comes from its pricing, the wallet
 * from `privateKey` or — on a development chain only — dev account 1, and a fresh channel opens on first use. Every
 * voucher is signed by a session key of this payer, never by the wallet. One implementation for the SDK, `veil proxy`
 * and `veil demo`; refusals are PayerErrors naming what is missing, before anything touches the chain.
 */
export async function connectGatewayPayer(options: ConnectGatewayPayerOptions): Promise<GatewayPayer> {
  const { pricing } = options;
  if (pricing.enabled !== true) throw new PayerError('gateway_not_charging', 'the gateway does not charge (its pricing says payments are off)');
  const addresses = {} as Record<'contract' | 'token' | 'receiver', Address>;
  for (const name of ['contract', 'token', 'receiver'] as const) {
    const value = pricing[name];
    if (typeof value !== 'string' || !isAddress(value, { strict: false })) throw new PayerError('pricing_invalid', `the gateway's pricing names no valid ${name} address`);
    addresses[name] = value;
  }
  const network = typeof pricing.network === 'string' ? pricing.network : '';
  const chainId = /^eip155:[1-9][0-9]{0,15}$/.test(network) ? Number(network.slice(7)) : NaN;
  if (!Number.isSafeInteger(chainId)) throw new PayerError('pricing_invalid', `the gateway's pricing names no eip155 network (got "${network.slice(0, 40)}")`);
  const rpcUrl = options.rpcUrl ?? (typeof pricing.rpcUrl === 'string' ? pricing.rpcUrl : undefined);
  if (rpcUrl === undefined) throw new PayerError('chain_rpc_required', `the gateway takes payments on ${network} but publishes no chain URL: give the chain's JSON-RPC URL`);
  if (!/^https?:\/\//.test(rpcUrl)) throw new PayerError('chain_rpc_required', `the chain URL must be http:// or https:// (got "${rpcUrl.slice(0, 60)}")`);
  const dev = DEV_CHAIN_IDS.has(chainId);
  const privateKey = options.privateKey ?? (dev ? DEV_ACCOUNTS[1].privateKey : undefined);
  if (privateKey === undefined) throw new PayerError('wallet_key_required', `paying on chain ${chainId} needs the paying wallet's key (dev account 1 pays only on development chains)`);

  const zero = '0x0000000000000000000000000000000000000000';
  const conn = await connectChain({ rpcUrl, registryAddress: zero, privateKey, retryCount: 1, pollingInterval: dev ? 50 : 500 });
  if (conn.chainId !== chainId) throw new PayerError('chain_mismatch', `the chain at the URL given is chain ${conn.chainId}, but the gateway takes payments on ${network}`);
  // The payer's own withdraw delay: at least the gateway's minimum, and a day so a receiver has time to claim.
  const delay = typeof pricing.minWithdrawDelay === 'number' ? Math.max(pricing.minWithdrawDelay, 86_400) : 86_400;
  const payer = createChannelPayer({
    publicClient: conn.publicClient, walletClient: conn.walletClient!, sessionKey: createSessionKey(),
    contractAddress: addresses.contract, token: addresses.token, receiver: addresses.receiver,
    withdrawDelay: delay, deposit: options.deposit ?? options.maxSpend, maxSpend: options.maxSpend,
    ...(options.maxPerCall !== undefined ? { maxPerCall: options.maxPerCall } : {}),
  });
  const account = conn.walletClient!.account!.address;
  const devAccount = options.privateKey === undefined;
  return { payer, account, network, devAccount, describe: `${account} on ${network}${devAccount ? ' (dev account 1)' : ''}, budget ${options.maxSpend}` };
}

/**
 * The budget a dev payer signs up to when none is given (10 vUSD at 6 decimals): the embedded dev chain funds each dev
 * account with 1,000,000 vUSD, and a budget still bounds what one runaway app can spend.
 */
export const DEV_PAYER_BUDGET = 10_000_000n;

/** Whether a gateway's pricing names a development chain (where dev account 1 may pay without a key). */
export function isDevChainPricing(pricing: Record<string, unknown>): boolean {
  const m = typeof pricing.network === 'string' ? /^eip155:([0-9]{1,16})$/.exec(pricing.network) : null;
  return m !== null && DEV_CHAIN_IDS.has(Number(m[1]));
}
