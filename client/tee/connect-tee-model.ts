import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import {
  isAttestationError, parseEnvelope, verifyEvidence as attestationVerifyEvidence,
  type AttestationEnvelope, type AttestationPolicy, type VerifyEvidenceOptions, type VerifyEvidenceResult,
} from '../../attestation';
import {
  createHpkeSuite, createTeeChannel, createTeeSignatureVerifier, decodeTeeResponseBody, encodeTeeRequestBody, evidenceBindsIdentity, isTeeError, newRequestId, TeeError, teeSignatureText,
  type SealedTeeRequest, type TeeChannel, type TeeSignatureVerifier, type TeeTensorMap,
} from '../../tee';
import { createGatewayTeeTransport, type RoutedTeeTransport, type TeeCallOptions } from './create-gateway-tee-transport';
import { createTeeTransport, type TeeTransport } from './create-tee-transport';

/** The caller's attestation policy; the client itself fills in the nonce, the report_data binding and the simulated opt-in. */
export type TeePolicy = Omit<AttestationPolicy, 'nonce' | 'reportDataBinding' | 'simulated'>;

export type TeeEvidenceVerifier = (
  envelope: AttestationEnvelope,
  policy: AttestationPolicy,
  options: VerifyEvidenceOptions,
) => Promise<VerifyEvidenceResult>;

export type ConnectTeeModelParameters = {
  modelId: string;
  policy: TeePolicy;
  /**
   * Accept SIMULATED evidence (development only: it proves nothing about hardware). Default false. It also needs
   * `roots.simulated`: the node's pinned verifier key, or `'self-signed'` to accept the key the envelope carries.
   */
  allowSimulated?: boolean;
  /**
   * Trust anchors for verifyEvidence. SIMULATED evidence verifies only against `simulated`: pinned keys (e.g.
   * `[provider.verifierKey]`, the keys `veil serve` prints, the key `veil worker` prints) or `'self-signed'` (the
   * envelope's own key, which anyone can make: then only the binding to this client's nonce is checked).
   */
  roots?: VerifyEvidenceOptions['roots'];
  /** Reuse one HPKE handshake for later requests (default true); see tee/PROTOCOL.md. */
  reuseSession?: boolean;
  now?: () => Date;
  /** Defaults to attestation's verifyEvidence. */
  verifyEvidence?: TeeEvidenceVerifier;
  /** Through a router only: how many times one call may move to another node when its node goes away. Default 3. */
  maxFailovers?: number;
  /** With `gateway` or `target`: channel credentials (TLS) of the connection this call opens. */
  credentials?: grpc.ChannelCredentials;
  /** With `gateway`: an API key from `veil keys create`. */
  apiKey?: string;
} & (
  | { target: string; transport?: undefined; gateway?: undefined; router?: undefined }
  | { transport: TeeTransport; target?: undefined; gateway?: undefined; router?: undefined }
  /** host:port of a Veil gateway: evidence and sealed requests go through its veil.v1.Tee router, with failover. */
  | { gateway: string; target?: undefined; transport?: undefined; router?: undefined }
  | { router: RoutedTeeTransport; target?: undefined; transport?: undefined; gateway?: undefined }
);

export type TeeInferTimings = {
  kind: 'handshake' | 'session';
  sealMs: number;
  roundTripMs: number;
  verifyMs: number;
  openMs: number;
  totalMs: number;
  /** Reported by the node (not verifiable). */
  nodeMs: number;
  computeMs: number;
};

export type TeeInference = {
  outputs: TeeTensorMap;
  /** The node that answered. */
  nodeId: string;
  signatureValid: true;
  /** The EIP-191 receipt: anyone holding the sealed bytes can re-check it against the attested address. */
  receipt: { text: string; signature: string; signingAddress: string; requestBytes: Uint8Array; responseBytes: Uint8Array };
  platform: string;
  measurement: string;
  timings: TeeInferTimings;
};

export type TeeModelClient = {
  readonly modelId: string;
  /** The node currently attested and sealed to ('' for a direct connection); changes on failover. */
  readonly nodeId: string;
  readonly platform: string;
  readonly measurement: string;
  readonly signingAddress: string;
  readonly simulated: boolean;
  /** How many times requests moved to another node because theirs went away. */
  readonly failovers: number;
  /** @throws {TeeError} `tee_bad_signature`, `tee_decrypt_failed`, `tee_replay`, `tee_stale_request`, `invalid_input`, … */
  infer(inputs: TeeTensorMap, options?: TeeCallOptions): Promise<TeeInference>;
  close(): void;
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The attested node a client currently seals to: its keys and verifier are never shared across nodes. */
type NodeBinding = {
  nodeId: string;
  platform: string;
  measurement: string;
  simulated: boolean;
  signingAddress: string;
  channel: TeeChannel;
  verifier: TeeSignatureVerifier;
};

/** The node went away (not a refusal of this request): through a router the client may re-attest another node. */
function isNodeGone(err: unknown): boolean {
  if (isTeeError(err, 'unavailable')) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'tee_node_unavailable';
}

/**
 * Attests a TEE node, then returns a client whose requests only that enclave can read. It fetches evidence
 * for a fresh nonce, verifies it against `policy` (refusing SIMULATED evidence unless `allowSimulated`),
 * checks that report_data binds the node's HPKE key, signing address and the nonce, and from then on
 * seals every request to that key and verifies every response signature against that address.
 *
 * Through a gateway (`gateway` / `router`), the gateway picks the node. If that node goes away, the client
 * re-fetches evidence for another node (excluding the gone one), verifies it, and re-seals the request to the
 * new node's key: plaintext never goes anywhere but to an enclave this client attested.
 * @throws {TeeError} `tee_simulated_refused`, `tee_attestation_failed`, `tee_binding_mismatch`, `unavailable`
 * @example
 * const model = await connectTeeModel({ gateway: '127.0.0.1:50051', modelId: 'breast-cancer-lr', policy });
 * const { outputs } = await model.infer({ x: { dims: [1, 30], data } });
 */
export async function connectTeeModel(params: ConnectTeeModelParameters): Promise<TeeModelClient> {
  const routed = params.router !== undefined || params.gateway !== undefined;
  const owned = params.router === undefined && params.transport === undefined;
  const router: RoutedTeeTransport = params.router
    ?? (params.gateway !== undefined
      ? createGatewayTeeTransport({ target: params.gateway, credentials: params.credentials, apiKey: params.apiKey })
      : directRouter(params.transport ?? createTeeTransport({ target: params.target!, credentials: params.credentials })));
  const now = params.now ?? (() => new Date());
  const verify = params.verifyEvidence ?? attestationVerifyEvidence;
  const maxFailovers = params.maxFailovers ?? 3;
  const { modelId } = params;

  const attach = async (excluded: readonly string[], options?: TeeCallOptions): Promise<NodeBinding> => {
    try {
      const nonce = new Uint8Array(randomBytes(32));
      const { nodeId, evidence } = await router.getEvidence({ modelId, nonce, excludeNodeIds: [...excluded] }, options);
      let envelope: AttestationEnvelope;
      try {
        const parsed = parseEnvelope(evidence.envelopeJson);
        if (!('nonce' in parsed)) throw new TeeError('tee_binding_mismatch', 'the evidence binds no keys or nonce');
        envelope = parsed;
      } catch (err) {
        if (isTeeError(err)) throw err;
        throw new TeeError('tee_attestation_failed', 'the node returned a malformed evidence envelope', undefined, { cause: err });
      }
      if (envelope.platform === 'simulated' && !params.allowSimulated) {
        throw new TeeError(
          'tee_simulated_refused',
          'the node offered SIMULATED attestation, which proves nothing about hardware; pass allowSimulated: true to accept it (development only)',
        );
      }
      const policy: AttestationPolicy = { ...params.policy, nonce: hex(nonce), reportDataBinding: 'required', simulated: params.allowSimulated ? 'allow' : 'forbid' };
      const result = await verify(envelope, policy, { now: now(), roots: params.roots });
      if (!result.ok) {
        const keyHint = result.failures.some((f) => f.code === 'simulated_key_missing')
          ? ' (SIMULATED evidence needs a pinned verifier key: roots.simulated = [key], or \'self-signed\' to accept the envelope\'s own key knowingly)'
          : '';
        throw new TeeError('tee_attestation_failed', `the node's evidence was refused: ${result.failures.map((f) => f.code).join(', ')}${keyHint}`, { failures: result.failures });
      }
      const address = envelope.signingAddress.toLowerCase();
      if (!evidenceBindsIdentity({ envelope, verifiedReportData: result.claims.reportData, identity: evidence.identity, nonce })) {
        throw new TeeError('tee_binding_mismatch', 'the evidence does not bind the keys the node presented and this client\'s nonce');
      }
      return {
        nodeId,
        platform: result.claims.platform,
        measurement: result.claims.measurement,
        simulated: result.claims.simulated,
        signingAddress: envelope.signingAddress,
        channel: createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: Buffer.from(envelope.hpkePublicKey, 'hex'), modelId, reuseSession: params.reuseSession }),
        // One verifier per attested node: the first receipt recovers and checks the key, later ones verify against its tables.
        verifier: createTeeSignatureVerifier(address),
      };
    } catch (err) {
      if (isAttestationError(err)) throw new TeeError('tee_attestation_failed', err.message, undefined, { cause: err });
      throw err;
    }
  };

  const exchange = async (node: NodeBinding, inputs: TeeTensorMap, retry: boolean, options?: TeeCallOptions): Promise<TeeInference> => {
    const t0 = performance.now();
    const requestId = newRequestId();
    const request: SealedTeeRequest = await node.channel.seal(encodeTeeRequestBody({ requestId, timestampMs: now().getTime(), modelId, inputs }));
    const t1 = performance.now();
    let response;
    try {
      response = await router.infer({ nodeId: node.nodeId, modelId, sealedRequest: request.sealed }, options);
    } catch (err) {
      request.fail();
      if (retry && request.kind === 'session' && isTeeError(err, 'tee_session_unknown')) {
        node.channel.reset();
        return exchange(node, inputs, false, options);
      }
      throw err;
    }
    const t2 = performance.now();
    try {
      // Verify the receipt over the exact bytes first: a tampered or substituted response fails here.
      node.verifier.verify({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse, signature: response.signature });
      const t3 = performance.now();
      const body = decodeTeeResponseBody(request.open(response.sealedResponse));
      if (hex(body.requestId) !== hex(requestId)) throw new TeeError('tee_decrypt_failed', 'the response answers another request');
      const t4 = performance.now();
      return {
        outputs: body.outputs,
        nodeId: node.nodeId,
        signatureValid: true,
        receipt: {
          text: teeSignatureText({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse }), signature: response.signature, signingAddress: node.signingAddress,
          requestBytes: request.sealed, responseBytes: response.sealedResponse,
        },
        platform: node.platform,
        measurement: node.measurement,
        timings: {
          kind: request.kind, sealMs: t1 - t0, roundTripMs: t2 - t1, verifyMs: t3 - t2, openMs: t4 - t3, totalMs: t4 - t0,
          nodeMs: response.nodeMicros / 1000, computeMs: response.computeMicros / 1000,
        },
      };
    } catch (err) {
      request.fail();
      throw err;
    }
  };

  let current: NodeBinding;
  try {
    current = await attach([]);
  } catch (err) {
    if (owned) router.close?.();
    throw err;
  }
  let binding: Promise<NodeBinding> | undefined = Promise.resolve(current);
  const excluded = new Set<string>();
  let failovers = 0;

  return {
    modelId,
    get nodeId() {
      return current.nodeId;
    },
    get platform() {
      return current.platform;
    },
    get measurement() {
      return current.measurement;
    },
    get signingAddress() {
      return current.signingAddress;
    },
    get simulated() {
      return current.simulated;
    },
    get failovers() {
      return failovers;
    },
    async infer(inputs, options) {
      for (let attempt = 0; ; attempt++) {
        // Concurrent calls share one re-attestation after a failover.
        const pending = (binding ??= attach([...excluded], options).catch((err: unknown) => {
          binding = undefined;
          // Every node was excluded at some point; start over rather than give up on nodes that came back.
          if (excluded.size > 0 && (err as { code?: unknown }).code === 'no_attested_worker') excluded.clear();
          throw err;
        }));
        const node = await pending;
        current = node;
        try {
          return await exchange(node, inputs, true, options);
        } catch (err) {
          if (!routed || !isNodeGone(err) || attempt >= maxFailovers) throw err;
          excluded.add(node.nodeId);
          if (binding === pending) binding = undefined;
          failovers++;
        }
      }
    },
    close: () => {
      if (owned) router.close?.();
    },
  };
}

/** A single node reached directly is a router with one node and nowhere to fail over to. */
function directRouter(transport: TeeTransport): RoutedTeeTransport {
  return {
    getEvidence: async ({ nonce }, options) => ({ nodeId: '', evidence: await transport.getEvidence({ nonce }, options) }),
    infer: ({ modelId, sealedRequest }, options) => transport.infer({ modelId, sealedRequest }, options),
    close: () => transport.close?.(),
  };
}
