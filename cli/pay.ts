/**
 * `veil pay`: the payer's side of a payment channel from the command line (issue #11 §4): open, top up, show, withdraw
 * and close, against the gateway's embedded dev chain by default (dev account 1 pays), and quote the gateway's prices.
 * Exit codes: 0 done, 1 the chain or gateway refused or could not be reached, 2 bad usage.
 */
import { hkdfSync } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { erc20Abi, getAddress, isAddress, isHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  ChainError, closeChannel, connectChain, DEV_ACCOUNTS, finalizeWithdraw, getChannel, initiateWithdraw, loadPrivateKey,
  PRIVATE_KEY_ENV, signClose, startDevChain, type ChainConnection, type ChannelConfig, type DevChain,
} from '../chain';
import { createChannelPayer, createSessionKey, PayerError } from '../client';
import type { Logger } from '../gateway';
import { ConfigError, loadConfig, type VeilConfig } from '../gateway/config';
import { devPaymentContracts } from '../gateway/payments';
import { parseSubcommand, type SubcommandValues } from './parse-subcommand';

export const summary = 'payment channel: open, top up, show, withdraw, close, quote (embedded dev chain by default)';

/** The channel `veil pay open` opened: public data only (addresses, salt); the session key is derived, never stored. */
export const PAY_CHANNEL_FILE = 'channel.json';

const HELP = `usage: veil pay <subcommand> [options]

subcommands:
  open        open a channel (first deposit) and record it      [--amount N] [--withdraw-delay S] [--new]
  topup       add to the recorded channel's deposit             --amount N
  status      the recorded channel's on-chain state and the payer's token balance
  withdraw    start the payer's exit (the receiver may still claim during the delay)  [--finalize: after the delay]
  close       cooperative close: refunds what was not claimed   [--receiver-signature HEX]
  quote       what calls cost and where to pay (the gateway's GET /v1/pricing)  [--gateway URL] [--model ID]

options:
  --amount N            token atomic units (vUSD has 6 decimals: 1000000 = 1 vUSD); open defaults to 1000000
  --withdraw-delay S    seconds the exit waits (default 86400; the gateway needs at least its payments minimum)
  --new                 open a new channel even if one is recorded
  --rpc URL             a chain other than the embedded dev chain (or chain.rpcUrl); then also
  --contract ADDR --token ADDR --receiver ADDR, and the payer's key in --key-file or ${PRIVATE_KEY_ENV}
                        (on the embedded chain too, to pay another deployment than the gateway's)
  --gateway URL         quote: the gateway's HTTP URL (default http://127.0.0.1:<http.port>)
  --model ID            quote: one model's prices (its own entry, or the default)
  --json                machine-readable output

The embedded dev chain lives under <dataDir>/chain (VEIL_DATA_DIR); while \`veil serve\` runs it, pass --rpc with the
address it prints. There the payer is dev account 1 and the contracts and receiver are the gateway's (payments.*:
the dev contracts in <dataDir>/chain/payments.json, deployed if missing; receiver dev account 2): PUBLIC keys, dev only.
Elsewhere --contract, --token and --receiver default to payments.contractAddress, tokenAddress and receiver.
The channel is recorded in <dataDir>/pay/${PAY_CHANNEL_FILE}; its session key is derived from the payer's key.`;

const OPTIONS = {
  amount: { type: 'string' },
  'withdraw-delay': { type: 'string' },
  new: { type: 'boolean' },
  finalize: { type: 'boolean' },
  'receiver-signature': { type: 'string' },
  rpc: { type: 'string' },
  contract: { type: 'string' },
  token: { type: 'string' },
  receiver: { type: 'string' },
  'key-file': { type: 'string' },
  gateway: { type: 'string' },
  model: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = SubcommandValues<typeof OPTIONS>;
type Deployment = { chainId: number; contractAddress: Address; token: Address; receiver: Address };
type ChannelRecord = { chainId: number; contractAddress: Address; config: ChannelConfig };
type Session = {
  conn: ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };
  privateKey: Hex;
  deployment: Deployment;
  embedded: boolean;
  dataDir: string;
  dev?: DevChain;
};

class UsageError extends Error {}

export async function run(args: string[]): Promise<number> {
  const parsed = parseSubcommand('pay', args, OPTIONS, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { sub, values } = parsed;
  if (sub === 'quote') {
    try {
      print(values, await quote(values));
      return 0;
    } catch (err) {
      console.error(`veil pay quote: ${(err as Error)?.message ?? String(err)}`);
      return err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
    }
  }
  const command = { open, topup, status, withdraw, close }[sub as 'open'];
  if (!command) {
    console.error(`veil pay: unknown subcommand "${sub}"\n\n${HELP}`);
    return 2;
  }
  let session: Session | undefined;
  try {
    session = await connect(values);
    const result = await command(session, values);
    print(values, result);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`veil pay ${sub}: ${err.message}`);
      return 2;
    }
    const code = err instanceof ChainError || err instanceof PayerError ? ` [${err.code}]` : '';
    console.error(`veil pay ${sub}: ${(err as Error)?.message ?? String(err)}${code}`);
    return 1;
  } finally {
    await session?.dev?.stop();
  }
}

/** Logs nothing: the CLI prints its own result. */
const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function connect(values: Values): Promise<Session> {
  const config = loadConfig();
  const rpcUrl = values.rpc ?? (config.chain.rpcUrl === 'embedded' ? undefined : config.chain.rpcUrl);
  if (rpcUrl === undefined) {
    const dev = await startDevChain({ dataDir: join(config.dataDir, 'chain') });
    try {
      // Dev account 1 pays: a PUBLIC key, only ever used against this loopback chain.
      const privateKey = DEV_ACCOUNTS[1].privateKey;
      const conn = await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey, pollingInterval: 50, retryCount: 0 });
      // The gateway's own rule for the embedded chain's contracts (recorded, reused, deployed and funded if missing).
      const fromGateway = values.contract === undefined || values.token === undefined
        ? await devPaymentContracts(config.dataDir, dev.rpcUrl, conn, QUIET)
        : undefined;
      const deployment = {
        chainId: dev.chainId,
        contractAddress: addressFlag(values, 'contract', fromGateway?.contract),
        token: addressFlag(values, 'token', fromGateway?.token),
        receiver: addressFlag(values, 'receiver', receiverOf(config, true)),
      };
      return { conn: conn as Session['conn'], privateKey, deployment, embedded: true, dataDir: config.dataDir, dev };
    } catch (err) {
      await dev.stop();
      throw err;
    }
  }
  const configured = (value: string) => (value === 'deploy' ? undefined : value);
  const deployment = {
    contractAddress: addressFlag(values, 'contract', configured(config.payments.contractAddress)),
    token: addressFlag(values, 'token', configured(config.payments.tokenAddress)),
    receiver: addressFlag(values, 'receiver', receiverOf(config, false)),
  };
  const { privateKey } = loadPrivateKey({ env: process.env, keyFile: values['key-file'] });
  const zero = '0x0000000000000000000000000000000000000000';
  const conn = await connectChain({ rpcUrl, registryAddress: zero, privateKey, retryCount: 1, pollingInterval: 500 });
  if (!conn.walletClient) throw new UsageError('a signing key is required');
  return { conn: conn as Session['conn'], privateKey, deployment: { ...deployment, chainId: conn.walletClient.chain.id }, embedded: false, dataDir: config.dataDir };
}

/** The gateway's receiver (payments.receiver): "dev" is dev account 2 on the embedded chain, as startPayments has it. */
function receiverOf(config: VeilConfig, embedded: boolean): string | undefined {
  const receiver = config.payments.receiver;
  if (receiver !== 'dev') return receiver;
  return embedded ? DEV_ACCOUNTS[2].address : undefined;
}

const SETTING: Record<'contract' | 'token' | 'receiver', string> = { contract: 'payments.contractAddress', token: 'payments.tokenAddress', receiver: 'payments.receiver' };

function addressFlag(values: Values, name: 'contract' | 'token' | 'receiver', fallback: string | undefined): Address {
  const value = values[name] ?? fallback;
  if (value === undefined) throw new UsageError(`--${name} ADDR is required with --rpc (or set ${SETTING[name]})`);
  if (!isAddress(value, { strict: false })) throw new UsageError(`--${name}: not an EVM address (expected 0x followed by 40 hex digits)`);
  return getAddress(value);
}

/**
 * The channel's session key, derived from the payer's key and the channel's salt (HKDF-SHA256), so `veil pay` never
 * stores a key: the same payer and salt give the same authorizer on every run.
 */
function sessionKeyOf(privateKey: Hex, salt: Hex) {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(privateKey.slice(2), 'hex'), Buffer.from(salt.slice(2), 'hex'), 'veil pay channel session key', 32));
  return createSessionKey({ privateKey: `0x${key.toString('hex')}` });
}

const channelFile = (s: Session) => join(s.dataDir, 'pay', PAY_CHANNEL_FILE);

function recordedChannel(s: Session): ChannelRecord {
  const record = readJson<ChannelRecord>(channelFile(s));
  if (!record || record.chainId !== s.deployment.chainId || getAddress(record.contractAddress) !== s.deployment.contractAddress) {
    throw new UsageError(`no channel recorded for this chain and contract: run \`veil pay open\` first`);
  }
  if (getAddress(record.config.payer) !== s.conn.walletClient.account.address) throw new UsageError(`the recorded channel's payer is ${record.config.payer}, not this key's ${s.conn.walletClient.account.address}`);
  return record;
}

function amountOf(values: Values, fallback?: bigint): bigint {
  const raw = values.amount;
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError('--amount N is required (token atomic units)');
    return fallback;
  }
  if (!/^[1-9][0-9]{0,37}$/.test(raw)) throw new UsageError(`--amount: a positive whole number of atomic units (got "${raw.slice(0, 40)}")`);
  return BigInt(raw);
}

function payerFor(s: Session, config: Pick<ChannelConfig, 'salt' | 'withdrawDelay'>, deposit: bigint) {
  return createChannelPayer({
    publicClient: s.conn.publicClient, walletClient: s.conn.walletClient, sessionKey: sessionKeyOf(s.privateKey, config.salt),
    contractAddress: s.deployment.contractAddress, receiver: s.deployment.receiver, token: s.deployment.token,
    withdrawDelay: config.withdrawDelay, salt: config.salt, deposit,
  });
}

async function open(s: Session, values: Values) {
  if (!values.new) {
    const existing = readJson<ChannelRecord>(channelFile(s));
    if (existing && existing.chainId === s.deployment.chainId && getAddress(existing.contractAddress) === s.deployment.contractAddress) {
      const state = await getChannel(s.conn.publicClient, { contractAddress: s.deployment.contractAddress, config: existing.config });
      if (state.open && state.withdrawReadyAt === 0n) return { ...(await describe(s, existing)), opened: false, note: 'a channel is already open (pass --new for another)' };
    }
  }
  const delayRaw = values['withdraw-delay'] ?? '86400';
  if (!/^[0-9]{1,8}$/.test(delayRaw)) throw new UsageError('--withdraw-delay: whole seconds');
  const salt = `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}` as Hex;
  const payer = payerFor(s, { salt, withdrawDelay: Number(delayRaw) }, amountOf(values, 1_000_000n));
  await payer.open();
  const record: ChannelRecord = { chainId: s.deployment.chainId, contractAddress: s.deployment.contractAddress, config: payer.config };
  writeJson(channelFile(s), record);
  return { ...(await describe(s, record)), opened: true };
}

async function topup(s: Session, values: Values) {
  const record = recordedChannel(s);
  const amount = amountOf(values);
  await payerFor(s, record.config, 1n).topUp(amount);
  return { ...(await describe(s, record)), toppedUp: amount };
}

async function status(s: Session) {
  return describe(s, recordedChannel(s));
}

async function withdraw(s: Session, values: Values) {
  const record = recordedChannel(s);
  const params = { contractAddress: s.deployment.contractAddress, config: record.config };
  const tx = values.finalize ? await finalizeWithdraw(s.conn.walletClient, s.conn.publicClient, params) : await initiateWithdraw(s.conn.walletClient, s.conn.publicClient, params);
  return { ...(await describe(s, record)), transaction: tx.transactionHash };
}

async function close(s: Session, values: Values) {
  const record = recordedChannel(s);
  let signature = values['receiver-signature'] as Hex | undefined;
  let note: string | undefined;
  if (signature !== undefined && !isHex(signature)) throw new UsageError('--receiver-signature: 65 bytes of hex');
  if (signature === undefined) {
    const dev = DEV_ACCOUNTS.find((a) => a.address === getAddress(record.config.receiver));
    if (!s.embedded || !dev) throw new UsageError('--receiver-signature HEX is required: the receiver consents to a cooperative close (after it claims)');
    // Dev chain only: the receiver is a public dev account, so the CLI can sign its consent itself.
    const { channelId } = await getChannel(s.conn.publicClient, { contractAddress: s.deployment.contractAddress, config: record.config });
    signature = await signClose(privateKeyToAccount(dev.privateKey), { chainId: s.deployment.chainId, contractAddress: s.deployment.contractAddress, channelId });
    note = 'dev chain: signed as the receiver (a public dev account); a real gateway signs after claiming';
  }
  const tx = await closeChannel(s.conn.walletClient, s.conn.publicClient, { contractAddress: s.deployment.contractAddress, config: record.config, receiverSignature: signature });
  return { ...(await describe(s, record)), transaction: tx.transactionHash, ...(note ? { note } : {}) };
}

type Pricing = { enabled?: boolean; asset?: { symbol: string; decimals: number }; default?: Record<string, string>; models?: Record<string, Record<string, string>> } & Record<string, unknown>;

/** The gateway's price table and payment coordinates (no chain needed); with --model, that model's prices only. */
async function quote(values: Values): Promise<Record<string, unknown>> {
  const base = values.gateway ?? `http://127.0.0.1:${loadConfig().http.port}`;
  let url: URL;
  try {
    url = new URL('/v1/pricing', base);
  } catch {
    throw new UsageError(`--gateway must be an http:// or https:// URL (got "${base.slice(0, 80)}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--gateway must be an http:// or https:// URL (got "${base.slice(0, 80)}")`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`the gateway at ${url.origin} cannot be reached (${(err as Error).message})`);
  }
  if (!response.ok) throw new Error(`the gateway at ${url.origin} answered ${response.status} to GET /v1/pricing`);
  const pricing = (await response.json()) as Pricing;
  if (values.model === undefined) return pricing;
  const own = pricing.models?.[values.model];
  const { models: _all, default: _default, ...rest } = pricing;
  return { ...rest, model: values.model, prices: own ?? pricing.default ?? {}, ...(own ? {} : { note: 'no entry of its own: the default prices' }) };
}

async function describe(s: Session, record: ChannelRecord) {
  const state = await getChannel(s.conn.publicClient, { contractAddress: s.deployment.contractAddress, config: record.config });
  const balance = await s.conn.publicClient.readContract({ address: s.deployment.token, abi: erc20Abi, functionName: 'balanceOf', args: [record.config.payer] });
  return {
    channelId: state.channelId,
    network: `eip155:${s.deployment.chainId}`,
    contract: s.deployment.contractAddress,
    token: s.deployment.token,
    payer: record.config.payer,
    authorizer: state.authorizer,
    receiver: record.config.receiver,
    withdrawDelay: record.config.withdrawDelay,
    embedded: s.embedded,
    open: state.open,
    closed: state.closed,
    deposited: state.deposited,
    claimed: state.claimed,
    remaining: state.remaining,
    withdrawReadyAt: state.withdrawReadyAt,
    payerBalance: balance,
  };
}

function print(values: Values, result: Record<string, unknown>) {
  const text = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  if (values.json) {
    console.log(JSON.stringify(result, (_k, v: unknown) => text(v), 2));
    return;
  }
  for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(16)} ${v !== null && typeof v === 'object' ? JSON.stringify(v) : String(text(v))}`);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Write-then-rename, so a crash mid-write never leaves half a record. */
function writeJson(file: string, value: unknown) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
