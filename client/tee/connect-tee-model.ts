import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import {
  isAttestationError, parseEnvelope, verifyEvidence as attestationVerifyEvidence,
  type AttestationEnvelope, type AttestationPolicy, type VerifyEvidenceOptions, type VerifyEvidenceResult,
} from '../../attestation';
import { createHash } from 'node:crypto';
import type { TeeInferResponse, TeeStreamEvent } from '../../proto';
import {
  createHpkeSuite, createTeeChannel, createTeeSignatureVerifier, decodeTeeOperationResponse, decodeTeeResponseBody, encodeTeeOperationRequest, encodeTeeRequestBody,
  evidenceBindsIdentity, isTeeError, isTeeErrorCode, newRequestId, TeeError, teeSignatureText, teeStreamSignatureText,
  type SealedTeeRequest, type TeeChannel, type TeeOperation, type TeeSignatureVerifier, type TeeTensorMap,
} from '../../tee';
import { VeilClientError } from '../veil-client-error';
import { createGatewayTeeTransport, type RoutedTeeTransport, type TeeCallOptions } from './create-gateway-tee-transport';
import type { ChannelPayer, PaymentRoundsOptions } from '../payments';
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
  /** With `gateway`: pays a charging gateway's calls and streams with vouchers from this payer (issue #11). */
  payer?: ChannelPayer;
  /** With `gateway` and `payer`: how the payer's rounds run (prepay, corrections, `onSettled` for each receipt). */
  payment?: PaymentRoundsOptions;
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

/** The EIP-191 receipt of one operation: anyone holding the sealed bytes can re-check it against the attested address. */
export type TeeOperationReceipt = { text: string; signature: string; signingAddress: string; requestBytes: Uint8Array; responseBytes: Uint8Array };

/** A non-streamed operation's answer: the OpenAI response object the enclave produced, and its proof. */
export type TeeOperationResult = {
  body: object;
  nodeId: string;
  receipt: TeeOperationReceipt;
  platform: string;
  measurement: string;
  /** Reported by the node (not verifiable). */
  computeMs: number;
};

/** A stream's verified end: its receipt covers every event frame (`veil-v1-stream:…`). */
export type TeeStreamReceipt = { text: string; signature: string; signingAddress: string; requestBytes: Uint8Array; transcriptHash: Uint8Array; count: number };

/**
 * What a caller keeps per Idempotency-Key (opaque): the first attempt records the exact sealed request it sent, and
 * a retry with the same slot re-sends those bytes with the same gateway key, so the gateway's idempotency store
 * answers it instead of running it again. Only when that request can no longer be answered (its node is gone, or the
 * gateway's store and the node both forgot it) is a new one sealed.
 */
export type TeeIdempotencySlot = { sent?: unknown };

export type TeeOperationOptions = TeeCallOptions & {
  idempotency?: TeeIdempotencySlot;
  /** Streams only: called once with the verified receipt after the signed end event. */
  onReceipt?: (receipt: TeeStreamReceipt) => void;
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
  /**
   * One OpenAI operation (version-2 body): `request` is the OpenAI request object, the answer the enclave's OpenAI
   * response object, after its receipt verified against the attested address.
   * @throws {TeeError} `tee_bad_signature`, `tee_decrypt_failed`, `context_length_exceeded`, `unsupported_parameter`, `invalid_input`, …
   */
  call(operation: TeeOperation, request: object, options?: TeeOperationOptions): Promise<TeeOperationResult>;
  /**
   * A streamed chat completion (`stream: true` is set): the `chat.completion.chunk` objects in order, each authenticated
   * as it arrives; the last event's receipt is verified before the iteration ends. Breaking out cancels the call.
   * @throws {TeeError} `tee_stream_invalid` (reordered, dropped, altered, repeated or after-the-end events),
   *   `tee_stream_truncated` (no signed end event), `tee_bad_signature`, or the node's own error code
   */
  stream(request: object, options?: TeeOperationOptions): AsyncIterable<object>;
  close(): void;
};

/** The request a slot remembers, and the node it was sealed to. */
type SentRequest = { node: NodeBinding; request: SealedTeeRequest; requestId: Uint8Array; idempotencyKey: string; operation: TeeOperation };

/**
 * Opens, sends and finishes one sealed request: `send` gets the sealed request and resolves once the node's answer
 * is verified (for a stream: once its first event is). Shared by infer, call and stream.
 */
type Exchange<T> = {
  body(requestId: Uint8Array): Uint8Array;
  send(node: NodeBinding, request: SealedTeeRequest, requestId: Uint8Array, idempotencyKey: string | undefined): Promise<T>;
};

/** A retry of these exact bytes cannot be answered any more: seal a new request instead. */
function isUnanswerable(err: unknown): boolean {
  if (isNodeGone(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  // The node refused to open these bytes (new keys after a restart), so it never ran them. Only the node's own refusal
  // counts: this client failing to open an answer means something did run.
  if (code === 'tee_decrypt_failed') return isRelayedRefusal(err);
  return code === 'tee_replay' || code === 'tee_stale_request' || code === 'tee_session_unknown';
}

/** An error the node or gateway answered (it carries their status), as opposed to one this client raised itself. */
export function isRelayedRefusal(err: unknown): boolean {
  if (err instanceof VeilClientError) return true;
  const details = isTeeError(err) ? err.details : undefined;
  return details?.httpStatus !== undefined || details?.grpc !== undefined;
}

const utf8 = new TextEncoder();

function jsonOf(bytes: Uint8Array, what: string): object {
  const value = parsedJson(bytes, what);
  if (!isObject(value)) throw new TeeError('internal', `the enclave's ${what} is not a JSON object`);
  return value;
}

/** A data event's chunks (PROTOCOL §10): one chunk object, or a non-empty array of the chunks that were ready together. */
function chunksOf(bytes: Uint8Array): object[] {
  const value = parsedJson(bytes, 'stream chunk');
  if (isObject(value)) return [value];
  if (!Array.isArray(value) || value.length === 0 || !value.every(isObject)) throw new TeeError('internal', 'the enclave\'s stream event is neither a chunk object nor an array of them');
  return value;
}

function parsedJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8Fatal.decode(bytes));
  } catch (cause) {
    throw new TeeError('internal', `the enclave's ${what} is not JSON`, undefined, { cause });
  }
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const isObject = (value: unknown): value is object => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The error a stream's signed `error` event reports: `{code, message, param}` from the enclave. */
function streamFailure(body: object): Error {
  const { code, message, param } = body as { code?: unknown; message?: unknown; param?: unknown };
  const text = typeof message === 'string' ? message : 'the generation failed';
  const p = typeof param === 'string' ? param : undefined;
  if (isTeeErrorCode(code)) return new TeeError(code, text, undefined, p === undefined ? undefined : { param: p });
  return new VeilClientError(typeof code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : 'internal', text, undefined, p);
}

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
      ? createGatewayTeeTransport({ target: params.gateway, credentials: params.credentials, apiKey: params.apiKey, payer: params.payer, payment: params.payment })
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

  /** Seals a fresh request for `node` and sends it; a session the node forgot is re-handshaken once, as a new request. */
  const sealAndSend = async <T>(node: NodeBinding, exchange: Exchange<T>, retry: boolean, slot?: TeeIdempotencySlot, operation?: TeeOperation): Promise<T> => {
    const requestId = newRequestId();
    const request: SealedTeeRequest = await node.channel.seal(exchange.body(requestId));
    // The gateway's idempotency key names these exact bytes: a retry of them finds the stored answer, a re-seal is new.
    const idempotencyKey = slot ? `veil-${createHash('sha256').update(request.sealed).digest('hex').slice(0, 32)}` : undefined;
    if (slot && operation) slot.sent = { node, request, requestId, idempotencyKey: idempotencyKey!, operation } satisfies SentRequest;
    try {
      return await exchange.send(node, request, requestId, idempotencyKey);
    } catch (err) {
      request.fail();
      if (retry && request.kind === 'session' && isTeeError(err, 'tee_session_unknown')) {
        node.channel.reset();
        return sealAndSend(node, exchange, false, slot, operation);
      }
      throw err;
    }
  };

  let current: NodeBinding;
  let binding: Promise<NodeBinding> | undefined;
  const excluded = new Set<string>();
  let failovers = 0;
  /** Runs `run` on the current node; through a router, moves to another attested node when that one goes away. */
  const withFailover = async <T>(run: (node: NodeBinding) => Promise<T>, options?: TeeCallOptions): Promise<T> => {
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
        return await run(node);
      } catch (err) {
        if (!routed || !isNodeGone(err) || attempt >= maxFailovers) throw err;
        excluded.add(node.nodeId);
        if (binding === pending) binding = undefined;
        failovers++;
      }
    }
  };

  /** An operation with a slot: re-send what the slot holds if it can still be answered, else seal anew (with failover). */
  const idempotent = async <T>(operation: TeeOperation, exchange: Exchange<T>, options?: TeeOperationOptions): Promise<T> => {
    const slot = options?.idempotency;
    const sent = slot?.sent as SentRequest | undefined;
    if (slot && sent && sent.operation === operation) {
      try {
        return await exchange.send(sent.node, sent.request, sent.requestId, sent.idempotencyKey);
      } catch (err) {
        if (!isUnanswerable(err)) throw err;
        slot.sent = undefined;
      }
    }
    return withFailover((node) => sealAndSend(node, exchange, true, slot, operation), options);
  };

  const tensorExchange = (inputs: TeeTensorMap, options?: TeeCallOptions): Exchange<TeeInference> => {
    let t0 = 0;
    return {
      body: (requestId) => {
        t0 = performance.now();
        return encodeTeeRequestBody({ requestId, timestampMs: now().getTime(), modelId, inputs });
      },
      send: async (node, request, requestId) => {
        const t1 = performance.now();
        const response = await router.infer({ nodeId: node.nodeId, modelId, sealedRequest: request.sealed }, options);
        const t2 = performance.now();
        verifyResponse(node, request, response);
        const t3 = performance.now();
        const body = decodeTeeResponseBody(request.open(response.sealedResponse));
        if (hex(body.requestId) !== hex(requestId)) throw new TeeError('tee_decrypt_failed', 'the response answers another request');
        const t4 = performance.now();
        return {
          outputs: body.outputs,
          nodeId: node.nodeId,
          signatureValid: true,
          receipt: receiptOf(node, request, response),
          platform: node.platform,
          measurement: node.measurement,
          timings: {
            kind: request.kind, sealMs: t1 - t0, roundTripMs: t2 - t1, verifyMs: t3 - t2, openMs: t4 - t3, totalMs: t4 - t0,
            nodeMs: response.nodeMicros / 1000, computeMs: response.computeMicros / 1000,
          },
        };
      },
    };
  };

  // Verify the receipt over the exact bytes first: a tampered or substituted response fails here.
  const verifyResponse = (node: NodeBinding, request: SealedTeeRequest, response: TeeInferResponse) =>
    node.verifier.verify({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse, signature: response.signature });
  const receiptOf = (node: NodeBinding, request: SealedTeeRequest, response: TeeInferResponse): TeeOperationReceipt => ({
    text: teeSignatureText({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse }), signature: response.signature, signingAddress: node.signingAddress,
    requestBytes: request.sealed, responseBytes: response.sealedResponse,
  });

  const operationBody = (operation: TeeOperation, json: Uint8Array) => (requestId: Uint8Array) =>
    encodeTeeOperationRequest({ requestId, timestampMs: now().getTime(), modelId, operation, body: json });

  const operationExchange = (operation: TeeOperation, json: Uint8Array, options?: TeeCallOptions): Exchange<TeeOperationResult> => ({
    body: operationBody(operation, json),
    send: async (node, request, requestId, idempotencyKey) => {
      const response = await router.infer({ nodeId: node.nodeId, modelId, sealedRequest: request.sealed, operation, idempotencyKey }, options);
      verifyResponse(node, request, response);
      const answer = decodeTeeOperationResponse(request.open(response.sealedResponse));
      if (hex(answer.requestId) !== hex(requestId)) throw new TeeError('tee_decrypt_failed', 'the response answers another request');
      return {
        body: jsonOf(answer.body, 'response'),
        nodeId: node.nodeId,
        receipt: receiptOf(node, request, response),
        platform: node.platform,
        measurement: node.measurement,
        computeMs: answer.computeMicros / 1000,
      };
    },
  });

  /** A started stream: its first event already opened (so failures before it can still fail over). */
  type StartedStream = { next(): Promise<object[] | undefined>; cancel(): Promise<void> };

  const streamExchange = (json: Uint8Array, options?: TeeOperationOptions): Exchange<StartedStream> => ({
    body: operationBody('chat.completions', json),
    send: async (node, request, requestId, idempotencyKey) => {
      const inferStream = router.inferStream;
      if (!inferStream) throw new TeeError('invalid_input', 'this transport cannot stream; use call() or a gateway transport');
      const events = inferStream.call(router, { nodeId: node.nodeId, modelId, sealedRequest: request.sealed, operation: 'chat.completions', idempotencyKey }, options)[Symbol.asyncIterator]();
      // A fresh opener per attempt: a re-sent request's stored stream is checked from its first event again.
      const opener = request.openStream(requestId);
      const open = async (): Promise<object[] | undefined> => {
        let step: IteratorResult<TeeStreamEvent>;
        try {
          step = await events.next();
        } catch (err) {
          if (opener.ended) return undefined;
          throw err;
        }
        if (step.done) {
          if (opener.ended) return undefined;
          throw new TeeError('tee_stream_truncated', `the stream ended after ${opener.transcript().count} events without its signed end event (connection dropped, node stopped, or a truncating relay)`);
        }
        // Throws tee_stream_invalid for an event out of order, repeated, altered, for another request, or after the end.
        const event = opener.open(step.value.sealedEvent);
        if (event.kind === 'data') return chunksOf(event.body);
        // The terminal event carries the receipt over every frame, this one included.
        const signature = step.value.signature ?? '';
        if (!signature) throw new TeeError('tee_stream_invalid', 'the stream\'s last event carries no receipt');
        const { hash, count } = opener.transcript();
        node.verifier.verifyStream({ modelId, requestBytes: request.sealed, transcriptHash: hash, count, signature });
        options?.onReceipt?.({
          text: teeStreamSignatureText({ modelId, requestBytes: request.sealed, transcriptHash: hash, count }), signature, signingAddress: node.signingAddress,
          requestBytes: request.sealed, transcriptHash: hash, count,
        });
        if (event.kind === 'error') throw streamFailure(jsonOf(event.body, 'error event'));
        // Nothing may follow the end: the relay's stream must finish here.
        const after = await events.next().catch(() => ({ done: true }) as IteratorResult<TeeStreamEvent>);
        if (!after.done) throw new TeeError('tee_stream_invalid', 'the stream was tampered with: an event arrived after the last one');
        return undefined;
      };
      const cancel = async () => {
        await events.return?.();
      };
      // Pull the first event inside the exchange: a refusal before any event (node gone, session unknown) is retried.
      let first: object[] | undefined;
      try {
        first = await open();
      } catch (err) {
        await cancel().catch(() => undefined);
        throw err;
      }
      let pending: object[] | undefined = first;
      let started = first !== undefined;
      return {
        next: async () => {
          if (started) {
            started = false;
            return pending;
          }
          pending = undefined;
          return open();
        },
        cancel,
      };
    },
  });

  try {
    current = await attach([]);
  } catch (err) {
    if (owned) router.close?.();
    throw err;
  }
  binding = Promise.resolve(current);

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
    infer: (inputs, options) => withFailover((node) => sealAndSend(node, tensorExchange(inputs, options), true), options),
    call: (operation, request, options) => idempotent(operation, operationExchange(operation, utf8.encode(JSON.stringify(request)), options), options),
    async *stream(request, options) {
      const json = utf8.encode(JSON.stringify({ ...request, stream: true }));
      const started = await idempotent('chat.completions', streamExchange(json, options), options);
      let finished = false;
      try {
        for (;;) {
          const chunks = await started.next();
          if (chunks === undefined) break;
          yield* chunks;
        }
        finished = true;
      } finally {
        if (!finished) await started.cancel().catch(() => undefined);
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
    inferStream: transport.inferStream && (({ modelId, sealedRequest }, options) => transport.inferStream!({ modelId, sealedRequest }, options)),
    close: () => transport.close?.(),
  };
}
