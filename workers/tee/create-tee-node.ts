import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Metadata, sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { createSimulatedProvider, type AttestationEnvelope, type EvidenceProvider } from '../../attestation';
import {
  grpcServerSpanName, grpcTraceContext, scheduleAt, UndecodableRequest, type GetTeeEvidenceRequest, type GetTeeEvidenceResponse, type TeeInferRequest, type TeeInferResponse, type TeeModelInfo, type TeeStreamEvent, type TeeUsage,
} from '../../proto';
import {
  createEnclaveIdentity, encodeTeeOperationResponse, encodeTeeResponseBody, ReplayGuard, SILENT_TEE_LOGGER, TEE_HPKE_SUITE, TEE_PROTOCOL, TeeError,
  type EnclaveIdentity, type OpenedTeeRequest, type ReplayGuardOptions, type TeeLogger,
} from '../../tee';
import { batchReadyItems } from './batch-ready-items';
import type { TeePool } from './create-tee-pool';
import type { TeeLanguageHost } from './tee-language-host';
import { toTeeGrpcStatus, toTeeNodeFailure } from './to-tee-grpc-status';

/** Where evidence comes from: a hardware provider inside a TEE, or the SIMULATED provider in development. */
export type TeeEvidenceSource = Pick<EvidenceProvider, 'getEvidence'> & { readonly platform: string };

export type CreateTeeNodeOptions = {
  pool: TeePool;
  /** Close the pool on stop(). Default true. */
  ownsPool?: boolean;
  /** Default: attestation's SIMULATED provider — proves nothing about hardware; clients refuse it unless they opt in. */
  evidenceSource?: TeeEvidenceSource;
  /** Default: a fresh in-process identity created by start(). */
  identity?: EnclaveIdentity;
  logger?: TeeLogger;
  /** Clock (epoch ms) for the replay guard. */
  now?: () => number;
  replay?: Omit<ReplayGuardOptions, 'now'>;
  /** How often the node-nonce evidence served for an empty nonce is refreshed. Default 5 min; 0 disables. */
  evidenceRefreshMs?: number;
  timers?: { setInterval(fn: () => void, ms: number): unknown; clearInterval(handle: unknown): void };
  /** Largest sealed request accepted. Default 64 MiB. */
  maxSealedBytes?: number;
  /** The gRPC message limit of the server this node is mounted in, reported with its evidence (0 = not reported). */
  maxMessageBytes?: number;
  /** Language models (chat, embeddings) served with operation bodies (issue #10). Closed with the node when owned. */
  languageHost?: TeeLanguageHost;
};

/** Where one Infer spent its time inside the node (milliseconds). */
export type TeeInferTimings = { kind: 'handshake' | 'session'; openMs: number; poolMs: number; sealMs: number; signMs: number; totalMs: number };

/**
 * The caller's cancellation (client cancel or deadline, relayed by the gateway). The node skips whatever work has
 * not started: evidence generation, a task still waiting for a worker, sealing and signing a result nobody awaits.
 * A task already running in a worker finishes (killing a warm worker would cost more than the work).
 */
export type TeeNodeCallOptions = { signal?: AbortSignal };

export type TeeNode = {
  /** The veil.v1.TeeNode implementation, for `server.addService(TeeNode.service, node.handlers)`. */
  readonly handlers: UntypedServiceImplementation;
  getEvidence(request: GetTeeEvidenceRequest, options?: TeeNodeCallOptions): Promise<GetTeeEvidenceResponse>;
  infer(request: TeeInferRequest, options?: TeeNodeCallOptions): Promise<TeeInferResponse>;
  /** `infer` plus the node-side timing breakdown (for benches and logs). */
  inferDetailed(request: TeeInferRequest, options?: TeeNodeCallOptions): Promise<{ response: TeeInferResponse; timings: TeeInferTimings }>;
  /**
   * A streamed chat completion (issue #10): sealed events in order, the last with the transcript receipt. Refusals found
   * before the first token (bad parameter, context too long) are thrown; a failure after that is a sealed `error`
   * event, signed like an end. Breaking out of the iteration stops generation.
   */
  inferStream(request: TeeInferRequest, options?: TeeNodeCallOptions): AsyncGenerator<TeeStreamEvent>;
  /** What each served model is: tensor models and language models. */
  readonly models: readonly TeeModelInfo[];
  /** Public identity (throws before start()). */
  readonly identity: EnclaveIdentity;
  /** The evidence source's platform, read live: configfs-tsm learns it from the kernel on its first report. */
  readonly platform: string;
  readonly started: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * A TEE worker node: enclave identity + warm inference pool + evidence + replay guard, exposed as the
 * veil.v1.TeeNode service. Mount `handlers` in any gRPC server (the gateway process, or a standalone
 * node via `startTeeNodeServer`). The node logs ids, sizes, durations and codes only — never payloads.
 * @example
 * const node = createTeeNode({ pool: await createTeePool({ models }) });
 * await node.start();
 * server.addService(loadVeilProto().services.TeeNode.service, node.handlers);
 */
export function createTeeNode(options: CreateTeeNodeOptions): TeeNode {
  const logger = options.logger ?? SILENT_TEE_LOGGER;
  const pool = options.pool;
  const source: TeeEvidenceSource = options.evidenceSource ?? createSimulatedProvider();
  const guard = new ReplayGuard({ ...options.replay, now: options.now ?? Date.now });
  const refreshMs = options.evidenceRefreshMs ?? 5 * 60_000;
  const timers = options.timers ?? { setInterval: (fn: () => void, ms: number) => setInterval(fn, ms).unref(), clearInterval: (h: unknown) => clearInterval(h as NodeJS.Timeout) };
  const maxSealed = options.maxSealedBytes ?? 64 * 1024 * 1024;
  const host = options.languageHost;
  const modelInfo: TeeModelInfo[] = [
    ...pool.modelIds.map((id) => ({ id, kind: 'tabular', contextLength: 0 })),
    ...(host?.models ?? []).map((m) => ({ id: m.id, kind: m.kind, contextLength: m.contextLength })),
  ];
  const served = new Set(modelInfo.map((m) => m.id));
  const languageModels = new Set((host?.models ?? []).map((m) => m.id));
  if (served.size !== modelInfo.length) throw new Error('a TEE node serves each model id once (a tensor model and a language model share an id)');
  const reportedLimit = options.maxMessageBytes ?? 0;

  let identity: EnclaveIdentity | undefined = options.identity;
  let cached: { envelope: AttestationEnvelope; json: string } | undefined;
  let timer: unknown;
  let state: 'new' | 'running' | 'stopped' = 'new';

  const requireIdentity = (): EnclaveIdentity => {
    if (state !== 'running' || !identity) throw new TeeError('unavailable', 'the TEE node is not running');
    return identity;
  };

  const evidenceFor = async (nonce: Uint8Array) => {
    const id = requireIdentity();
    const envelope = await source.getEvidence({ hpkePublicKey: id.hpkePublicKey, signingAddress: id.signingAddress, nonce });
    return { envelope, json: JSON.stringify(envelope) };
  };

  const refresh = async () => {
    const started = performance.now();
    try {
      cached = await evidenceFor(new Uint8Array(randomBytes(32)));
      logger.debug('tee evidence refreshed', { platform: cached.envelope.platform, ms: ms(started) });
    } catch (err) {
      const failure = toTeeNodeFailure(err);
      logger.warn('tee evidence refresh failed', { code: failure.code, reason: failure.reason });
    }
  };

  /** Opens a request and admits it past the replay guard: the one entry of Infer and InferStream. */
  const admit = async (request: TeeInferRequest, signal: AbortSignal | undefined) => {
    const id = requireIdentity();
    throwIfCancelled(signal);
    const t0 = performance.now();
    const sealed = request.sealedRequest;
    if (!served.has(request.modelId)) throw new TeeError('tee_model_not_found', 'this node does not serve the model');
    if (!(sealed instanceof Uint8Array) || sealed.byteLength === 0) throw new TeeError('invalid_input', 'sealed_request is empty');
    if (sealed.byteLength > maxSealed) throw new TeeError('invalid_input', `sealed_request exceeds ${maxSealed} bytes`);
    const opened = await id.open({ modelId: request.modelId, sealed });
    throwIfCancelled(signal);
    // Replay is judged on the authenticated request id and timestamp, so the relay cannot forge either. Each channel
    // session is its own owner, so one session cannot fill the guard for everyone.
    const ticket = guard.admit(Buffer.from(opened.body.requestId).toString('hex'), opened.body.timestampMs, opened.sessionId);
    return { id, opened, ticket, t0 };
  };

  /** Runs work for an admitted request; failures become one TeeError (param kept), and work refused before it ran frees its id. */
  const guarded = <T>(ticket: { release(): void }, work: Promise<T>): Promise<T> => work.catch((err: unknown) => {
    const f = toTeeNodeFailure(err);
    // Refused before it ran (queue full, cancelled while waiting): it must not hold a place in the replay guard.
    if (f.code === 'overloaded' || f.code === 'cancelled' || f.code === 'unavailable') ticket.release();
    throw new TeeError(f.code, f.message, f.reason ? { reason: f.reason } : undefined, { cause: err, param: f.param });
  });

  /** The OpenAI request inside an operation body, for a language model this node serves. */
  const operationRequest = (opened: OpenedTeeRequest, modelId: string): Record<string, unknown> => {
    if (opened.body.version !== 2) throw new TeeError('invalid_input', 'expected an operation body');
    if (!host || !languageModels.has(modelId)) throw new TeeError('invalid_input', 'this model takes tensor bodies, not operations');
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(opened.body.body).toString('utf8'));
    } catch {
      throw new TeeError('invalid_input', 'the request body is not valid JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TeeError('invalid_input', 'the request body must be a JSON object');
    return json as Record<string, unknown>;
  };

  const node: TeeNode = {
    get identity() {
      if (!identity) throw new TeeError('unavailable', 'the TEE node has no identity before start()');
      return identity;
    },
    get platform() {
      return source.platform;
    },
    get started() {
      return state === 'running';
    },
    async start() {
      if (state !== 'new') throw new Error('a TEE node starts once');
      identity ??= await createEnclaveIdentity({ now: options.now });
      state = 'running';
      if (source.platform === 'simulated') {
        logger.warn('tee node uses SIMULATED attestation: its evidence proves nothing about hardware', { signingAddress: identity.signingAddress });
      }
      await refresh();
      if (refreshMs > 0) timer = timers.setInterval(() => void refresh(), refreshMs);
      logger.info('tee node started', { platform: source.platform, models: [...served].join(','), signingAddress: identity.signingAddress, threads: pool.threads });
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      if (timer !== undefined) timers.clearInterval(timer);
      if (options.ownsPool ?? true) {
        await pool.close();
        await host?.close();
      }
      logger.info('tee node stopped');
    },

    async getEvidence(request, options) {
      const id = requireIdentity();
      throwIfCancelled(options?.signal);
      const nonce = request.nonce ?? new Uint8Array(0);
      if (nonce.byteLength > 1024) throw new TeeError('invalid_input', 'the nonce must be at most 1024 bytes');
      const evidence = nonce.byteLength === 0 ? (cached ?? (await evidenceFor(new Uint8Array(randomBytes(32))))) : await evidenceFor(nonce);
      return {
        envelopeJson: evidence.json,
        identity: { hpkePublicKey: id.hpkePublicKey, signingAddress: id.signingAddress, hpkeSuite: TEE_HPKE_SUITE, protocol: TEE_PROTOCOL },
        platform: evidence.envelope.platform,
        modelIds: [...served],
        maxMessageBytes: reportedLimit,
        models: modelInfo,
      };
    },

    async infer(request, options) {
      return (await node.inferDetailed(request, options)).response;
    },

    async inferDetailed(request, options) {
      const signal = options?.signal;
      const { id, opened, ticket, t0 } = await admit(request, signal);
      const t1 = performance.now();
      let body: Uint8Array;
      let computeMicros: number;
      let usage: TeeUsage | undefined;
      if (opened.body.version === 1) {
        if (languageModels.has(request.modelId)) throw new TeeError('invalid_input', 'this is a language model: send a chat.completions or embeddings operation body');
        const result = await guarded(ticket, pool.run({ modelId: request.modelId, inputs: opened.body.inputs, signal }));
        throwIfCancelled(signal);
        computeMicros = result.computeMicros;
        body = encodeTeeResponseBody({ requestId: opened.body.requestId, outputs: result.outputs, computeMicros });
      } else {
        const json = operationRequest(opened, request.modelId);
        if (json.stream === true) throw new TeeError('invalid_input', 'a streamed chat completion goes through InferStream', undefined, { param: 'stream' });
        const started = performance.now();
        const answer = await guarded(ticket, host!.run(opened.body.operation, request.modelId, json, signal));
        computeMicros = Math.round((performance.now() - started) * 1000);
        throwIfCancelled(signal);
        body = encodeTeeOperationResponse({ requestId: opened.body.requestId, body: utf8.encode(JSON.stringify(answer)), computeMicros });
        const counts = usageOf(answer);
        usage = { ...counts, signature: id.signUsage(opened, 0, counts) };
      }
      // The task ran (its id stays recorded); nobody waits for the answer, so it is neither sealed nor signed.
      const t2 = performance.now();
      const sealedResponse = id.sealResponse(opened, body);
      const t3 = performance.now();
      const signature = await id.sign({ modelId: request.modelId, requestBytes: request.sealedRequest, responseBytes: sealedResponse });
      const t4 = performance.now();
      return {
        response: { sealedResponse, signature, signingAddress: id.signingAddress, nodeMicros: Math.round((t4 - t0) * 1000), computeMicros, ...(usage ? { usage } : {}) },
        timings: { kind: opened.kind, openMs: t1 - t0, poolMs: t2 - t1, sealMs: t3 - t2, signMs: t4 - t3, totalMs: t4 - t0 },
      };
    },

    async *inferStream(request, options) {
      const signal = options?.signal;
      const { id, opened, ticket, t0 } = await admit(request, signal);
      if (opened.body.version !== 2 || opened.body.operation !== 'chat.completions') {
        throw new TeeError('invalid_input', 'InferStream takes a chat.completions operation body', undefined, { param: 'stream' });
      }
      const json = operationRequest(opened, request.modelId);
      if (json.stream !== true) throw new TeeError('invalid_input', 'InferStream takes a chat completion with stream: true', undefined, { param: 'stream' });
      const started = performance.now();
      // Every event carries the tokens read and generated so far, signed: a paid stream is charged for what it delivered.
      // The host meters each chunk just before yielding it, so the counts are taken with the chunk they belong to.
      let metered = { inputTokens: 0, outputTokens: 0 };
      const meter = (u: { promptTokens: number; completionTokens: number }) => { metered = { inputTokens: u.promptTokens, outputTokens: u.completionTokens }; };
      async function* meteredChunks() {
        for await (const chunk of host!.stream(request.modelId, json, signal, meter)) yield { chunk, counts: metered };
      }
      // Chunks ready at the same moment (the role chunk with the first token; finish with usage) leave as one event:
      // every event costs a seal, a signature and a write on each hop, and grouping by readiness delays nothing.
      const chunks = batchReadyItems(meteredChunks());
      // Refusals before the first token (parameters, context length) are plain errors, so HTTP can answer 400.
      let next = await guarded(ticket, chunks.next());
      const sealer = id.createStreamSealer(opened);
      const computeMicros = () => Math.round((performance.now() - started) * 1000);
      // The counts of the last chunk sealed so far (the end and error events repeat them).
      let counts = metered;
      const usage = (): TeeUsage => ({ ...counts, signature: id.signUsage(opened, sealer.count, counts) });
      const last = async (frame: Uint8Array, compute: number): Promise<TeeStreamEvent> => ({
        sealedEvent: frame, signature: await sealer.sign(), signingAddress: id.signingAddress, nodeMicros: Math.round((performance.now() - t0) * 1000), computeMicros: compute,
        usage: usage(),
      });
      try {
        while (!next.done) {
          // PROTOCOL §10: one chunk is its JSON object, several ready together a JSON array of them, in order.
          const batch = next.value.map((c) => c.chunk);
          counts = next.value[next.value.length - 1]!.counts;
          const sealedEvent = sealer.seal('data', utf8.encode(JSON.stringify(batch.length === 1 ? batch[0] : batch)));
          yield { sealedEvent, usage: usage() };
          next = await chunks.next();
        }
      } catch (err) {
        if (signal?.aborted) return; // nobody is listening any more
        const failure = toTeeNodeFailure(err);
        if (failure.code === 'internal') logger.error('tee stream failed', { model: request.modelId, reason: failure.reason });
        // toTeeNodeFailure gives internal failures its generic message; their detail stays in the log above.
        yield await last(sealer.seal('error', utf8.encode(JSON.stringify({ code: failure.code, message: failure.message, param: failure.param ?? null }))), computeMicros());
        return;
      } finally {
        // The consumer stopped early (client gone) or generation ended: either way the host releases its slot.
        await chunks.return(undefined);
      }
      throwIfCancelled(signal);
      const compute = computeMicros();
      yield await last(sealer.seal('end', utf8.encode(JSON.stringify({ compute_micros: compute }))), compute);
    },

    get models() {
      return modelInfo;
    },

    handlers: {},
  };

  const handlers: UntypedServiceImplementation = {
    GetEvidence: unary('GetEvidence', logger, (req: GetTeeEvidenceRequest, signal) => node.getEvidence(req, { signal }), (res) => ({ platform: res.platform })),
    Infer: unary('Infer', logger, async (req: TeeInferRequest, signal) => {
      const { response, timings } = await node.inferDetailed(req, { signal });
      return Object.assign(response, {
        [kLog]: {
          kind: timings.kind, model: req.modelId, requestBytes: req.sealedRequest.byteLength, responseBytes: response.sealedResponse.byteLength,
          openMs: round(timings.openMs), poolMs: round(timings.poolMs), signMs: round(timings.signMs), computeMs: response.computeMicros / 1000,
        },
      });
    }),
  };
  handlers.InferStream = serverStream('InferStream', logger, (req: TeeInferRequest, signal) => node.inferStream(req, { signal }));
  (node as { handlers: UntypedServiceImplementation }).handlers = handlers;
  return node;
}

const kLog = Symbol('logFields');

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-tee-node');

/**
 * The node call's SERVER span, continuing the gateway's trace (`traceparent` metadata): routing metadata only (method,
 * model id, request id). `fn` runs inside it, so the node's log lines carry its ids.
 */
function inServerSpan<T>(call: { metadata: Metadata; getPath(): string; request: unknown }, requestId: string, fn: (span: Span) => T): T {
  const { name, attributes } = grpcServerSpanName(call.getPath());
  const modelId = (call.request as { modelId?: unknown } | null)?.modelId;
  const span = tracer().startSpan(name, {
    kind: SpanKind.SERVER, attributes: { ...attributes, 'veil.request_id': requestId, ...(typeof modelId === 'string' ? { 'veil.model': modelId } : {}) },
  }, grpcTraceContext(call.metadata));
  return otelContext.with(trace.setSpan(otelContext.active(), span), () => fn(span));
}

/** Ends a node call's span with its outcome: the stable code only, never a message. */
function endSpan(span: Span, code: string): void {
  span.setAttribute('veil.code', code);
  if (code !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.end();
}

function unary<Req, Res extends object>(
  rpc: string,
  logger: TeeLogger,
  handler: (request: Req, signal: AbortSignal) => Promise<Res>,
  fields?: (response: Res) => Record<string, string | number | undefined>,
) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const requestId = randomUUID();
    inServerSpan(call, requestId, (span) => unaryInSpan(call, callback, requestId, span));
  };

  function unaryInSpan(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, requestId: string, span: Span): void {
    const started = performance.now();
    const { signal, done } = callLimits(call);
    // A request that is not valid protobuf reaches here as a marker (proto/guard-request-decoding.ts), never a bare INTERNAL.
    const request = call.request as unknown;
    const body = request instanceof UndecodableRequest
      ? Promise.reject(new TeeError('invalid_input', `the request is not a valid ${rpc} message`))
      : handler(call.request, signal);
    body.finally(done).then(
      (response) => {
        const extra = (response as { [kLog]?: Record<string, string | number | undefined> })[kLog] ?? fields?.(response) ?? {};
        logger.info('tee rpc ok', { rpc, requestId, ms: ms(started), ...extra });
        endSpan(span, 'ok');
        callback(null, response);
      },
      (err: unknown) => {
        const failure = toTeeNodeFailure(err);
        const log = failure.code === 'internal' ? logger.error : logger.info;
        log('tee rpc refused', { rpc, requestId, code: failure.code, ms: ms(started), reason: failure.code === 'internal' ? failure.reason : undefined });
        endSpan(span, failure.code);
        const status = toTeeGrpcStatus(failure);
        status.metadata.set('x-request-id', requestId);
        callback(status, null);
      },
    );
  }
}

const utf8 = new TextEncoder();

type LimitedCall = { on(event: 'cancelled', fn: () => void): unknown; removeListener(event: 'cancelled', fn: () => void): unknown; getDeadline(): unknown };

/** The gateway cancels its node call when its client cancels or its deadline passes; both reach the node as one signal. */
function callLimits(call: LimitedCall): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.on('cancelled', abort);
  const raw = call.getDeadline();
  const deadline = raw instanceof Date ? raw.getTime() : Number(raw);
  const timer = Number.isFinite(deadline) ? scheduleAt(deadline, abort) : undefined;
  return {
    signal: controller.signal,
    done: () => {
      call.removeListener('cancelled', abort);
      timer?.cancel();
    },
  };
}

/**
 * A server-streaming method: every event written as it comes (waiting for the transport to drain), a refusal before
 * the first event as a typed status, and the caller's cancellation stopping the producer.
 */
function serverStream<Req>(rpc: string, logger: TeeLogger, produce: (request: Req, signal: AbortSignal) => AsyncIterable<TeeStreamEvent>) {
  return (call: ServerWritableStream<Req, TeeStreamEvent>): void => {
    const requestId = randomUUID();
    inServerSpan(call, requestId, (span) => streamInSpan(call, requestId, span));
  };

  function streamInSpan(call: ServerWritableStream<Req, TeeStreamEvent>, requestId: string, span: Span): void {
    const started = performance.now();
    const { signal, done } = callLimits(call);
    let events = 0;
    let bytes = 0;
    const body = async () => {
      const request = call.request as unknown;
      if (request instanceof UndecodableRequest) throw new TeeError('invalid_input', `the request is not a valid ${rpc} message`);
      for await (const event of produce(call.request, signal)) {
        events++;
        bytes += event.sealedEvent.byteLength;
        if (!call.write(event)) await once(call, 'drain', { signal });
      }
    };
    body().finally(done).then(
      () => {
        logger.info('tee rpc ok', { rpc, requestId, ms: ms(started), events, responseBytes: bytes });
        span.setAttribute('veil.events', events);
        endSpan(span, 'ok');
        call.end();
      },
      (err: unknown) => {
        const failure = signal.aborted && events > 0 ? { code: 'cancelled' as const, message: 'the request was cancelled' } : toTeeNodeFailure(err);
        const log = failure.code === 'internal' ? logger.error : logger.info;
        log('tee rpc refused', { rpc, requestId, code: failure.code, ms: ms(started), events, reason: failure.code === 'internal' ? (failure as { reason?: string }).reason : undefined });
        span.setAttribute('veil.events', events);
        endSpan(span, failure.code);
        const status = toTeeGrpcStatus(failure);
        status.metadata.set('x-request-id', requestId);
        call.emit('error', status);
      },
    );
  }
}

/** The token counts of an OpenAI response object the host produced (chat: prompt + completion; embeddings: prompt). */
function usageOf(answer: object): { inputTokens: number; outputTokens: number } {
  const u = (answer as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
  const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return { inputTokens: count(u?.prompt_tokens), outputTokens: count(u?.completion_tokens) };
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TeeError('cancelled', 'the request was cancelled');
}

function ms(since: number): number {
  return round(performance.now() - since);
}
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
