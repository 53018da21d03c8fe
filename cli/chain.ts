/**
 * `veil chain`: operate the on-chain attestation registry (deploy, approve/revoke measurements, revoke attestations,
 * show state) and run the local dev chain. Exit codes: 0 done, 1 the chain refused or could not be reached, 2 bad usage.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAddress, type Address, type Hex } from 'viem';
import {
  approveMeasurement,
  ChainError,
  connectChain,
  DEV_ACCOUNTS,
  deployRegistry,
  getRegistryState,
  isPlatform,
  loadPrivateKey,
  measurementId,
  PLATFORMS,
  PRIVATE_KEY_ENV,
  revokeAttestation,
  revokeMeasurement,
  setOperator,
  startDevChain,
  type ChainConnection,
  type GetRegistryStateReturnType,
  type Platform,
} from '../chain';
import { CONFIG_SCHEMA } from '../gateway/config';
import { parseSubcommand, type SubcommandValues } from './parse-subcommand';

export const summary = 'on-chain registry: deploy, approve/revoke measurements, show state';

// The gateway's own env names, so `export …` from `veil chain dev` configures `veil serve` as printed.
const RPC_ENV = CONFIG_SCHEMA.chain.rpcUrl.env;
const REGISTRY_ENV = CONFIG_SCHEMA.chain.registryAddress.env;
const DEFAULT_DEV_DIR = '.veil/chain';
const DEFAULT_DEV_PORT = 8545;

const HELP = `usage: veil chain <subcommand> [options]

subcommands:
  deploy              deploy a new VeilRegistry                         [--owner ADDR]
  approve             approve a measurement (owner)                     --platform P --measurement HEX --label L --source S
  revoke-measurement  revoke a measurement (owner)                      --id BYTES32 | --platform P --measurement HEX
  set-operator        authorise an operator to publish (owner)          --operator ADDR [--remove]
  revoke-attestation  revoke a signer's attestation (owner or operator) --signer ADDR
  show                owner, operators, approved measurements (labels from the event history), attestations
                                                                        [--from-block N] [--json]
  dev                 run the local dev chain (anvil) in the foreground [--data-dir DIR] [--port N]

connection (all but dev):
  --rpc URL           JSON-RPC endpoint (or ${RPC_ENV})
  --registry ADDR     registry address (or ${REGISTRY_ENV}); not needed for deploy
  --key-file PATH     file holding the signing key as hex; otherwise ${PRIVATE_KEY_ENV} (writes only)
Keys are never accepted as flags or from config files.

platforms: ${PLATFORMS.join(', ')}. The measurement id is keccak256(bytes32 platform tag ‖ measurement bytes);
SNP measurements are 48 bytes, Nitro PCR0‖PCR1‖PCR2 144 bytes, TDX workload ids and simulated any length.`;

const OPTIONS = {
  rpc: { type: 'string' },
  registry: { type: 'string' },
  'key-file': { type: 'string' },
  owner: { type: 'string' },
  platform: { type: 'string' },
  measurement: { type: 'string' },
  id: { type: 'string' },
  label: { type: 'string' },
  source: { type: 'string' },
  signer: { type: 'string' },
  operator: { type: 'string' },
  remove: { type: 'boolean' },
  'from-block': { type: 'string' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = SubcommandValues<typeof OPTIONS>;

/** A usage mistake: exit code 2. */
class UsageError extends Error {}

/** Input errors the user fixes by changing the command line (exit 2); everything else is the chain's answer (exit 1). */
const USAGE_CODES = new Set(['invalid_address', 'invalid_hex', 'invalid_argument', 'unknown_platform', 'private_key_missing', 'invalid_private_key', 'key_file_insecure']);

export async function run(args: string[]): Promise<number> {
  const parsed = parseSubcommand('chain', args, OPTIONS, HELP);
  if ('exit' in parsed) return parsed.exit;
  const { sub, values } = parsed;
  try {
    switch (sub) {
      case 'deploy':
        return await deploy(values);
      case 'approve':
        return await approve(values);
      case 'revoke-measurement':
        return await revokeMeasurementCommand(values);
      case 'set-operator':
        return await setOperatorCommand(values);
      case 'revoke-attestation':
        return await revokeAttestationCommand(values);
      case 'show':
        return await show(values);
      case 'dev':
        return await dev(values);
      default:
        console.error(`veil chain: unknown subcommand "${sub}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`veil chain ${sub}: ${err.message}`);
      return 2;
    }
    if (err instanceof ChainError) {
      const usage = USAGE_CODES.has(err.code);
      const message = usage ? flagNames(err.message) : err.message;
      const hint = err.code === 'rpc_unavailable' ? ` at ${rpcOrigin(values)} (check --rpc, or start one with \`veil chain dev\`)` : '';
      console.error(`veil chain ${sub}: ${message}${hint} [${err.code}]`);
      return usage ? 2 : 1;
    }
    console.error(`veil chain ${sub}: ${(err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

/** Library errors name parameters (`signingAddress: …`); on the command line, name the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  registryAddress: '--registry',
  signingAddress: '--signer',
  operator: '--operator',
  owner: '--owner',
  measurement: '--measurement',
  measurementId: '--id',
  platform: '--platform',
  rpc: '--rpc',
};
function flagNames(message: string): string {
  const match = /^(\w+): /.exec(message);
  const flag = match?.[1] ? FLAG_OF[match[1]] : undefined;
  return flag ? `${flag}: ${message.slice(match![0].length)}` : message;
}

/** Scheme, host and port only: providers often put API keys in the path or query. */
function rpcOrigin(values: Values): string {
  const raw = values.rpc ?? process.env[RPC_ENV] ?? '';
  try {
    return new URL(raw).origin;
  } catch {
    return 'the given --rpc';
  }
}

function required(values: Values, name: keyof typeof OPTIONS, env?: string): string {
  const value = (values[name] as string | undefined) ?? (env ? process.env[env] : undefined);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required${env ? ` (or set ${env})` : ''}`);
  return value;
}

/** Checked before connecting, so a typo is reported as such and not as whatever the network says. */
function addressFlag(values: Values, name: 'signer' | 'operator' | 'owner'): Address {
  const value = required(values, name);
  if (!isAddress(value, { strict: false })) throw new UsageError(`--${name}: not an EVM address (expected 0x followed by 40 hex digits)`);
  return value;
}

function platformOf(values: Values): Platform {
  const platform = required(values, 'platform');
  if (!isPlatform(platform)) throw new UsageError(`--platform must be one of ${PLATFORMS.join(', ')} (got "${platform}")`);
  return platform;
}

async function connect(values: Values, { write, registry = true }: { write: boolean; registry?: boolean }): Promise<ChainConnection> {
  const rpcUrl = required(values, 'rpc', RPC_ENV);
  // deploy has no registry yet; connectChain wants an address, and the zero address is never used for a call.
  const registryAddress = (registry ? required(values, 'registry', REGISTRY_ENV) : '0x0000000000000000000000000000000000000000') as Address;
  const privateKey = write ? loadPrivateKey({ env: process.env, keyFile: values['key-file'] }).privateKey : undefined;
  return connectChain({ rpcUrl, registryAddress, privateKey, retryCount: 1, pollingInterval: 500 });
}

function writer(conn: ChainConnection) {
  if (!conn.walletClient) throw new UsageError('a signing key is required');
  return conn.walletClient;
}

function printResult(values: Values, fields: Record<string, unknown>): number {
  if (values.json) {
    console.log(toJson(fields));
  } else {
    const width = Math.max(...Object.keys(fields).map((k) => k.length));
    for (const [k, v] of Object.entries(fields)) console.log(`${k.padEnd(width)}  ${String(v)}`);
  }
  return 0;
}

async function deploy(values: Values): Promise<number> {
  const owner = values.owner === undefined ? undefined : addressFlag(values, 'owner');
  const conn = await connect(values, { write: true, registry: false });
  const result = await deployRegistry(writer(conn), conn.publicClient, { owner });
  return printResult(values, {
    registry: result.address,
    owner: result.owner,
    deployer: result.deployer,
    chainId: conn.chainId,
    block: result.blockNumber,
    transaction: result.transactionHash,
    gasUsed: result.gasUsed,
  });
}

async function approve(values: Values): Promise<number> {
  const platform = platformOf(values);
  const measurement = required(values, 'measurement');
  const label = required(values, 'label');
  const source = required(values, 'source');
  measurementId(platform, measurement); // validate before touching the network
  const conn = await connect(values, { write: true });
  const result = await approveMeasurement(writer(conn), conn.publicClient, {
    registryAddress: conn.registryAddress,
    platform,
    measurement,
    label,
    source,
  });
  return printResult(values, { approved: result.measurementId, platform, label, source, transaction: result.transactionHash, gasUsed: result.gasUsed });
}

async function revokeMeasurementCommand(values: Values): Promise<number> {
  let id: string;
  if (values.id !== undefined) {
    if (values.platform !== undefined || values.measurement !== undefined) throw new UsageError('give either --id or --platform with --measurement, not both');
    if (!/^0x[0-9a-fA-F]{64}$/.test(values.id)) throw new UsageError('--id: expected a 32-byte measurement id as 0x followed by 64 hex digits');
    id = values.id;
  } else {
    id = measurementId(platformOf(values), required(values, 'measurement'));
  }
  const conn = await connect(values, { write: true });
  const result = await revokeMeasurement(writer(conn), conn.publicClient, { registryAddress: conn.registryAddress, measurementId: id as Hex });
  return printResult(values, { revoked: id, transaction: result.transactionHash, gasUsed: result.gasUsed });
}

async function setOperatorCommand(values: Values): Promise<number> {
  const operator = addressFlag(values, 'operator');
  const conn = await connect(values, { write: true });
  const authorised = !values.remove;
  const result = await setOperator(writer(conn), conn.publicClient, { registryAddress: conn.registryAddress, operator, authorised });
  return printResult(values, { operator, authorised, transaction: result.transactionHash, gasUsed: result.gasUsed });
}

async function revokeAttestationCommand(values: Values): Promise<number> {
  const signer = addressFlag(values, 'signer');
  const conn = await connect(values, { write: true });
  const result = await revokeAttestation(writer(conn), conn.publicClient, { registryAddress: conn.registryAddress, signingAddress: signer });
  return printResult(values, { revoked: signer, transaction: result.transactionHash, gasUsed: result.gasUsed });
}

async function show(values: Values): Promise<number> {
  let fromBlock: bigint | undefined;
  if (values['from-block'] !== undefined) {
    if (!/^\d+$/.test(values['from-block'])) throw new UsageError('--from-block must be a block number');
    fromBlock = BigInt(values['from-block']);
  }
  const conn = await connect(values, { write: false });
  const state = await getRegistryState(conn.publicClient, { registryAddress: conn.registryAddress, fromBlock });
  if (values.json) {
    console.log(toJson({ chainId: conn.chainId, ...state }));
  } else {
    printState(conn.chainId, state);
  }
  return 0;
}

function printState(chainId: number, s: GetRegistryStateReturnType): void {
  console.log(`registry   ${s.registryAddress} (chain ${chainId}, block ${s.blockNumber})`);
  console.log(`owner      ${s.owner}${s.pendingOwner ? ` (transfer pending to ${s.pendingOwner})` : ''}`);
  console.log(`operators  ${s.operators.length ? s.operators.join(', ') : '-'}`);
  console.log(`\nmeasurements (${s.measurements.length})`);
  for (const m of s.measurements) {
    console.log(`  ${m.approved ? 'approved' : 'revoked '}  ${(m.platform ?? '?').padEnd(9)}  ${m.measurementId}  "${m.label}"  ${m.source}  (approvals: ${m.epoch})`);
  }
  console.log(`\nattestations (${s.attestations.length})`);
  for (const a of s.attestations) {
    const state = a.attested ? 'attested' : a.revoked ? 'revoked ' : 'inactive';
    const expires = new Date(Number(a.expiresAt) * 1000).toISOString();
    console.log(`  ${state}  ${a.signingAddress}  ${(a.platform ?? '?').padEnd(9)}  measurement ${a.measurementId}  expires ${expires}  operator ${a.operator}`);
  }
}

async function dev(values: Values): Promise<number> {
  const port = values.port === undefined ? DEFAULT_DEV_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const dataDir = values['data-dir'] ?? DEFAULT_DEV_DIR;
  const chain = await startDevChain({ dataDir, port });
  // The key goes to a 0600 file, not the terminal: even a public dev key should not teach copying keys around in logs.
  const keyFile = join(dataDir, 'dev-account-0.key');
  writeFileSync(keyFile, `${DEV_ACCOUNTS[0].privateKey}\n`, { mode: 0o600 });
  console.log(`dev chain running (anvil, chain id ${chain.chainId}); Ctrl-C to stop and save its state`);
  console.log(`  rpc       ${chain.rpcUrl}`);
  console.log(`  registry  ${chain.registryAddress} (${chain.reused ? 'reused from' : 'deployed, recorded in'} ${dataDir})`);
  console.log(`  owner     ${DEV_ACCOUNTS[0].address} (anvil dev account 0: its key is public, dev use only)`);
  console.log(`\n  export ${RPC_ENV}=${chain.rpcUrl} ${REGISTRY_ENV}=${chain.registryAddress}`);
  console.log(`  then e.g. veil chain show   or   veil chain approve --key-file ${keyFile} --platform simulated --measurement 00 --label L --source S`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await chain.stop();
  console.log('dev chain stopped; state saved');
  return 0;
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
