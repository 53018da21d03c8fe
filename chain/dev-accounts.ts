import type { Address, Hex } from 'viem';

/**
 * Anvil's well-known default accounts (mnemonic "test test … junk"). These keys are PUBLIC: they are printed by every
 * anvil and hardhat node on earth. Use them ONLY against the local dev chain started by `startDevChain`, never on a
 * network anyone else can reach.
 */
export const DEV_ACCOUNTS = [
  { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' },
  { address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' },
  { address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', privateKey: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' },
] as const satisfies readonly { address: Address; privateKey: Hex }[];

export const DEV_CHAIN_ID = 31337;

/**
 * Chain ids of local development chains (anvil/Hardhat 31337, geth --dev/Ganache 1337): whoever runs one writes it, and
 * its dev accounts' keys are public. A registry there proves nothing; dev account 1 may pay there without a key given.
 */
export const DEV_CHAIN_IDS: ReadonlySet<number> = new Set([DEV_CHAIN_ID, 1337]);
