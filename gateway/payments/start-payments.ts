import fs from 'node:fs';
import path from 'node:path';
import { getAddress, isAddress, type Address } from 'viem';
import {
  claimVouchers, confirmedBlock, connectChain, DEV_ACCOUNTS, deployDevPayments, getChannel, loadPrivateKey, readChannelEvents, type ChainConnection,
} from '../../chain';
import {
  createBudgetGate, createChannelMirror, createPaymentGate, createReservationLeases, createSettlementWorker, DEFAULT_PRICE_TABLE, openPostgresLedger, openSqliteLedger, parsePriceTable,
  type PaymentGate, type PaymentLedger, type PriceTable, type SettlementWorker,
} from '../../payments';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';
import type { GatewayPayments } from './charge-call';
import { timeLedger } from '../telemetry/payments-metrics';

/** Where the gateway takes payments, as `GET /v1/pricing` reports it. */
export type PaymentsInfo = {
  network: string; chainId: number; rpcUrl: string; contract: Address; token: Address; receiver: Address; ledger: 'sqlite' | 'postgres';
  /** The chain is the embedded anvil dev chain (its loopback URL is then published, so dev clients can open channels). */
  embedded: boolean;
};

export type StartedPayments = GatewayPayments & {
  ledger: PaymentLedger;
  info: PaymentsInfo;
  /** Claims the ledger's charges on chain (absent with payments.settlementKeyFile = none: another process settles). */
  settlement: SettlementWorker | undefined;
  /** Reads confirmed deposits and withdrawals into the ledger once (it also runs every watchIntervalSeconds). */
  watch(): Promise<void>;
  close(): Promise<void>;
};

export type StartPaymentsDependencies = {
  logger: Logger;
  /** The chain the trust registry connected to (the embedded dev chain's URL when chain.rpcUrl = "embedded"). */
  chain: { rpcUrl: string; embedded: boolean } | undefined;
  /** Where VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY is read (process.env; injected in tests). */
  env?: Record<string, string | undefined>;
  now?: () => number;
  /** API keys' budgets (the keys file, when auth.mode = api-keys): a key's calls without vouchers are charged to it. */
  budgetOf?: (keyId: string) => bigint | undefined;
};

/** The embedded chain's payment contracts, written once under dataDir/chain and reused while the chain holds their code. */
const DEV_PAYMENTS_FILE = 'payments.json';

/**
 * Starts billing (issue #11) when `payments.enabled`: the price table, the ledger (SQLite under dataDir, or the shared
 * PostgreSQL), the payment channels contract (on the embedded dev chain deployed once with a dev token that funds the
 * dev accounts) and the gate every paid surface admits through. Uncommitted reservations of a crashed run are freed
 * now and then by the reaper (they were never served, so never charged).
 */
export async function startPayments(config: VeilConfig, deps: StartPaymentsDependencies): Promise<StartedPayments | undefined> {
  const p = config.payments;
  if (!p.enabled) return undefined;
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  if (!deps.chain) throw new Error('payments.enabled needs the chain (chain.enabled = true): channels live on chain');
  const { rpcUrl, embedded } = deps.chain;
  const prices = loadPrices(p.pricesFile);

  // Reads only: the gateway never sends a transaction here (the settlement worker claims with its own key).
  const reader: ChainConnection = await connectChain({ rpcUrl, registryAddress: '0x0000000000000000000000000000000000000000', pollingInterval: 50, retryCount: 0 });
  // The chain's own id (vouchers are bound to it), not what the registry reported before the chain first answered.
  const chainId = reader.chainId;
  let contract: Address;
  let token: Address;
  if (p.contractAddress === 'deploy' || p.tokenAddress === 'deploy') {
    if (!embedded) throw new Error('payments.contractAddress and payments.tokenAddress must be addresses on a non-embedded chain ("deploy" is for the embedded dev chain)');
    ({ contract, token } = await devPaymentContracts(config.dataDir, rpcUrl, reader, logger));
  } else {
    contract = address(p.contractAddress, 'payments.contractAddress');
    token = address(p.tokenAddress, 'payments.tokenAddress');
  }
  if (p.receiver === 'dev' && !embedded) throw new Error('payments.receiver must be an address on a non-embedded chain');
  const receiver = p.receiver === 'dev' ? DEV_ACCOUNTS[2].address : address(p.receiver, 'payments.receiver');

  let ledger: PaymentLedger;
  if (p.ledger === 'postgres') {
    if (p.postgresUrl === 'none') throw new Error('payments.ledger = postgres needs payments.postgresUrl (VEIL_PAYMENTS_POSTGRES_URL)');
    ledger = await openPostgresLedger({ connectionString: p.postgresUrl });
  } else {
    const file = p.sqliteFile === 'default' ? path.join(config.dataDir, 'payments.sqlite') : p.sqliteFile;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    ledger = await openSqliteLedger({ file, synchronous: p.sqliteSynchronous });
  }
  ledger = timeLedger(ledger); // issue #12: veil.ledger.duration

  // One set of leases for voucher and budget calls: every reservation of this process renewed in one ledger write.
  const leases = createReservationLeases({
    ledger, now, leaseMs: p.reservationLeaseSeconds * 1000, maxMs: p.reservationTtlSeconds * 1000,
    onError: (err) => logger.error('payments lease renewal failed', { reason: (err as Error).message }),
  });
  const gate: PaymentGate = createPaymentGate({
    ledger, deployment: { chainId, contractAddress: contract }, receiver, token, now, leases,
    minWithdrawDelaySeconds: p.minWithdrawDelaySeconds,
    reservationTtlMs: p.reservationTtlSeconds * 1000,
    // The state at head − confirmations: a deposit counts only once it is that deep (reorg safety).
    readChannel: async (channelId) => {
      const head = await reader.publicClient.getBlockNumber();
      const block = head > BigInt(p.confirmations) ? head - BigInt(p.confirmations) : 0n;
      return { ...(await getChannel(reader.publicClient, { contractAddress: contract, channelId, blockNumber: block })), block };
    },
  });

  const reap = async () => {
    try {
      const freed = await ledger.reapExpired(now());
      if (freed > 0) logger.info('payments reservations expired', { freed });
    } catch (err) {
      logger.error('payments reaper failed', { reason: (err as Error).message });
    }
  };
  if (p.ledger === 'sqlite') {
    // One gateway owns a SQLite ledger: every reservation in it is from a run that died mid-call (never answered, so
    // never charged). Freed now, so the client's retry of that call is admitted at once instead of after the TTL.
    const freed = await ledger.reapExpired(Number.MAX_SAFE_INTEGER);
    if (freed > 0) logger.info('payments reservations of the previous run freed', { freed });
  }
  await reap();
  const timer = setInterval(() => void reap(), 30_000);
  timer.unref();

  // Settlement: the receiver's key claims; on the embedded chain that is dev account 2 (a public dev key).
  let settlement: SettlementWorker | undefined;
  const env = deps.env ?? process.env;
  if (p.settlementKeyFile !== 'none' || env.VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY) {
    let privateKey: `0x${string}`;
    if (env.VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY) {
      privateKey = loadPrivateKey({ env, envName: 'VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY' }).privateKey;
    } else if (p.settlementKeyFile === 'dev') {
      if (!embedded) throw new Error('payments.settlementKeyFile = dev is for the embedded chain: give a key file, VEIL_PAYMENTS_SETTLEMENT_PRIVATE_KEY, or "none"');
      privateKey = DEV_ACCOUNTS[2].privateKey;
    } else {
      privateKey = loadPrivateKey({ keyFile: p.settlementKeyFile }).privateKey;
    }
    const wallet = await connectChain({ rpcUrl, registryAddress: '0x0000000000000000000000000000000000000000', privateKey, pollingInterval: embedded ? 50 : 1_000, retryCount: 0 });
    if (getAddress(wallet.account!) !== receiver) throw new Error(`the settlement key is for ${wallet.account}, not the receiver ${receiver}`);
    if (!/^(0|[1-9][0-9]{0,38})$/.test(p.claimThreshold)) throw new Error('payments.claimThreshold must be a decimal number of atomic units');
    settlement = createSettlementWorker({
      ledger, thresholdAmount: BigInt(p.claimThreshold), intervalMs: p.claimIntervalSeconds * 1000, now,
      claim: async (claims, onSent) => {
        await claimVouchers(wallet.walletClient!, wallet.publicClient, { contractAddress: contract, claims, onSent, receiptTimeoutMs: 120_000 });
      },
      receiptOf: async (hash) => {
        const r = await wallet.publicClient.getTransactionReceipt({ hash }).catch(() => undefined);
        return r ? (r.status === 'success' ? 'mined' : 'reverted') : 'unknown';
      },
      log: (event, fields) => logger.info(event, fields),
    });
  }
  const mirror = createChannelMirror({
    ledger,
    confirmedBlock: () => confirmedBlock(reader.publicClient, p.confirmations),
    readEvents: (fromBlock, toBlock) => readChannelEvents(reader.publicClient, { contractAddress: contract, fromBlock, toBlock }),
    readChannel: (channelId, block) => getChannel(reader.publicClient, { contractAddress: contract, channelId, blockNumber: block }),
    onWithdrawal: async (channelId) => {
      await settlement?.withdrawalStarted(channelId);
    },
    log: (event, fields) => logger.warn(event, fields),
  });
  let watching: Promise<void> | undefined;
  const watch = () => {
    watching ??= (async () => {
      try {
        await mirror.poll();
        await settlement?.run('threshold');
      } catch (err) {
        logger.error('payments watch failed', { reason: (err as Error).message });
      } finally {
        watching = undefined;
      }
    })();
    return watching;
  };
  await watch();
  const watcher = setInterval(() => void watch(), p.watchIntervalSeconds * 1000);
  watcher.unref();

  const info: PaymentsInfo = { network: `eip155:${chainId}`, chainId, rpcUrl, contract, token, receiver, ledger: p.ledger, embedded };
  logger.info('payments on', { network: info.network, contract, token, receiver, ledger: p.ledger });
  return {
    gate, prices, ledger, info, settlement, watch,
    ...(deps.budgetOf ? { budgets: { gate: createBudgetGate({ ledger, receiver, token, now, leases, reservationTtlMs: p.reservationTtlSeconds * 1000 }), budgetOf: deps.budgetOf } } : {}),
    stream: { windowTokens: p.streamWindowTokens, pauseMs: p.streamPauseSeconds * 1000 },
    async close() {
      clearInterval(timer);
      clearInterval(watcher);
      await watching;
      await settlement?.stop();
      await ledger.close();
    },
  };
}

function loadPrices(file: string): PriceTable {
  if (file === 'default') return DEFAULT_PRICE_TABLE;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`payments.pricesFile ${file}: ${(err as Error).message}`);
  }
  return parsePriceTable(json, `payments.pricesFile (${file})`);
}

function address(value: string, name: string): Address {
  if (!isAddress(value, { strict: false })) throw new Error(`${name} must be a 0x-prefixed 20-byte address`);
  return getAddress(value);
}

/**
 * The embedded chain's VeilPaymentChannels and dev token: reused from dataDir/chain/payments.json while the chain still
 * holds their code (it persists its state across restarts), else deployed anew with dev account 0, funding every dev
 * account with vUSD so the zero-config payer has money.
 */
export async function devPaymentContracts(dataDir: string, rpcUrl: string, reader: ChainConnection, logger: Logger): Promise<{ contract: Address; token: Address }> {
  const file = path.join(dataDir, 'chain', DEV_PAYMENTS_FILE);
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { contract?: string; token?: string };
    if (saved.contract && saved.token && isAddress(saved.contract) && isAddress(saved.token)) {
      const [c, t] = await Promise.all([reader.publicClient.getCode({ address: saved.contract }), reader.publicClient.getCode({ address: saved.token })]);
      if (c && c !== '0x' && t && t !== '0x') return { contract: getAddress(saved.contract), token: getAddress(saved.token) };
    }
  } catch {
    // absent or unreadable: deploy
  }
  // Dev account 0 is anvil's public, well-known key: only ever used against the loopback dev chain.
  const deployer = await connectChain({ rpcUrl, registryAddress: '0x0000000000000000000000000000000000000000', privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50, retryCount: 0 });
  const deployed = await deployDevPayments(deployer.walletClient!, deployer.publicClient);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ contract: deployed.paymentChannelsAddress, token: deployed.tokenAddress }, null, 2)}\n`);
  logger.info('payments deployed on the dev chain', { contract: deployed.paymentChannelsAddress, token: deployed.tokenAddress, funded: deployed.funded.length });
  return { contract: deployed.paymentChannelsAddress, token: deployed.tokenAddress };
}
