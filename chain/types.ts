import type { Account, Chain, Hash, PublicClient, Transport, WalletClient } from 'viem';

/** Any viem public client; reads go through `eth_call`, so any chain and transport will do. */
export type RegistryPublicClient = PublicClient<Transport, Chain | undefined>;

/** Writes need a local account (we sign locally; the node never sees a key) and a chain (for EIP-155 replay protection). */
export type RegistryWalletClient = WalletClient<Transport, Chain, Account>;

/** What every write action resolves with once its transaction is mined successfully. */
export type WriteReturnType = { transactionHash: Hash; blockNumber: bigint; gasUsed: bigint };
