import { createSimulatedProvider, isAttestationError, parsePolicy } from '../../attestation';
import { resolveModelEntry } from '../../models';
import { createTeeNode, createTeePool, startTeeLanguageHost, type TeeNode } from '../../workers/tee';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';
import type { GatewayPayments } from '../payments';
import { createLocalTeeLink } from './create-local-tee-link';
import { createNodeLinkCredentials } from './create-node-link-credentials';
import { createRemoteTeeLink } from './create-remote-tee-link';
import { createTeeRouter, type CreateTeeRouterOptions, type TeeNodeStatus, type TeeRouter } from './create-tee-router';
import { createTeeService } from './create-tee-service';
import type { TeeLink } from './tee-link';
import type { TeeRoutingPolicy } from './verify-node-evidence';

export type TeeRouting = {
  router: TeeRouter;
  /**
   * SIMULATED verifier keys (SPKI DER) the router trusts: the in-process node's own key (when `tee.local`) and
   * `tee.simulatedKeys`. A client of this gateway pins the same keys (`roots: { simulated }`) to check that a node's
   * SIMULATED evidence comes from one of them rather than from whoever signed the envelope.
   */
  simulatedKeys: readonly Uint8Array[];
  service: ReturnType<typeof createTeeService>;
  nodes(): TeeNodeStatus[];
  close(): Promise<void>;
};

/** A TEE setting that cannot be served; startup stops with this message. */
export class TeeConfigError extends Error {
  override name = 'TeeConfigError' as const;
  readonly code = 'tee_config_invalid' as const;
}

export type StartTeeRoutingParameters = {
  config: VeilConfig['tee'];
  logger: Logger;
  /** Test seams: clock and timers of the router. */
  router?: Pick<CreateTeeRouterOptions, 'now' | 'timers' | 'verifyEvidence'>;
  /** Called after each successful node attestation (e.g. the on-chain publisher). */
  onAttested?: CreateTeeRouterOptions['onAttested'];
  /** Billing (issue #11), when payments are on: TEE calls are charged what their node signed they used. */
  payments?: GatewayPayments;
};

/**
 * Starts TEE mode from config: the in-process node (SIMULATED platform, when `tee.local`), links to the remote
 * `veil worker` nodes in `tee.nodes`, and the router that attests them all before the gateway listens.
 */
export async function startTeeRouting({ config, logger, router: seams, onAttested, payments }: StartTeeRoutingParameters): Promise<TeeRouting> {
  // Before anything starts: bad TLS files for the node links stop startup, naming them.
  const linkTls = config.nodes.length > 0 ? createNodeLinkCredentials(config, logger) : undefined;
  const links: TeeLink[] = [];
  let local: TeeNode | undefined;
  // SIMULATED evidence is trusted only from pinned keys, never from the key an envelope carries (anyone can make
  // one). One set serves every link: the in-process key's private half never leaves this process, so no remote node
  // can sign with it, and a remote simulated node is admitted only by a key the operator configured.
  const simulatedKeys: Uint8Array[] = config.simulatedKeys.map((hex) => new Uint8Array(Buffer.from(hex, 'hex')));
  if (config.local) {
    const pool = await createTeePool({
      models: resolveModels(config.models), threads: config.localThreads,
      onWorkerError: (err) => logger.error('tee worker failed', { reason: err.message }),
    });
    let languageHost;
    try {
      languageHost = await startTeeLanguageHost({ entries: config.languageModels, mode: config.languageHost, streamWindowMs: config.streamWindowMs });
    } catch (err) {
      await pool.close();
      throw new TeeConfigError(`tee.languageModels: ${(err as Error).message}`);
    }
    if (languageHost) logger.info('language models loaded', { models: languageHost.models.map((m) => `${m.id}(${m.kind}, ${m.contextLength} tokens)`).join(','), host: config.languageHost });
    const provider = createSimulatedProvider();
    simulatedKeys.unshift(provider.verifierKey);
    local = createTeeNode({ pool, languageHost, evidenceSource: provider, logger, evidenceRefreshMs: Math.min(config.refreshSeconds, 300) * 1000 });
    await local.start();
    links.push(createLocalTeeLink('local', local));
  }
  const policy = routingPolicy(config, simulatedKeys);
  config.nodes.forEach((address, i) => links.push(createRemoteTeeLink({ id: `remote-${i + 1}`, address, maxMessageBytes: config.maxMessageBytes, credentials: linkTls?.credentials })));
  if (links.length === 0) logger.warn('tee mode has no nodes (tee.local is false and tee.nodes is empty): TEE requests will be refused');

  const router = createTeeRouter({
    links, policy, logger,
    maxEvidenceAgeMs: config.maxEvidenceAgeSeconds * 1000,
    refreshMs: config.refreshSeconds * 1000,
    healthCheckMs: config.healthCheckSeconds * 1000,
    nodeTimeoutMs: config.nodeTimeoutMs,
    evidenceLimits: { perCallerPerMinute: config.evidencePerCallerPerMinute, burst: config.evidenceBurst, concurrencyPerNode: config.evidenceConcurrencyPerNode },
    onAttested,
    ...seams,
  });
  try {
    await router.start();
  } catch (err) {
    await local?.stop();
    linkTls?.close();
    throw err;
  }
  return {
    router,
    simulatedKeys,
    service: createTeeService(router, logger, payments),
    nodes: () => router.nodes(),
    async close() {
      await router.close();
      await local?.stop();
      linkTls?.close();
    },
  };
}

function routingPolicy(config: VeilConfig['tee'], simulatedKeys: readonly Uint8Array[]): TeeRoutingPolicy {
  // A bare ["any"] is the development opt-out for every platform (loadConfig refuses it in production).
  const anyMeasurement = config.measurements.length === 1 && config.measurements[0] === 'any';
  try {
    // parsePolicy validates the hex and spells every opt-out explicitly.
    const parsed = parsePolicy({
      measurements: anyMeasurement ? 'any' : [...config.measurements], debug: config.debug, snpMinimumTcb: 'any', tdxTcbStatuses: 'any',
      maxAgeSeconds: config.maxEvidenceAgeSeconds, nonce: 'any', reportDataBinding: 'required',
    });
    const { nonce: _n, reportDataBinding: _r, simulated: _s, ...attestation } = parsed;
    return { attestation, allowSimulated: config.allowSimulated, roots: { simulated: simulatedKeys } };
  } catch (err) {
    if (isAttestationError(err)) throw new TeeConfigError(`tee.measurements/tee.debug: ${err.message}`);
    throw err;
  }
}

/** Bundled ids map to their committed files; anything else must be an .onnx path (id = file name). */
function resolveModels(entries: readonly string[]): Record<string, string> {
  const models: Record<string, string> = {};
  for (const entry of entries) {
    const resolved = resolveModelEntry(entry);
    if ('error' in resolved) throw new TeeConfigError(`tee.models: ${resolved.error}`);
    if (models[resolved.id]) throw new TeeConfigError(`tee.models: model id "${resolved.id}" is listed twice`);
    models[resolved.id] = resolved.file;
  }
  return models;
}
