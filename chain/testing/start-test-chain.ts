/**
 * Test fixture: a throwaway dev chain (real anvil, free port, temp dir) with three connected parties.
 * Always pair with `await chain.stop()` in afterAll.
 * @internal
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClient, http, toHex, type Address, type Hex } from 'viem';
import { connectChain, type ChainConnection } from '../connect-chain';
import { DEV_ACCOUNTS } from '../dev-accounts';
import { deployDevToken, mintDevToken } from '../deploy-dev-token';
import { deployPaymentChannels } from '../deploy-payment-channels';
import { setOperator } from '../set-operator';
import { startDevChain, type DevChain } from '../start-dev-chain';

export type TestChain = {
  dev: DevChain;
  dataDir: string;
  /** dev account 0: registry owner (and operator). */
  owner: Party;
  /** dev account 1: authorised operator. */
  operator: Party;
  /** dev account 2: nobody. */
  stranger: Party;
  testClient: ReturnType<typeof createTestClient>;
  /** Latest block timestamp (chain time, which tests move forward). */
  chainTime(): Promise<bigint>;
  stop(): Promise<void>;
};

export type Party = ChainConnection & { walletClient: NonNullable<ChainConnection['walletClient']>; account: Address };

export async function connectParty(rpcUrl: string, registryAddress: Hex, privateKey: Hex): Promise<Party> {
  const conn = await connectChain({ rpcUrl, registryAddress: registryAddress, privateKey, pollingInterval: 50, retryCount: 0 });
  if (!conn.walletClient || !conn.account) throw new Error('no wallet');
  return conn as Party;
}

export async function startTestChain(): Promise<TestChain> {
  const dataDir = mkdtempSync(join(tmpdir(), 'veil-chain-test-'));
  const dev = await startDevChain({ dataDir });
  try {
    const [owner, operator, stranger] = await Promise.all(
      DEV_ACCOUNTS.map((a) => connectParty(dev.rpcUrl, dev.registryAddress, a.privateKey)),
    );
    if (!owner || !operator || !stranger) throw new Error('unreachable');
    await setOperator(owner.walletClient, owner.publicClient, {
      registryAddress: dev.registryAddress,
      operator: operator.account,
      authorised: true,
    });
    const testClient = createTestClient({ mode: 'anvil', transport: http(dev.rpcUrl) });
    return {
      dev,
      dataDir,
      owner,
      operator,
      stranger,
      testClient,
      chainTime: async () => (await owner.publicClient.getBlock({ blockTag: 'latest' })).timestamp,
      stop: async () => {
        await dev.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await dev.stop();
    throw err;
  }
}

/** Random bytes as hex, for unique measurements and hashes per test. */
export function randomHex(bytes: number): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

export type PaymentsTestChain = { t: TestChain; payer: Party; receiver: Party; contractAddress: Address; token: Address; chainId: number };

/** startTestChain plus VeilPaymentChannels and a dev token, with the operator (the payer) funded; the stranger receives. */
export async function startPaymentsTestChain(): Promise<PaymentsTestChain> {
  const t = await startTestChain();
  try {
    const contractAddress = (await deployPaymentChannels(t.owner.walletClient, t.owner.publicClient)).address;
    const token = (await deployDevToken(t.owner.walletClient, t.owner.publicClient)).address;
    await mintDevToken(t.owner.walletClient, t.owner.publicClient, { tokenAddress: token, to: t.operator.account, amount: 10n ** 12n });
    return { t, payer: t.operator, receiver: t.stranger, contractAddress, token, chainId: t.owner.walletClient.chain.id };
  } catch (err) {
    await t.stop();
    throw err;
  }
}
