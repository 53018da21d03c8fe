import { getAddress, isAddress, type Address } from 'viem';
import {
  parseEnvelope, verifyEvidence, type AttestationEnvelope, type AttestationPolicy, type SimulatedTrust, type VerifyEvidenceResult,
} from '../attestation';
import { connectChain, DEV_CHAIN_IDS } from '../chain';
import { createVeilClient } from '../client';
import { checkEnclaveOnchain } from '../client/trust';

export type OnchainReason = { code: string; message: string };

export type OnchainEnclaveVerdict = {
  nodeId: string | null;
  verdict: 'valid' | 'invalid';
  platform: string;
  measurement: string | null;
  signingAddress: string;
  simulated: boolean;
  /** Off-chain evidence failures first, then on-chain ones. */
  reasons: OnchainReason[];
};

export type OnchainVerifyReport = {
  verdict: 'valid' | 'invalid';
  at: string;
  /** `flags`: pinned with --rpc/--registry; `gateway`: the gateway's own word, taken on --trust-gateway-registry. */
  registry: { chainId: number; registryAddress: string; rpcUrl: string; source: 'flags' | 'gateway' };
  enclaves: OnchainEnclaveVerdict[];
};

export type RunOnchainVerifyParameters = {
  /** Gateway to ask for its attested enclaves (and, only with `trustGatewayRegistry`, its registry). */
  target?: string;
  /** An envelope to check instead of the gateway's enclaves. */
  envelope?: AttestationEnvelope;
  /** The pinned chain and registry (--rpc, --registry): from the verifier's own records, never from the gateway. */
  rpcUrl?: string;
  registryAddress?: string;
  /** --trust-gateway-registry: take the registry the gateway names (it is the party being checked). */
  trustGatewayRegistry?: boolean;
  /** --allow-simulated: also accept a development registry (the gateway's embedded anvil, or a dev chain id). */
  allowDevRegistry?: boolean;
  policy: AttestationPolicy;
  /** Pinned SIMULATED verifier keys, or 'self-signed' (`--accept-self-signed`); none: SIMULATED evidence fails. */
  simulatedTrust?: SimulatedTrust;
  now: Date;
};

/** A usage problem (bad flag values, nothing to check): exit code 2. */
export class OnchainUsageError extends Error {}

/** The registry itself is refused (a development registry without --allow-simulated): exit code 1. */
export class OnchainRegistryRefused extends Error {
  override name = 'OnchainRegistryRefused' as const;
  readonly code = 'dev_registry_refused' as const;
}


/**
 * Connects to a registry and refuses a local development chain (whose operator writes what it likes) unless allowed:
 * the one rule for `veil verify --onchain` and `veil proxy --onchain`.
 * @throws {OnchainRegistryRefused} a development chain without `allowDevRegistry`
 */
export async function connectRegistry(rpcUrl: string, registryAddress: Address, allowDevRegistry: boolean): Promise<Awaited<ReturnType<typeof connectChain>>> {
  const connection = await connectChain({ rpcUrl, registryAddress });
  if (DEV_CHAIN_IDS.has(connection.chainId) && !allowDevRegistry) {
    throw new OnchainRegistryRefused(
      `the registry is on chain ${connection.chainId}, a local development chain whose operator writes what it likes; pass --allow-simulated to accept it (development only)`,
    );
  }
  return connection;
}

/** --rpc and --registry, checked: both or neither, and a 0x address. */
export function pinnedRegistryFlags(rpcUrl: string | undefined, registryAddress: string | undefined): { rpcUrl: string; registryAddress: Address } | undefined {
  if (!rpcUrl && !registryAddress) return undefined;
  if (!rpcUrl || !registryAddress) throw new OnchainUsageError('--rpc and --registry go together');
  if (!isAddress(registryAddress)) throw new OnchainUsageError(`--registry must be a 0x address (got "${registryAddress}")`);
  return { rpcUrl, registryAddress: getAddress(registryAddress) };
}

/**
 * `veil verify --onchain`: verifies each enclave's evidence off-chain (same code as the SDK and gateway), then
 * checks the registry: the signing address is attested with an approved, unrevoked, unexpired measurement, and the
 * published evidence hash, HPKE key hash and measurement are this evidence's. Every enclave must pass both.
 *
 * The registry is the trust anchor, so it is pinned (--rpc and --registry) rather than taken from the gateway being
 * checked: a gateway that names its own registry can name one it controls. `trustGatewayRegistry` opts into that
 * explicitly. A development registry — the gateway's embedded anvil, or a dev chain id — is refused unless
 * `allowDevRegistry`: its operator writes whatever it likes into it.
 */
export async function runOnchainVerify(params: RunOnchainVerifyParameters): Promise<OnchainVerifyReport> {
  const client = params.target ? createVeilClient({ target: params.target }) : undefined;
  try {
    let registry: OnchainVerifyReport['registry'];
    const pinned = pinnedRegistryFlags(params.rpcUrl, params.registryAddress);
    if (pinned) {
      registry = { chainId: 0, ...pinned, source: 'flags' };
    } else {
      if (!client) throw new OnchainUsageError('give --target (a gateway) or --rpc with --registry');
      if (!params.trustGatewayRegistry) {
        throw new OnchainUsageError(
          'pin the registry: give --rpc URL --registry ADDR from your own records (the gateway being checked could name a registry it controls), or pass --trust-gateway-registry to take its word for it',
        );
      }
      const info = await client.getTrustRegistry({ deadlineMs: 10_000 });
      if (!info.enabled) throw new OnchainUsageError(`the gateway at ${params.target} publishes to no registry (chain.enabled=false)`);
      if (info.embedded && !params.allowDevRegistry) {
        throw new OnchainRegistryRefused(
          `the gateway at ${params.target} publishes to its own embedded dev registry (anvil, chain ${info.chainId}), which proves only what the gateway says; pass --allow-simulated to accept it (development only)`,
        );
      }
      registry = { chainId: info.chainId, rpcUrl: info.rpcUrl, registryAddress: info.registryAddress, source: 'gateway' };
    }
    const connection = await connectRegistry(registry.rpcUrl, registry.registryAddress as Address, params.allowDevRegistry ?? false);
    registry.chainId = connection.chainId;

    const candidates: { nodeId: string | null; envelope: AttestationEnvelope }[] = [];
    if (params.envelope) {
      candidates.push({ nodeId: null, envelope: params.envelope });
    } else {
      const { nodes } = await client!.listTeeNodes({ deadlineMs: 10_000 });
      for (const node of nodes) {
        if (!node.attestedEvidenceJson) continue;
        const parsed = parseEnvelope(node.attestedEvidenceJson);
        if (!('nonce' in parsed)) continue;
        candidates.push({ nodeId: node.nodeId, envelope: parsed });
      }
      if (candidates.length === 0) throw new OnchainUsageError(`the gateway at ${params.target} has no attested TEE nodes to check`);
    }

    const enclaves: OnchainEnclaveVerdict[] = [];
    for (const { nodeId, envelope } of candidates) {
      const offchain: VerifyEvidenceResult = await verifyEvidence(envelope, params.policy, { now: params.now, ...(params.simulatedTrust ? { roots: { simulated: params.simulatedTrust } } : {}) });
      const reasons: OnchainReason[] = offchain.ok ? [] : offchain.failures.map((f) => ({ code: f.code, message: f.message }));
      const claims = offchain.ok ? offchain.claims : offchain.unverifiedClaims;
      if (offchain.ok) {
        const onchain = await checkEnclaveOnchain({ publicClient: connection.publicClient, registryAddress: connection.registryAddress, envelope, claims: offchain.claims });
        reasons.push(...onchain.reasons.map((r) => ({ code: `onchain_${r.code}`, message: r.message })));
      }
      enclaves.push({
        nodeId,
        verdict: reasons.length === 0 ? 'valid' : 'invalid',
        platform: envelope.platform,
        measurement: claims?.measurement ?? null,
        signingAddress: envelope.signingAddress,
        simulated: envelope.platform === 'simulated',
        reasons,
      });
    }
    return {
      verdict: enclaves.every((e) => e.verdict === 'valid') ? 'valid' : 'invalid',
      at: params.now.toISOString(),
      registry,
      enclaves,
    };
  } finally {
    client?.close();
  }
}
