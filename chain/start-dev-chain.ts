import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { createPublicClient, createWalletClient, defineChain, http, keccak256, type Address, type Hash } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { veilRegistryDeployedBytecode } from './artifacts/veil-registry';
import { deployRegistry } from './deploy-registry';
import { DEV_ACCOUNTS, DEV_CHAIN_ID } from './dev-accounts';
import { ChainError } from './errors';
import { setOperator } from './set-operator';
import { spawnAnvil } from './spawn-anvil';
import { toAddress } from './validate';

export type StartDevChainParameters = {
  /** Directory for anvil's state file and the deployment record; created if missing. */
  dataDir: string;
  /** Loopback only: the dev chain's keys are public. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  chainId?: number;
  /** Extra addresses to authorise as operators on a fresh deployment (dev account 0 always is). */
  operators?: Address[];
  /** Also dump state every N seconds, so a crash (SIGKILL) loses at most N seconds of changes. */
  stateIntervalSeconds?: number;
  anvilPath?: string;
  log?: (message: string) => void;
};

/** Written to `<dataDir>/deployment.json`; the registry is reused while the chain still holds its code. */
export type DevChainDeployment = {
  registryAddress: Address;
  chainId: number;
  deployer: Address;
  owner: Address;
  blockNumber: string;
  transactionHash: Hash;
  /** keccak256 of the runtime code, to notice a registry built from an older source. */
  codeHash: Hash;
  deployedAt: string;
};

export type DevChain = {
  rpcUrl: string;
  chainId: number;
  registryAddress: Address;
  deployment: DevChainDeployment;
  /** True when the registry from a previous run was found intact; false when it was (re)deployed. */
  reused: boolean;
  /** Stops anvil gracefully (it writes its state file on SIGTERM). Idempotent. */
  stop(): Promise<void>;
};
export type StartDevChainReturnType = DevChain;

export const DEV_STATE_FILE = 'anvil-state.json';
export const DEV_DEPLOYMENT_FILE = 'deployment.json';

/**
 * Starts a persistent local chain (anvil) with the registry deployed: the embedded default for development.
 *
 * First start: deploys the registry from dev account 0 (owner and operator). Later starts: anvil reloads
 * `<dataDir>/anvil-state.json`, and the recorded registry is reused if code with the expected hash is still at its
 * address; otherwise (state lost, chain id changed, contract source changed) it is deployed again and the record
 * rewritten.
 *
 * @example
 * const dev = await startDevChain({ dataDir: '.veil/chain' })
 * // … dev.rpcUrl, dev.registryAddress …
 * await dev.stop()
 * @throws {ChainError} `dev_chain_failed`, `invalid_argument`
 */
export async function startDevChain({
  dataDir,
  host = '127.0.0.1',
  port = 0,
  chainId = DEV_CHAIN_ID,
  operators = [],
  stateIntervalSeconds,
  anvilPath,
  log = () => {},
}: StartDevChainParameters): Promise<StartDevChainReturnType> {
  if (!isLoopback(host)) {
    throw new ChainError('invalid_argument', `host: the dev chain listens on loopback only (got ${host}); its keys are public`);
  }
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, DEV_STATE_FILE);
  const anvil = await spawnAnvil({ host, port, chainId, stateFile, stateIntervalSeconds, anvilPath });
  try {
    const chain = defineChain({
      id: chainId,
      name: 'veil-dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    // Anvil mines on every transaction, so poll receipts fast.
    const transport = http(anvil.rpcUrl, { retryCount: 0 });
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
    // Dev account 0: a PUBLIC key, acceptable only because this chain is local and disposable.
    const account = privateKeyToAccount(DEV_ACCOUNTS[0].privateKey);
    const walletClient = createWalletClient({ chain, transport, account, pollingInterval: 50 });

    const expectedCodeHash = keccak256(veilRegistryDeployedBytecode);
    const recorded = readDeployment(join(dir, DEV_DEPLOYMENT_FILE));
    if (recorded && recorded.chainId === chainId && recorded.codeHash === expectedCodeHash) {
      const code = await publicClient.getCode({ address: recorded.registryAddress });
      if (code && code !== '0x' && keccak256(code) === expectedCodeHash) {
        log(`dev chain: reusing registry ${recorded.registryAddress}`);
        return { rpcUrl: anvil.rpcUrl, chainId, registryAddress: recorded.registryAddress, deployment: recorded, reused: true, stop: () => anvil.stop() };
      }
      log(`dev chain: registry ${recorded.registryAddress} not found in chain state; redeploying`);
    } else if (recorded) {
      log('dev chain: recorded deployment is for another chain id or contract version; redeploying');
    }

    const deployed = await deployRegistry(walletClient, publicClient, { owner: account.address });
    for (const operator of [account.address, ...operators.map((o) => toAddress('operators', o))]) {
      await setOperator(walletClient, publicClient, { registryAddress: deployed.address, operator, authorised: true });
    }
    const deployment: DevChainDeployment = {
      registryAddress: deployed.address,
      chainId,
      deployer: deployed.deployer,
      owner: deployed.owner,
      blockNumber: deployed.blockNumber.toString(),
      transactionHash: deployed.transactionHash,
      codeHash: expectedCodeHash,
      deployedAt: new Date().toISOString(),
    };
    writeDeployment(join(dir, DEV_DEPLOYMENT_FILE), deployment);
    log(`dev chain: deployed registry ${deployed.address}`);
    return { rpcUrl: anvil.rpcUrl, chainId, registryAddress: deployed.address, deployment, reused: false, stop: () => anvil.stop() };
  } catch (err) {
    await anvil.stop();
    if (err instanceof ChainError) throw err;
    throw new ChainError('dev_chain_failed', 'dev chain: could not deploy the registry', { cause: err });
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function readDeployment(path: string): DevChainDeployment | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<DevChainDeployment>;
    if (typeof value.registryAddress === 'string' && typeof value.chainId === 'number' && typeof value.codeHash === 'string') {
      return value as DevChainDeployment;
    }
  } catch {
    // Missing or unreadable: treat as "never deployed".
  }
  return undefined;
}

/** Write-then-rename, so a crash mid-write never leaves a half record that would be trusted next time. */
function writeDeployment(path: string, deployment: DevChainDeployment): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deployment, null, 2)}\n`);
  renameSync(tmp, path);
}
