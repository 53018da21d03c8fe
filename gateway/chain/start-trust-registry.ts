import path from 'node:path';
import { getAddress, isAddress, toHex, type Address } from 'viem';
import type { AttestationClaims, AttestationEnvelope } from '../../attestation';
import { DEFAULT_SIMULATED_MEASUREMENT } from '../../attestation';
import {
  approveMeasurement, connectChain, createAttestationPublisher, DEV_ACCOUNTS, evidenceHash, getMeasurement, hpkeKeyHash,
  loadPrivateKey, measurementId, registryMeasurement, startDevChain,
  type AttestationPublisher, type ChainConnection, type DevChain, type Platform, type PublishOutcome,
} from '../../chain';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';

/** Where clients find the registry this gateway publishes to. */
export type TrustRegistryInfo = { chainId: number; rpcUrl: string; registryAddress: Address; embedded: boolean };

export type TrustRegistry = {
  /** Current registry coordinates (chainId is 0 until a configured chain has answered). */
  info(): TrustRegistryInfo;
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
  /** Backoff between connection attempts to a configured chain (injected for tests). */
  sleep?: (ms: number) => Promise<void>;
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
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref()));
  const embedded = config.chain.rpcUrl === 'embedded';
  let dev: DevChain | undefined;
  let ready: { connection: ChainConnection; publisher: AttestationPublisher } | undefined;
  let closed = false;

  const attach = (connection: ChainConnection) => {
    ready = {
      connection,
      publisher: createAttestationPublisher({
        client: connection,
        registryAddress: connection.registryAddress,
        log: (entry) => logger[entry.level](`chain ${entry.event}`, {
          signer: entry.signingAddress, attempt: entry.attempt, code: entry.code, delayMs: entry.delayMs, tx: entry.transactionHash,
        }),
      }),
    };
  };

  let registryAddress: Address;
  if (embedded) {
    dev = await startDevChain({ dataDir: path.join(config.dataDir, 'chain') });
    registryAddress = dev.registryAddress;
    // Dev account 0 is anvil's public, well-known key: it is only ever used against this loopback chain.
    const connection = await connectChain({ rpcUrl: dev.rpcUrl, registryAddress, privateKey: DEV_ACCOUNTS[0].privateKey, pollingInterval: 50, retryCount: 0 });
    const simulated = toHex(DEFAULT_SIMULATED_MEASUREMENT);
    const state = await getMeasurement(connection.publicClient, { registryAddress, measurementId: measurementId('simulated', simulated) });
    if (!state.approved) {
      await approveMeasurement(connection.walletClient!, connection.publicClient, {
        registryAddress, platform: 'simulated', measurement: simulated,
        label: SIMULATED_MEASUREMENT_LABEL, source: 'veil embedded dev chain default',
      });
    }
    attach(connection);
    logger.info('dev chain ready', { rpc: dev.rpcUrl, registry: registryAddress, reused: dev.reused, simulatedMeasurementApproved: true });
  } else {
    // Configuration mistakes stop startup; an unreachable chain does not (serving must not depend on it).
    if (!isAddress(config.chain.registryAddress)) {
      throw new Error(`chain.registryAddress must be the registry's address when chain.rpcUrl is set (got "${config.chain.registryAddress}")`);
    }
    registryAddress = getAddress(config.chain.registryAddress);
    const { privateKey } = loadPrivateKey({ env: deps.env ?? process.env, keyFile: config.chain.keyFile === 'none' ? undefined : config.chain.keyFile });
    // Connect in the background, retrying with backoff until the chain answers or the gateway closes.
    void (async () => {
      for (let attempt = 1, delay = 1_000; !closed; attempt++, delay = Math.min(delay * 2, 60_000)) {
        try {
          const connection = await connectChain({ rpcUrl: config.chain.rpcUrl, registryAddress, privateKey, retryCount: 0 });
          if (closed) return;
          attach(connection);
          logger.info('chain connected', { chainId: connection.chainId, registry: registryAddress, operator: connection.account, attempt });
          return;
        } catch (err) {
          logger.warn('chain unreachable; attestations are published once it answers', {
            attempt, retryInMs: delay, code: (err as { code?: string }).code ?? 'error',
          });
          await sleep(delay);
        }
      }
    })();
  }

  const rpcUrl = embedded ? dev!.rpcUrl : redactUrl(config.chain.rpcUrl);
  return {
    info: () => ({ chainId: ready?.connection.chainId ?? 0, rpcUrl, registryAddress, embedded }),
    publishAttestation({ envelope, claims }) {
      if (!ready) {
        logger.warn('chain not connected: attestation not published now; the next refresh publishes it', { signer: envelope.signingAddress });
        return Promise.resolve({ ok: false, code: 'rpc_unavailable', message: 'the chain is not reachable yet', retryable: true, attempts: 0 });
      }
      return ready.publisher.publish({
        evidenceHash: evidenceHash(Buffer.from(envelope.evidence, 'base64')),
        platform: claims.platform as Platform,
        measurement: registryMeasurement(claims),
        signingAddress: getAddress(envelope.signingAddress),
        hpkeKeyHash: hpkeKeyHash(Buffer.from(envelope.hpkePublicKey, 'hex')),
        expiresAt: Math.floor(now() / 1000) + config.chain.attestationTtlSeconds,
      });
    },
    idle: async () => {
      await ready?.publisher.idle();
    },
    async close() {
      closed = true;
      await ready?.publisher.idle();
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
