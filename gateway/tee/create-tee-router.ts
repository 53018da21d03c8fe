import { createHash, randomBytes } from 'node:crypto';
import type { AttestationClaims, AttestationEnvelope } from '../../attestation';
import type { GetTeeEvidenceResponse, TeeInferResponse, TeeModelInfo, TeeStreamEvent, TeeUsage } from '../../proto';
import { runWithLimits } from '../../proto';
import { createTeeSignatureVerifier, isTeeError, type TeeSignatureVerifier } from '../../tee';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import { createRateLimiter } from './create-rate-limiter';
import type { TeeLink } from './tee-link';
import { meterTeeStream } from '../telemetry/tee-metrics';
import { verifyNodeEvidence, type TeeRoutingPolicy, type VerifyNodeEvidenceParameters } from './verify-node-evidence';

export type TeeNodeState = 'pending' | 'healthy' | 'quarantined';

/** Public routing metadata about one node (ListNodes, logs, startup output). */
export type TeeNodeStatus = {
  nodeId: string;
  address: string;
  state: TeeNodeState;
  /** Why quarantined: an attestation failure code, `evidence_expired`, `unreachable`, `identity_changed`. */
  reason: string;
  platform: string;
  measurement: string;
  signingAddress: string;
  modelIds: string[];
  simulated: boolean;
  verifiedAtMs: number;
  /** The envelope (JSON) verified at `verifiedAtMs`; what was published on-chain when a registry is configured. */
  attestedEvidenceJson: string;
  /** The gRPC message limit the node reported when attested (0 = in process or not reported). */
  maxMessageBytes: number;
};

export type TeeCallContext = {
  signal?: AbortSignal;
  /** epoch ms, 0 = none */
  deadline: number;
  /** Whom per-caller limits count against (`callerKey(context)`); '' = one shared bucket. */
  caller?: string;
};

/** Limits on evidence clients ask for: each fresh report costs the node a hardware round trip. */
export type TeeEvidenceLimits = {
  /** Sustained GetEvidence calls per caller per minute. */
  perCallerPerMinute: number;
  /** Calls a caller may make at once after being idle. */
  burst: number;
  /** Client-requested node calls in flight per node; the gateway's own attestation and probes are never counted. */
  concurrencyPerNode: number;
};

export type TeeRouterTimers = { setInterval(fn: () => void, ms: number): unknown; clearInterval(handle: unknown): void };

export type CreateTeeRouterOptions = {
  links: readonly TeeLink[];
  policy: TeeRoutingPolicy;
  logger: Logger;
  /** A node's verified evidence counts this long; past it the node is quarantined until it re-attests. */
  maxEvidenceAgeMs: number;
  /** Re-attestation schedule (fresh gateway nonce). 0 disables (tests drive `refresh()`). */
  refreshMs: number;
  /** Health probe schedule. 0 disables (tests drive `probe()`). */
  healthCheckMs: number;
  /** Deadline of a relayed call when the client set none; probes use min(this, 5 s). */
  nodeTimeoutMs: number;
  now?: () => number;
  timers?: TeeRouterTimers;
  verifyEvidence?: VerifyNodeEvidenceParameters['verifyEvidence'];
  /** Called after every successful attestation (first and each refresh), e.g. to publish it on-chain. Must not throw. */
  onAttested?: (node: { nodeId: string; envelope: AttestationEnvelope; claims: AttestationClaims }) => void;
  /** Default: 600 per caller per minute (10/s), burst 60, 4 in flight per node. */
  evidenceLimits?: TeeEvidenceLimits;
};

export const DEFAULT_EVIDENCE_LIMITS: TeeEvidenceLimits = { perCallerPerMinute: 600, burst: 60, concurrencyPerNode: 4 };

export type GetRoutedEvidenceParameters = { modelId: string; nonce: Uint8Array; excludeNodeIds?: readonly string[] };
export type RoutedInferParameters = { nodeId: string; modelId: string; sealedRequest: Uint8Array };

export type TeeRouter = {
  /** Attests every node once; resolves when each is healthy or quarantined. */
  start(): Promise<void>;
  /** Picks a healthy attested node serving `modelId` (round robin, skipping excluded ids) and returns its evidence for the client's nonce. */
  getEvidence(params: GetRoutedEvidenceParameters, context: TeeCallContext): Promise<{ nodeId: string; evidence: GetTeeEvidenceResponse }>;
  /** Forwards sealed bytes unchanged to the named node. @throws {VeilError} `tee_node_unavailable` when that node can no longer be used. */
  infer(params: RoutedInferParameters, context: TeeCallContext): Promise<TeeInferResponse>;
  /**
   * Relays the named node's sealed event stream (issue #10). A node that goes away before the first event is
   * `tee_node_unavailable` (the client fails over); after it, the stream fails with that error too — it never just ends.
   */
  inferStream(params: RoutedInferParameters, context: TeeCallContext): AsyncGenerator<TeeStreamEvent>;
  /** The models healthy nodes serve (kind and context length as the nodes report them), with how many nodes serve each. */
  models(): RoutedTeeModel[];
  nodes(): TeeNodeStatus[];
  /** Re-attests every node now (what the refresh schedule runs). */
  refresh(): Promise<void>;
  /** Probes every node now (what the health schedule runs). */
  probe(): Promise<void>;
  close(): Promise<void>;
};

export type RoutedTeeModel = TeeModelInfo & { nodes: number };

type NodeRecord = TeeNodeStatus & {
  link: TeeLink;
  /** What each model is, as the node reported with its verified evidence. */
  models: TeeModelInfo[];
  hpkePublicKey: string;
  attesting: Promise<void> | undefined;
  /** Client-requested evidence calls in flight to this node (coalesced calls count once). */
  clientCalls: number;
};

/** One node call shared by every client asking the same node for evidence on the same nonce. */
type SharedEvidence = { result: Promise<GetTeeEvidenceResponse>; waiters: number; controller: AbortController };

/** Room the TeeInferRequest framing (model id, field tags) needs beside the sealed bytes in one message. */
const FRAMING_BYTES = 1024;

const PROBE_CAP_MS = 5_000;

/**
 * The gateway's TEE routing table. It attests each node itself (policy from config), re-attests on a schedule,
 * probes health, and quarantines a node whose evidence fails or expires, which stops answering, or whose identity
 * changed (a restarted node has new keys). Only healthy nodes are routed to. It relays sealed bytes and never
 * opens them: what it sees and logs is model id, node id, sizes and timing.
 */
export function createTeeRouter(options: CreateTeeRouterOptions): TeeRouter {
  const { logger, policy } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? {
    setInterval: (fn: () => void, ms: number) => setInterval(fn, ms).unref(),
    clearInterval: (h: unknown) => clearInterval(h as NodeJS.Timeout),
  };
  const probeMs = Math.min(options.nodeTimeoutMs, PROBE_CAP_MS);
  const records = new Map<string, NodeRecord>();
  for (const link of options.links) {
    if (records.has(link.id)) throw new Error(`TEE node id "${link.id}" is used twice`);
    records.set(link.id, {
      link, nodeId: link.id, address: link.address, state: 'pending', reason: 'not yet attested', platform: '', measurement: '',
      signingAddress: '', modelIds: [], models: [], simulated: false, verifiedAtMs: 0, attestedEvidenceJson: '', maxMessageBytes: 0, hpkePublicKey: '',
      attesting: undefined, clientCalls: 0,
    });
  }
  const evidenceLimits = options.evidenceLimits ?? DEFAULT_EVIDENCE_LIMITS;
  const evidenceRate = createRateLimiter({ ratePerSecond: evidenceLimits.perCallerPerMinute / 60, burst: evidenceLimits.burst, now });
  const sharedEvidence = new Map<string, SharedEvidence>();
  let cursor = 0;
  let handles: unknown[] = [];
  let closed = false;

  const quarantine = (node: NodeRecord, reason: string, fields: Record<string, string | number | undefined> = {}) => {
    const changed = node.state !== 'quarantined' || node.reason !== reason;
    node.state = 'quarantined';
    node.reason = reason;
    if (changed) logger.warn('tee node quarantined', { node: node.nodeId, address: node.address, reason, ...fields });
  };

  const expired = (node: NodeRecord) => node.state === 'healthy' && now() - node.verifiedAtMs > options.maxEvidenceAgeMs;

  /**
   * One attestation per node at a time. The flag is cleared by a `.finally` attached *after* it is set: clearing
   * it inside the attempt itself ran before the assignment when the link threw synchronously, leaving the flag set
   * forever (the node was then never probed or re-attested again).
   */
  const attest = (node: NodeRecord): Promise<void> => {
    if (node.attesting) return node.attesting;
    const attempt = attestOnce(node).finally(() => {
      if (node.attesting === attempt) node.attesting = undefined;
    });
    node.attesting = attempt;
    return attempt;
  };

  const attestOnce = async (node: NodeRecord): Promise<void> => {
      const nonce = new Uint8Array(randomBytes(32));
      try {
        const evidence = await node.link.getEvidence({ nonce }, { deadline: Date.now() + probeMs });
        const verdict = await verifyNodeEvidence({ evidence, nonce, policy, now: new Date(now()), verifyEvidence: options.verifyEvidence });
        if (!verdict.ok) {
          quarantine(node, verdict.reason, { detail: verdict.message });
          return;
        }
        const wasHealthy = node.state === 'healthy' && node.hpkePublicKey === verdict.hpkePublicKey;
        checkMessageLimit(node, Number(evidence.maxMessageBytes ?? 0));
        Object.assign(node, {
          state: 'healthy', reason: '', platform: verdict.platform, measurement: verdict.measurement, simulated: verdict.simulated,
          signingAddress: verdict.signingAddress, hpkePublicKey: verdict.hpkePublicKey, modelIds: verdict.modelIds, models: modelInfoOf(verdict.modelIds, evidence.models), verifiedAtMs: now(),
          attestedEvidenceJson: JSON.stringify(verdict.envelope),
        } satisfies Partial<NodeRecord>);
        options.onAttested?.({ nodeId: node.nodeId, envelope: verdict.envelope, claims: verdict.claims });
        const fields = { node: node.nodeId, address: node.address, platform: node.platform, measurement: node.measurement, signingAddress: node.signingAddress, models: node.modelIds.join(',') };
        if (wasHealthy) logger.debug('tee node re-attested', fields);
        else if (verdict.simulated) logger.warn('tee node attested: SIMULATED platform, its evidence proves nothing about hardware', fields);
        else logger.info('tee node attested', fields);
      } catch (err) {
        quarantine(node, isTeeError(err, 'unavailable') || (err as { code?: string }).code === 'deadline_exceeded' ? 'unreachable' : 'evidence_error', {
          detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
      }
  };

  /**
   * The gateway and `veil worker` must agree on the message limit (`tee.maxMessageBytes`, `--max-message-bytes`):
   * a mismatch is an operator error, logged loudly once per change, and relays are bounded by the smaller of the two
   * so an oversized request is refused here with a clear reason instead of failing inside the node. It does not
   * quarantine: the node is still the attested enclave, and requests within both limits are served.
   */
  const checkMessageLimit = (node: NodeRecord, reported: number) => {
    const ours = node.link.maxMessageBytes;
    if (reported > 0 && ours > 0 && reported !== ours && reported !== node.maxMessageBytes) {
      logger.warn('tee node message limit differs from the gateway\'s: relays are bounded by the smaller one; set tee.maxMessageBytes and veil worker --max-message-bytes to the same value', {
        node: node.nodeId, address: node.address, nodeMaxMessageBytes: reported, gatewayMaxMessageBytes: ours,
      });
    }
    node.maxMessageBytes = reported;
  };

  /** Largest sealed request that fits both this gateway's and the node's message limit (Infinity in process). */
  const sealedLimit = (node: NodeRecord) => {
    const limits = [node.link.maxMessageBytes, node.maxMessageBytes].filter((l) => l > 0);
    return limits.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...limits) - FRAMING_BYTES;
  };

  /** Liveness and identity: the node answers (cached evidence, no nonce) and still holds the keys we attested. */
  const probeNode = async (node: NodeRecord): Promise<void> => {
    if (node.attesting) return;
    let answer: GetTeeEvidenceResponse;
    try {
      answer = await node.link.getEvidence({ nonce: new Uint8Array(0) }, { deadline: Date.now() + probeMs });
    } catch {
      quarantine(node, 'unreachable');
      return;
    }
    const key = answer.identity ? Buffer.from(answer.identity.hpkePublicKey).toString('hex') : '';
    if (node.state === 'healthy' && key !== node.hpkePublicKey) {
      quarantine(node, 'identity_changed');
      await attest(node);
    } else if (expired(node)) {
      quarantine(node, 'evidence_expired');
      await attest(node);
    } else if (node.state !== 'healthy' && (node.reason === 'unreachable' || node.reason === 'identity_changed' || node.reason === 'evidence_expired')) {
      await attest(node);
    }
  };

  const markGone = (node: NodeRecord, err: unknown): VeilError => {
    quarantine(node, 'unreachable', { detail: err instanceof Error ? err.message : String(err) });
    // Let the health schedule bring it back once it answers again.
    return new VeilError('tee_node_unavailable', undefined, { details: { node: node.nodeId } });
  };

  const routable = (node: NodeRecord, modelId: string) => {
    if (expired(node)) quarantine(node, 'evidence_expired');
    return node.state === 'healthy' && node.modelIds.includes(modelId);
  };

  /**
   * A node's signed usage (tee/PROTOCOL.md §12), checked against the key the gateway attested: what leaves the router
   * is what the node signed for this request and stream position, so billing can charge it. A node whose counts do not
   * verify is broken or lying about what it did: it is quarantined and the call fails as if the node went away.
   */
  const requestHashOf = (params: RoutedInferParameters) => createHash('sha256').update(params.sealedRequest).digest();
  // One verifier per attested key: a stream's every event is checked against the key its first statement recovered.
  const usageVerifiers = new WeakMap<NodeRecord, TeeSignatureVerifier>();
  const usageVerifier = (node: NodeRecord): TeeSignatureVerifier => {
    let verifier = usageVerifiers.get(node);
    if (verifier?.signingAddress !== node.signingAddress.toLowerCase()) {
      verifier = createTeeSignatureVerifier(node.signingAddress); // a re-attested node may have a new key
      usageVerifiers.set(node, verifier);
    }
    return verifier;
  };

  const checkedUsage = (node: NodeRecord, params: RoutedInferParameters, requestHash: Buffer, events: number, usage: TeeUsage): TeeUsage => {
    try {
      usageVerifier(node).verifyUsage({
        modelId: params.modelId, requestHash, events,
        inputTokens: Number(usage.inputTokens), outputTokens: Number(usage.outputTokens), signature: usage.signature,
      });
    } catch (err) {
      quarantine(node, 'bad_usage_signature', { detail: err instanceof Error ? err.message : String(err) });
      throw new VeilError('tee_node_unavailable', undefined, { details: { node: node.nodeId } });
    }
    return { inputTokens: Number(usage.inputTokens), outputTokens: Number(usage.outputTokens), signature: usage.signature };
  };

  /** The node a relayed request names, if it may take it: the one rule Infer and InferStream share. */
  const relayTarget = ({ nodeId, modelId, sealedRequest }: RoutedInferParameters): NodeRecord => {
    if (!modelId) throw new VeilError('invalid_argument', 'model_id is required', { param: 'model_id' });
    if (!(sealedRequest instanceof Uint8Array) || sealedRequest.byteLength === 0) throw new VeilError('invalid_argument', 'sealed_request is empty', { param: 'sealed_request' });
    const node = records.get(nodeId);
    // An unknown or unhealthy node is "gone" for the client: it re-fetches evidence for another node and re-seals.
    if (!node || !routable(node, modelId)) {
      if (node && node.state === 'healthy') throw new VeilError('model_not_found', `node "${nodeId}" does not serve "${modelId.slice(0, 64)}"`, { param: 'model_id' });
      throw new VeilError('tee_node_unavailable', undefined, { details: { node: nodeId.slice(0, 64), state: node?.state ?? 'unknown' } });
    }
    const limit = sealedLimit(node);
    if (sealedRequest.byteLength > limit) {
      throw new VeilError('message_too_large', `sealed_request is ${sealedRequest.byteLength} bytes; this TEE node accepts at most ${limit}`, { param: 'sealed_request' });
    }
    return node;
  };

  const deadlineOf = (context: TeeCallContext) => (context.deadline > 0 ? context.deadline : Date.now() + options.nodeTimeoutMs);

  /**
   * Only a link's transport verdict (`TeeError('unavailable')`: unreachable, or stopping) counts against a node on a
   * relayed call. A slow answer, an oversized or malformed request, or any other refusal is about the request and is
   * relayed: a client must never be able to quarantine nodes. Hung nodes are the probes' job (their own deadline).
   */
  const isNodeGone = (err: unknown) => isTeeError(err, 'unavailable');

  const evidenceKey = (node: NodeRecord, nonce: Uint8Array) => `${node.nodeId}\u0000${Buffer.from(nonce).toString('hex')}`;
  /** A shared call still worth joining (not already cancelled because all its waiters left). */
  const liveShared = (key: string) => {
    const shared = sharedEvidence.get(key);
    return shared && !shared.controller.signal.aborted ? shared : undefined;
  };

  /**
   * The node's evidence for a client's nonce. Identical concurrent asks (same node, same nonce) share one node call;
   * each waiter keeps its own deadline and cancellation, and the shared call is cancelled only when every waiter left.
   */
  const clientEvidence = (node: NodeRecord, nonce: Uint8Array, context: TeeCallContext): Promise<GetTeeEvidenceResponse> => {
    const key = evidenceKey(node, nonce);
    let shared = liveShared(key);
    if (!shared) {
      const controller = new AbortController();
      node.clientCalls++;
      let call: Promise<GetTeeEvidenceResponse>;
      try {
        call = node.link.getEvidence({ nonce }, { deadline: Date.now() + options.nodeTimeoutMs, signal: controller.signal });
      } catch (err) {
        call = Promise.reject(err); // a link that throws synchronously must not leak the in-flight count
      }
      const result = call.finally(() => {
        node.clientCalls--;
        if (sharedEvidence.get(key) === created) sharedEvidence.delete(key);
      });
      result.catch(() => undefined); // every waiter may have left; the failure is theirs to see, not unhandled
      const created: SharedEvidence = { result, waiters: 0, controller };
      shared = created;
      sharedEvidence.set(key, created);
    }
    const joined = shared;
    joined.waiters++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--joined.waiters === 0) joined.controller.abort();
    };
    return runWithLimits(
      (signal) => {
        signal.addEventListener('abort', leave, { once: true });
        return joined.result.finally(() => {
          left = true;
        });
      },
      { deadline: context.deadline > 0 ? context.deadline : undefined, signal: context.signal },
      { cancelled: () => new VeilError('cancelled'), deadlineExceeded: () => new VeilError('deadline_exceeded') },
    );
  };

  return {
    async start() {
      await Promise.all([...records.values()].map(attest));
      if (options.refreshMs > 0) handles.push(timers.setInterval(() => void this.refresh(), options.refreshMs));
      if (options.healthCheckMs > 0) handles.push(timers.setInterval(() => void this.probe(), options.healthCheckMs));
    },

    async getEvidence({ modelId, nonce, excludeNodeIds = [] }, context) {
      if (!modelId) throw new VeilError('invalid_argument', 'model_id is required', { param: 'model_id' });
      if (nonce.byteLength < 1 || nonce.byteLength > 1024) throw new VeilError('invalid_argument', 'nonce must be 1..1024 bytes (32 random bytes recommended)', { param: 'nonce' });
      // Every fresh report costs a node a hardware round trip: a caller gets a bounded rate of them.
      const allowed = evidenceRate.take(context.caller ?? '');
      if (!allowed.ok) {
        throw new VeilError('rate_limited', `too many evidence requests from this caller; retry in ${allowed.retryAfterMs} ms`, { details: { retryAfterMs: allowed.retryAfterMs } });
      }
      const excluded = new Set(excludeNodeIds);
      const all = [...records.values()];
      let busy = 0;
      for (let attempt = 0; attempt < all.length; attempt++) {
        const candidates = all.filter((n) => !excluded.has(n.nodeId) && routable(n, modelId));
        if (candidates.length === 0) break;
        const node = candidates[cursor++ % candidates.length]!;
        // Client asks never take a node's last evidence slots: the gateway's own re-attestation and probes bypass
        // this bound, so client traffic can delay them by at most `concurrencyPerNode` reports, never starve them.
        const joining = liveShared(evidenceKey(node, nonce)) !== undefined;
        if (!joining && node.clientCalls >= evidenceLimits.concurrencyPerNode) {
          busy++;
          excluded.add(node.nodeId);
          continue;
        }
        let evidence: GetTeeEvidenceResponse;
        try {
          evidence = await clientEvidence(node, nonce, context);
        } catch (err) {
          if (!isNodeGone(err)) throw err;
          markGone(node, err);
          excluded.add(node.nodeId);
          continue;
        }
        // Hand out evidence only for the keys the gateway itself verified; a restarted node must re-attest first.
        const key = evidence.identity ? Buffer.from(evidence.identity.hpkePublicKey).toString('hex') : '';
        if (key !== node.hpkePublicKey) {
          quarantine(node, 'identity_changed');
          void attest(node);
          excluded.add(node.nodeId);
          continue;
        }
        return { nodeId: node.nodeId, evidence };
      }
      if (busy > 0) throw new VeilError('overloaded', 'every TEE node serving this model is busy producing evidence; retry with backoff');
      const known = all.some((n) => n.modelIds.includes(modelId));
      if (!known && all.every((n) => n.state !== 'pending')) {
        throw new VeilError('model_not_found', `no TEE node serves "${modelId.slice(0, 64)}"`, { param: 'model_id' });
      }
      throw new VeilError('no_attested_worker', undefined, {
        details: { model: modelId, excluded: excluded.size, nodes: all.map((n) => `${n.nodeId}:${n.state}${n.reason ? `(${n.reason})` : ''}`).join(' ') },
      });
    },

    async infer(params, context) {
      const node = relayTarget(params);
      let response: TeeInferResponse;
      try {
        response = await node.link.infer({ modelId: params.modelId, sealedRequest: params.sealedRequest }, { deadline: deadlineOf(context), signal: context.signal });
      } catch (err) {
        if (isNodeGone(err)) throw markGone(node, err);
        throw err;
      }
      const usage = response.usage ? checkedUsage(node, params, requestHashOf(params), 0, response.usage) : undefined;
      return { ...response, usage };
    },

    async *inferStream(params, context) {
      const node = relayTarget(params);
      let events = 0;
      let requestHash: Buffer | undefined;
      try {
        // issue #12: relay span, time to first event, events relayed; each event's signed usage checked (PROTOCOL §12).
        const relayed = meterTeeStream({ model: params.modelId, node: node.nodeId }, () => node.link.inferStream({ modelId: params.modelId, sealedRequest: params.sealedRequest }, { deadline: deadlineOf(context), signal: context.signal }));
        for await (const event of relayed) {
          events++;
          yield { ...event, usage: event.usage ? checkedUsage(node, params, (requestHash ??= requestHashOf(params)), events, event.usage) : undefined };
        }
      } catch (err) {
        if (isNodeGone(err)) throw markGone(node, err);
        throw err;
      }
    },

    models() {
      const byId = new Map<string, RoutedTeeModel>();
      for (const node of records.values()) {
        if (expired(node)) quarantine(node, 'evidence_expired');
        if (node.state !== 'healthy') continue;
        for (const m of node.models) {
          const seen = byId.get(m.id);
          if (seen) seen.nodes++;
          else byId.set(m.id, { ...m, nodes: 1 });
        }
      }
      return [...byId.values()];
    },

    nodes: () =>
      [...records.values()].map((n) => {
        if (expired(n)) quarantine(n, 'evidence_expired');
        const { link: _link, hpkePublicKey: _key, attesting: _attesting, clientCalls: _calls, models: _models, ...status } = n;
        return { ...status, modelIds: [...status.modelIds] };
      }),

    async refresh() {
      if (closed) return;
      await Promise.all([...records.values()].map(attest));
    },

    async probe() {
      if (closed) return;
      await Promise.all([...records.values()].map(probeNode));
    },

    async close() {
      closed = true;
      for (const h of handles) timers.clearInterval(h);
      handles = [];
      await Promise.all([...records.values()].map((n) => n.attesting?.catch(() => undefined)));
      for (const n of records.values()) n.link.close();
    },
  };
}

/** Each served id with what the node says it is; an older node that reports no kinds serves tensor models. */
function modelInfoOf(modelIds: readonly string[], reported: readonly TeeModelInfo[] | undefined): TeeModelInfo[] {
  const byId = new Map((reported ?? []).map((m) => [m.id, m]));
  return modelIds.map((id) => {
    const m = byId.get(id);
    return { id, kind: m?.kind || 'tabular', contextLength: Number(m?.contextLength ?? 0) };
  });
}
