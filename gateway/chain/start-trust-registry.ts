import path from 'node:path';
import { getAddress, isAddress, toHex, type Address } from 'viem';
import type { AttestationClaims, AttestationEnvelope } from '../../attestation';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import {
  approveMeasurement, connectChain, createAttestationPublisher, DEV_ACCOUNTS, evidenceHash, getMeasurement, hpkeKeyHash,
  loadPrivateKey, measurementId, registryMeasurement, startDevChain,
  type ChainConnection, type DevChain, type Platform, type PublishOutcome,
} from '../../chain';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';

/** Where clients find the registry this gateway publishes to. */
export type TrustRegistryInfo = { chainId: number; rpcUrl: string; registryAddress: Address; embedded: boolean };

export type TrustRegistry = {
  info: TrustRegistryInfo;
  /** Publishes a verified node's attestation; never throws (serving must not depend on the chain). */
  publishAttestation(node: { envelope: AttestationEnvelope; claims: AttestationClaims }): Promise<PublishOutcome>;
  /** Resolves when every publish queued so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
};

export type StartTrustRegistryDependencies = {
  logger: Logger;
  env?: Record<string, string | undefined>;
  now?: () => number;
};

/** Label recorded on-chain for the simulated platform's measurement, so no one mistakes it for hardware. */
export const SIMULATED_MEASUREMENT_LABEL = 'SIMULATED development enclave - no hardware protection';

/**
 * Connects the gateway to its on-chain registry. With `chain.rpcUrl = "embedded"` (the default) it starts a
 * persistent anvil dev chain under `dataDir/chain`, reusing the deployed registry across restarts, and approves
 * the simulated platform's measurement (dev only, labelled). Otherwise it connects to the configured chain with
 * the operator key from `VEIL_CHAIN_PRIVATE_KEY` or `chain.keyFile`.
 */
export async function startTrustRegistry(config: VeilConfig, deps: StartTrustRegistryDependencies): Promise<TrustRegistry | undefined> {
  if (!config.chain.enabled) return undefined;
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const embedded = config.chain.rpcUrl === 'embedded';
  let dev: DevChain | undefined;
  let connection: ChainConnection;

  if (embedded) {
    dev = await startDevChain({ dataDir: path.join(config.dataDir, 'chain') });
    // Dev account 0 is anvil's public, well-known key: it is only ever used against this loopback chain.
    connection = await connectChain({ rpcUrl: dev.rpcUrl, registryAddress: dev.registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50, retryCount: 0 });
    const simulated = toHex(DEFAULT_SIMULATED_MEASUREMENT);
    const state = await getMeasurement(connection.publicClient, { registryAddress: dev.registryAddress, measurementId: measurementId('simulated', simulated) });
    if (!state.approved) {
      await approveMeasurement(connection.walletClient!, connection.publicClient, {
        registryAddress: dev.registryAddress, platform: 'simulated', measurement: simulated,
        label: SIMULATED_MEASUREMENT_LABEL, source: 'veil embedded dev chain default',
      });
    }
    logger.info('dev chain ready', { rpc: dev.rpcUrl, registry: dev.registryAddress, reused: dev.reused, simulatedMeasurementApproved: true });
  } else {
    const registry = config.chain.registryAddress;
    if (!isAddress(registry)) {
      throw new Error(`chain.registryAddress must be the registry's address when chain.rpcUrl is set (got "${registry}")`);
    }
    const { privateKey } = loadPrivateKey({ env: deps.env ?? process.env, keyFile: config.chain.keyFile === 'none' ? undefined : config.chain.keyFile });
    connection = await connectChain({ rpcUrl: config.chain.rpcUrl, registryAddress: getAddress(registry), privateKey, retryCount: 0 });
    logger.info('chain connected', { chainId: connection.chainId, registry: connection.registryAddress, operator: connection.account });
  }

  const publisher = createAttestationPublisher({
    client: connection,
    registryAddress: connection.registryAddress,
    log: (entry) => logger[entry.level](`chain ${entry.event}`, {
      signer: entry.signingAddress, attempt: entry.attempt, code: entry.code, delayMs: entry.delayMs, tx: entry.transactionHash,
    }),
  });

  return {
    info: { chainId: connection.chainId, rpcUrl: embedded ? dev!.rpcUrl : redactUrl(config.chain.rpcUrl), registryAddress: connection.registryAddress, embedded },
    publishAttestation({ envelope, claims }) {
      return publisher.publish({
        evidenceHash: evidenceHash(Buffer.from(envelope.evidence, 'base64')),
        platform: claims.platform as Platform,
        measurement: registryMeasurement(claims),
        signingAddress: getAddress(envelope.signingAddress),
        hpkeKeyHash: hpkeKeyHash(Buffer.from(envelope.hpkePublicKey, 'hex')),
        expiresAt: Math.floor(now() / 1000) + config.chain.attestationTtlSeconds,
      });
    },
    idle: () => publisher.idle(),
    async close() {
      await publisher.idle();
      await dev?.stop();
    },
  };
}

/** RPC URLs often carry API keys in their path or query; clients only need the origin to recognise the chain. */
function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'configured';
  }
}
