import { loadPrivateKey, PRIVATE_KEY_ENV } from '../chain';
import { connectGatewayPayer, DEV_PAYER_BUDGET, isDevChainPricing, isPayerError, type ChannelPayer } from '../client';
import { UsageError } from './verify';

export type ProxyPayFlags = {
  pay?: boolean; 'no-pay'?: boolean; 'pay-rpc'?: string; 'max-spend'?: string; 'max-per-call'?: string; deposit?: string; 'key-file'?: string;
};

/** What the proxy pays with: a fresh channel from the payer's wallet, vouchers signed by a session key of this run. */
export type ProxyPayer = { payer: ChannelPayer; describe: string };

const AMOUNT = /^[1-9][0-9]{0,37}$/;

/** Checks the pay flags before anything starts (exit 2 on misuse). */
export function checkPayFlags(v: ProxyPayFlags): void {
  if (v.pay && v['no-pay']) throw new UsageError('--pay and --no-pay contradict each other');
  if (!v.pay) {
    for (const name of ['pay-rpc', 'max-spend', 'max-per-call', 'deposit'] as const) if (v[name] !== undefined) throw new UsageError(`--${name} goes with --pay`);
    return;
  }
  if (v['pay-rpc'] !== undefined && !/^https?:\/\//.test(v['pay-rpc'])) throw new UsageError(`--pay-rpc must be an http:// or https:// URL (got "${v['pay-rpc'].slice(0, 60)}")`);
  for (const name of ['max-spend', 'max-per-call', 'deposit'] as const) {
    const raw = v[name];
    if (raw !== undefined && !AMOUNT.test(raw)) throw new UsageError(`--${name}: a positive whole number of token atomic units (got "${raw.slice(0, 40)}")`);
  }
}

/**
 * The proxy's payer (issue #11 §4), from the gateway's GET /v1/pricing:
 * - the gateway does not charge → none (and `--pay` is a usage error);
 * - `--no-pay` → none: apps get the gateway's 402s;
 * - a development chain whose URL the gateway publishes (its embedded anvil) → pays on its own from dev account 1 with
 *   a budget of DEV_PAYER_BUDGET, so `npm start` + `veil proxy --allow-simulated` works with no flags;
 * - anywhere else → `--pay --max-spend N` and the wallet's key are required, and asked for by name.
 * A fresh channel opens on first use with --deposit (default the budget); the budget caps everything it signs.
 */
export async function connectProxyPayer(v: ProxyPayFlags, gateway: string, fetchImpl: typeof fetch = fetch): Promise<ProxyPayer | undefined> {
  let pricing: Record<string, unknown>;
  try {
    const response = await fetchImpl(new URL('/v1/pricing', gateway), { signal: AbortSignal.timeout(10_000) });
    pricing = (await response.json()) as Record<string, unknown>;
  } catch (err) {
    if (!v.pay) return undefined; // reaching the gateway is checked (and reported) by the attestation that follows
    throw new Error(`the gateway at ${gateway} did not answer GET /v1/pricing: ${(err as Error).message}`);
  }
  if (pricing.enabled !== true) {
    if (v.pay) throw new UsageError(`the gateway at ${gateway} does not charge (payments are off there): drop --pay`);
    return undefined;
  }
  if (v['no-pay']) return undefined;
  const network = String(pricing.network);
  const dev = isDevChainPricing(pricing);
  if (!v.pay && !(dev && typeof pricing.rpcUrl === 'string')) {
    throw new UsageError(`the gateway at ${gateway} charges for calls on ${network}: start with --pay --max-spend N (and the wallet's --key-file), or --no-pay to forward calls unpaid (apps then get HTTP 402)`);
  }
  if (v['max-spend'] === undefined && !dev) throw new UsageError(`--pay on ${network} needs --max-spend N: the most this proxy may pay in total (token atomic units), so no app can drain the wallet`);
  const keyFile = v['key-file'];
  const privateKey = keyFile !== undefined || process.env[PRIVATE_KEY_ENV] !== undefined ? loadPrivateKey({ env: process.env, keyFile }).privateKey : undefined;
  const maxSpend = v['max-spend'] !== undefined ? BigInt(v['max-spend']) : DEV_PAYER_BUDGET;
  try {
    const connected = await connectGatewayPayer({
      pricing, maxSpend,
      ...(v['pay-rpc'] !== undefined ? { rpcUrl: v['pay-rpc'] } : {}),
      ...(privateKey !== undefined ? { privateKey } : {}),
      ...(v.deposit !== undefined ? { deposit: BigInt(v.deposit) } : {}),
      ...(v['max-per-call'] !== undefined ? { maxPerCall: BigInt(v['max-per-call']) } : {}),
    });
    const automatic = v.pay ? '' : ' — automatic: the gateway charges on a development chain (--no-pay to opt out)';
    return { payer: connected.payer, describe: `${connected.describe}${automatic}` };
  } catch (err) {
    if (isPayerError(err, 'chain_rpc_required')) throw new UsageError(`${err.message} (--pay-rpc URL)`);
    if (isPayerError(err, 'wallet_key_required')) throw new UsageError(`${err.message}: --key-file F or ${PRIVATE_KEY_ENV}`);
    if (isPayerError(err, 'chain_mismatch')) throw new UsageError(err.message.replace('the chain at the URL given', '--pay-rpc'));
    throw err;
  }
}
