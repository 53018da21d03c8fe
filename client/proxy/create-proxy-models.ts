import type { AttestationEnvelope, AttestationPolicy, VerifyEvidenceOptions } from '../../attestation';
import { verifyEvidence as attestationVerifyEvidence } from '../../attestation';
import { connectTeeModel, type RoutedTeeTransport, type TeeEvidenceVerifier, type TeeModelClient, type TeePolicy } from '../tee';

/** What the proxy verified about the node serving one model, as `GET /v1/attestation` reports it. */
export type ProxyAttestation = {
  model: string;
  node_id: string;
  platform: string;
  measurement: string;
  signing_address: string;
  simulated: boolean;
  /** `pinned` (a key you gave) or `self-signed` (the envelope's own key: proves nothing) for SIMULATED evidence. */
  simulated_key: 'pinned' | 'self-signed' | null;
  /** Whether the registry check ran and passed for this node (false: not configured). */
  onchain: boolean;
  /** When this proxy last verified this node's evidence (ISO 8601). */
  verified_at: string;
};

export type ProxyModels = {
  /** The attested client for `modelId`, attesting its node on first use (concurrent first uses share one attestation). */
  get(modelId: string): Promise<TeeModelClient>;
  attestations(): ProxyAttestation[];
  /** Forgets a model's client (its node's keys no longer open our requests): the next request attests afresh. */
  forget(modelId: string): void;
  close(): void;
};

export type CreateProxyModelsOptions = {
  router: RoutedTeeTransport;
  policy: TeePolicy;
  allowSimulated?: boolean;
  roots?: VerifyEvidenceOptions['roots'];
  /** Runs after the off-chain verification passed, e.g. the on-chain registry check; throws to refuse the node. */
  checkEnclave?: (envelope: AttestationEnvelope, claims: import('../../attestation').AttestationClaims) => Promise<void>;
  verifyEvidence?: TeeEvidenceVerifier;
  maxFailovers?: number;
  now?: () => Date;
};

/**
 * The proxy's attested models: one connectTeeModel client per model (each with its own node binding, failover and
 * HPKE session), created on first use. A failed attestation is not remembered: the next request tries again.
 */
export function createProxyModels(options: CreateProxyModelsOptions): ProxyModels {
  const clients = new Map<string, Promise<TeeModelClient>>();
  const verified = new Map<string, { at: string; simulatedKey: ProxyAttestation['simulated_key']; onchain: boolean }>();
  const ready = new Map<string, TeeModelClient>();
  const baseVerify = options.verifyEvidence ?? attestationVerifyEvidence;

  const verifierFor = (modelId: string): TeeEvidenceVerifier => async (envelope, policy: AttestationPolicy, verifyOptions) => {
    const result = await baseVerify(envelope, policy, verifyOptions);
    if (!result.ok) return result;
    if (options.checkEnclave) await options.checkEnclave(envelope, result.claims);
    const details = result.claims.details as { platform?: string; verifierKeySource?: string };
    verified.set(modelId, {
      at: result.at,
      simulatedKey: result.claims.simulated ? (details.verifierKeySource === 'envelope' ? 'self-signed' : 'pinned') : null,
      onchain: options.checkEnclave !== undefined,
    });
    return result;
  };

  return {
    get(modelId) {
      let client = clients.get(modelId);
      if (!client) {
        client = connectTeeModel({
          router: options.router, modelId, policy: options.policy, allowSimulated: options.allowSimulated, roots: options.roots,
          verifyEvidence: verifierFor(modelId), maxFailovers: options.maxFailovers, now: options.now,
        });
        clients.set(modelId, client);
        client.then((c) => ready.set(modelId, c), () => clients.delete(modelId));
      }
      return client;
    },
    attestations() {
      return [...ready.values()].map((c) => {
        const v = verified.get(c.modelId);
        return {
          model: c.modelId, node_id: c.nodeId, platform: c.platform, measurement: c.measurement, signing_address: c.signingAddress, simulated: c.simulated,
          simulated_key: v?.simulatedKey ?? null, onchain: v?.onchain ?? false, verified_at: v?.at ?? '',
        };
      });
    },
    forget(modelId) {
      const c = ready.get(modelId);
      clients.delete(modelId);
      ready.delete(modelId);
      verified.delete(modelId);
      c?.close();
    },
    close() {
      for (const c of ready.values()) c.close();
    },
  };
}
