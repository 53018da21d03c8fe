/**
 * Test fixtures for paid calls (issue #11): a real anvil with the payment contracts and a funded payer, and a channel
 * opened on it whose vouchers come as PAYMENT-SIGNATURE headers. Shared by the payments/ tests and the paid-* tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toHex, type Address, type Hex, type LocalAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  channelId, connectChain, DEV_ACCOUNTS, deployDevPayments, depositChannel, signVoucher, startDevChain,
  type ChainConnection, type ChannelConfig, type DevChain,
} from '../../chain';
import { createGateway, createLogger, loadConfig, type Gateway } from '../../gateway';
import { encodeX402, X402_VERSION, type ChannelPayment } from '../../payments';

export type TestWallet = ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']> };

/** Dev account `index` (0 deploys, 1 pays, 2 receives) on a chain. */
export async function connectDevWallet(chain: { rpcUrl: string; registryAddress: Address }, index: 0 | 1 | 2): Promise<TestWallet> {
  return (await connectChain({ rpcUrl: chain.rpcUrl, registryAddress: chain.registryAddress, privateKey: DEV_ACCOUNTS[index].privateKey, pollingInterval: 50, retryCount: 0 })) as TestWallet;
}

export type PaymentsChain = {
  dev: DevChain;
  dir: string;
  contract: Address;
  token: Address;
  /** Dev account 1, funded with vUSD. */
  payer: TestWallet;
  /** Dev account 2. */
  receiver: Address;
  stop(): Promise<void>;
};

/** A throwaway anvil (temp dir) with VeilPaymentChannels and vUSD deployed, dev account 1 funded. */
export async function startPaymentsChain(): Promise<PaymentsChain> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-paid-'));
  const dev = await startDevChain({ dataDir: path.join(dir, 'chain') });
  const owner = await connectDevWallet(dev, 0);
  const deployed = await deployDevPayments(owner.walletClient, owner.publicClient, { fund: [DEV_ACCOUNTS[1].address] });
  return {
    dev, dir, contract: deployed.paymentChannelsAddress, token: deployed.tokenAddress, payer: await connectDevWallet(dev, 1), receiver: DEV_ACCOUNTS[2].address,
    async stop() {
      await dev.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type TestChannel = {
  id: Hex;
  config: ChannelConfig;
  authorizer: LocalAccount;
  /** The channel payment (config + signed voucher of `max`): by the channel's authorizer on its chain unless told otherwise. */
  payment(max: bigint, options?: { signer?: LocalAccount; chainId?: number }): Promise<ChannelPayment>;
  /** The same as a PAYMENT-SIGNATURE header value. */
  header(max: bigint, options?: { signer?: LocalAccount; chainId?: number }): Promise<string>;
};

/** Opens a channel (a first deposit from `payer`) with a fresh session key as its authorizer. */
export async function openTestChannel(params: {
  payer: TestWallet; chainId: number; contract: Address; token: Address; receiver: Address; amount: bigint; withdrawDelay?: number;
}): Promise<TestChannel> {
  const { payer, chainId, contract, token, receiver, amount } = params;
  const authorizer = privateKeyToAccount(generatePrivateKey());
  const config: ChannelConfig = {
    payer: payer.account!, payerAuthorizer: authorizer.address, receiver, token, withdrawDelay: params.withdrawDelay ?? 3600,
    salt: toHex(crypto.getRandomValues(new Uint8Array(32))),
  };
  await depositChannel(payer.walletClient, payer.publicClient, { contractAddress: contract, config, amount });
  const id = channelId({ chainId, contractAddress: contract, config });
  const payment: TestChannel['payment'] = async (max, options = {}) => {
    const v = await signVoucher(options.signer ?? authorizer, { chainId: options.chainId ?? chainId, contractAddress: contract, channelId: id, maxClaimableAmount: max });
    return { config, voucher: { channelId: id, maxClaimableAmount: max, signature: v.signature } };
  };
  return {
    id, config, authorizer, payment,
    header: async (max, options) => encodeX402({
      x402Version: X402_VERSION, accepted: { scheme: 'veil-channel', network: `eip155:${chainId}` }, payload: await payment(max, options),
    }),
  };
}

export type PaidPricing = { object: 'pricing'; enabled: boolean; network: string; contract: Address; token: Address; receiver: Address; models: Record<string, Record<string, string>> };

/**
 * A gateway in this process with payments on, as zero config would run it with `payments.enabled`: the embedded anvil
 * dev chain under a temp data dir, the SQLite ledger, breast-cancer-lr over FHE (`blocks`), TEE off unless `tee` says
 * otherwise (and `payments` adds settings). Returns its
 * GET /v1/pricing answer too (where to pay).
 */
export async function startPaidGateway(options: { tee?: Record<string, unknown>; payments?: Record<string, unknown> } = {}): Promise<{ gateway: Gateway; pricing: PaidPricing; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-paid-gw-'));
  const gateway = await createGateway(loadConfig({
    env: { VEIL_HTTP_PORT: '0' },
    overrides: {
      dataDir: dir, grpc: { port: 0 }, fhe: { models: ['breast-cancer-lr'], variants: ['blocks'], workers: 1 },
      tee: options.tee ?? { enabled: false }, chain: { enabled: true }, payments: { enabled: true, ...options.payments },
    },
  }), { logger: createLogger({ level: 'silent', format: 'text' }) });
  const pricing = (await (await fetch(`${gateway.httpUrl}/v1/pricing`)).json()) as PaidPricing;
  return {
    gateway, pricing,
    async stop() {
      await gateway.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
