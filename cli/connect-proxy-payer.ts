import { isAddress, type Address } from 'viem';
import { connectChain, DEV_ACCOUNTS, loadPrivateKey, PRIVATE_KEY_ENV } from '../chain';
import { createChannelPayer, createSessionKey, type ChannelPayer } from '../client';
import { UsageError } from './verify';

export type ProxyPayFlags = { pay?: boolean; 'pay-rpc'?: string; 'max-spend'?: string; 'max-per-call'?: string; deposit?: string; 'key-file'?: string };

/** What the proxy pays with: a fresh channel from the payer's wallet, vouchers signed by a session key of this run. */
export type ProxyPayer = { payer: ChannelPayer; describe: string };

/** Chains whose dev account 1 (a PUBLIC key) may pay without a key being given: anvil's and Hardhat's. */
const DEV_CHAIN_IDS = new Set([31337, 1337]);

const AMOUNT = /^[1-9][0-9]{0,37}$/;

/** Checks the pay flags before anything starts (exit 2 on misuse). */
export function checkPayFlags(v: ProxyPayFlags): void {
  if (!v.pay) {
    for (const name of ['pay-rpc', 'max-spend', 'max-per-call', 'deposit'] as const) if (v[name] !== undefined) throw new UsageError(`--${name} goes with --pay`);
    return;
  }
  if (v['pay-rpc'] === undefined) throw new UsageError('--pay needs --pay-rpc URL: the chain the gateway takes payments on (`veil serve` prints it)');
  if (!/^https?:\/\//.test(v['pay-rpc'])) throw new UsageError(`--pay-rpc must be an http:// or https:// URL (got "${v['pay-rpc'].slice(0, 60)}")`);
  if (v['max-spend'] === undefined) throw new UsageError('--pay needs --max-spend N: the most this proxy may pay in total (token atomic units), so no app can drain the wallet');
  for (const name of ['max-spend', 'max-per-call', 'deposit'] as const) {
    const raw = v[name];
    if (raw !== undefined && !AMOUNT.test(raw)) throw new UsageError(`--${name}: a positive whole number of token atomic units (got "${raw.slice(0, 40)}")`);
  }
}

/**
 * The proxy's payer (issue #11 §4): the gateway's GET /v1/pricing says where to pay (network, contract, token,
 * receiver); the wallet is the key in --key-file / VEIL_PRIVATE_KEY, or on a development chain dev account 1; a fresh
 * channel is opened on first use with --deposit (default the budget), and `--max-spend` caps everything it signs.
 */
export async function connectProxyPayer(v: ProxyPayFlags, gateway: string, fetchImpl: typeof fetch = fetch): Promise<ProxyPayer> {
  let pricing: { enabled?: unknown; network?: unknown; contract?: unknown; token?: unknown; receiver?: unknown; minWithdrawDelay?: unknown };
  try {
    const response = await fetchImpl(new URL('/v1/pricing', gateway), { signal: AbortSignal.timeout(10_000) });
    pricing = (await response.json()) as typeof pricing;
  } catch (err) {
    throw new Error(`the gateway at ${gateway} did not answer GET /v1/pricing: ${(err as Error).message}`);
  }
  if (pricing.enabled !== true) throw new UsageError(`the gateway at ${gateway} does not charge (payments are off there): drop --pay`);
  const addresses = ['contract', 'token', 'receiver'] as const;
  for (const name of addresses) if (typeof pricing[name] !== 'string' || !isAddress(pricing[name] as string, { strict: false })) throw new Error(`the gateway's pricing names no valid ${name} address`);
  const chainId = Number(String(pricing.network).replace(/^eip155:/, ''));
  const dev = DEV_CHAIN_IDS.has(chainId);
  const keyFile = v['key-file'];
  const privateKey = keyFile !== undefined || process.env[PRIVATE_KEY_ENV] !== undefined
    ? loadPrivateKey({ env: process.env, keyFile }).privateKey
    : dev ? DEV_ACCOUNTS[1].privateKey : undefined;
  if (privateKey === undefined) throw new UsageError(`--pay on chain ${chainId} needs the paying wallet's key in --key-file or ${PRIVATE_KEY_ENV}`);
  const zero = '0x0000000000000000000000000000000000000000';
  const conn = await connectChain({ rpcUrl: v['pay-rpc']!, registryAddress: zero, privateKey, retryCount: 1, pollingInterval: dev ? 50 : 500 });
  if (conn.chainId !== chainId) throw new UsageError(`--pay-rpc is chain ${conn.chainId}, but the gateway takes payments on ${String(pricing.network)}`);
  const maxSpend = BigInt(v['max-spend']!);
  const delay = typeof pricing.minWithdrawDelay === 'number' ? Math.max(pricing.minWithdrawDelay, 86_400) : 86_400;
  const payer = createChannelPayer({
    publicClient: conn.publicClient, walletClient: conn.walletClient!, sessionKey: createSessionKey(),
    contractAddress: pricing.contract as Address, token: pricing.token as Address, receiver: pricing.receiver as Address,
    withdrawDelay: delay, deposit: v.deposit !== undefined ? BigInt(v.deposit) : maxSpend, maxSpend,
    ...(v['max-per-call'] !== undefined ? { maxPerCall: BigInt(v['max-per-call']) } : {}),
  });
  return { payer, describe: `${conn.walletClient!.account.address} on ${String(pricing.network)}${dev && keyFile === undefined ? ' (dev account 1)' : ''}, budget ${maxSpend}` };
}
