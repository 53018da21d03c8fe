import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Address,
  type Chain,
  type Hex,
  type HttpTransport,
  type PrivateKeyAccount,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainError } from './errors';
import { readRegistry } from './read-registry';
import { toAddress } from './validate';

export type ConnectChainParameters = {
  rpcUrl: string;
  registryAddress: Address;
  /** Needed only for writes. Load it with `loadPrivateKey`; never put it in a config file. */
  privateKey?: Hex;
  /** Receipt/event polling interval. 1 s suits public chains; the dev chain passes ~50 ms (it mines instantly). */
  pollingInterval?: number;
  /** viem's own HTTP retries per request. The publisher does its own backoff, so it can pass 0. */
  retryCount?: number;
  /** Per-request timeout in ms. */
  timeout?: number;
};

export type ChainConnection = {
  chain: Chain;
  chainId: number;
  registryAddress: Address;
  publicClient: PublicClient<HttpTransport, Chain>;
  /** Present when a private key was given. */
  walletClient: WalletClient<HttpTransport, Chain, PrivateKeyAccount> | undefined;
  /** Address of the signing account, if any (safe to log). */
  account: Address | undefined;
};
export type ConnectChainReturnType = ChainConnection;

/**
 * Connects to any EVM JSON-RPC endpoint: asks for its chain id, builds viem clients, and (when a key is given) a
 * wallet client that signs locally. Does not check the registry address holds code; reads will fail with
 * `registry_not_found` if it does not.
 *
 * @example
 * const conn = await connectChain({ rpcUrl, registryAddress, privateKey: loadPrivateKey({ env: process.env }).privateKey })
 * @throws {ChainError} `rpc_unavailable`, `invalid_address`, `invalid_argument`, `invalid_private_key`
 */
export async function connectChain({
  rpcUrl,
  registryAddress,
  privateKey,
  pollingInterval = 1_000,
  retryCount,
  timeout = 10_000,
}: ConnectChainParameters): Promise<ConnectChainReturnType> {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    throw new ChainError('invalid_argument', 'rpc: not a URL (expected http:// or https://)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ChainError('invalid_argument', `rpc: unsupported scheme ${url.protocol} (expected http: or https:)`);
  }
  const address = toAddress('registryAddress', registryAddress);
  const transport = http(rpcUrl, { retryCount, timeout });
  const probe = createPublicClient({ transport });
  const chainId = await readRegistry('connectChain', () => probe.getChainId());
  // Only the origin goes into the chain definition: many providers put the API key in the path.
  const chain = defineChain({
    id: chainId,
    name: `evm-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url.origin] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  let account: PrivateKeyAccount | undefined;
  if (privateKey !== undefined) {
    try {
      account = privateKeyToAccount(privateKey);
    } catch {
      throw new ChainError('invalid_private_key', 'the private key is not a valid secp256k1 key');
    }
  }
  const walletClient = account ? createWalletClient({ chain, transport, account, pollingInterval }) : undefined;
  return { chain, chainId, registryAddress: address, publicClient, walletClient, account: account?.address };
}
