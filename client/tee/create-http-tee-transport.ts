import { scheduleAt, type GetTeeEvidenceResponse, type TeeInferResponse, type TeeStreamEvent } from '../../proto';
import { isTeeErrorCode, TeeError, type TeeOperation } from '../../tee';
import { VeilClientError } from '../veil-client-error';
import { TEE_CALL_ERRORS, type RoutedTeeInferRequest, type RoutedTeeTransport, type TeeCallOptions, type TeeRoute } from './create-gateway-tee-transport';
import { readServerSentEvents } from './read-server-sent-events';

/** A model the gateway lists on `GET /v1/models` (the OpenAI list entry plus Veil's fields). */
export type GatewayModel = { id: string; object: 'model'; created: number; owned_by: string; modes: string[]; kind: string; context_length: number };

/** The gateway's HTTP surface as a TEE router, plus its model list. */
export type HttpTeeTransport = RoutedTeeTransport & {
  inferStream(request: RoutedTeeInferRequest, options?: TeeCallOptions): AsyncIterable<TeeStreamEvent>;
  listModels(options?: TeeCallOptions): Promise<GatewayModel[]>;
};

export type CreateHttpTeeTransportOptions = {
  /** The gateway's HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>`. */
  apiKey?: string;
  /** Default deadline of each call (for a stream: until its last event). */
  deadlineMs?: number;
  /** Largest non-streamed answer accepted (default 64 MiB). */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
};

export const SEALED_CONTENT_TYPE = 'application/vnd.veil.sealed';

const ROUTES: Record<TeeOperation, string> = { 'chat.completions': '/v1/chat/completions', embeddings: '/v1/embeddings' };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * The gateway's HTTP wire for sealed TEE calls (contract §C): evidence from `GET /v1/attestation`, sealed bodies
 * posted as `application/vnd.veil.sealed` to the operation's OpenAI route with `x-veil-model` / `x-veil-node`, and
 * streams as SSE `event: sealed` frames whose last one carries the receipt. It checks only the framing: every
 * byte it returns is opened and verified by connectTeeModel against the attested enclave.
 * @example const router = createHttpTeeTransport({ baseUrl: 'http://127.0.0.1:8080' });
 */
export function createHttpTeeTransport(options: CreateHttpTeeTransportOptions): HttpTeeTransport {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new VeilClientError('invalid_argument', `the gateway URL must be http:// or https:// (got ${base.protocol})`);
  const doFetch = options.fetch ?? fetch;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const auth: Record<string, string> = {};
  if (options.apiKey !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(options.apiKey)) throw new VeilClientError('invalid_argument', 'apiKey must be printable ASCII without spaces (as `veil keys create` printed it)');
    auth.authorization = `Bearer ${options.apiKey}`;
  }
  const url = (path: string) => new URL(path, base).toString();

  /** One HTTP exchange under the caller's deadline and cancellation; `release` ends them (after a stream's last byte). */
  const limited = (opts: TeeCallOptions = {}) => {
    const controller = new AbortController();
    let reason: 'cancelled' | 'deadline' | undefined;
    const onAbort = () => {
      reason ??= 'cancelled';
      controller.abort();
    };
    if (opts.signal?.aborted) throw TEE_CALL_ERRORS.cancelled();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
    const timer = deadlineMs ? scheduleAt(Date.now() + deadlineMs, () => {
      reason ??= 'deadline';
      controller.abort();
    }) : undefined;
    return {
      signal: controller.signal,
      /** The caller's cancellation or deadline, if that is why the exchange failed. */
      limitError: (): Error | undefined => (reason === 'cancelled' ? TEE_CALL_ERRORS.cancelled() : reason === 'deadline' ? TEE_CALL_ERRORS.deadlineExceeded() : undefined),
      release: () => {
        timer?.cancel();
        opts.signal?.removeEventListener('abort', onAbort);
        controller.abort();
      },
    };
  };

  const send = async (limits: ReturnType<typeof limited>, path: string, init: RequestInit): Promise<Response> => {
    try {
      return await doFetch(url(path), { ...init, signal: limits.signal });
    } catch (cause) {
      throw limits.limitError() ?? new VeilClientError('unavailable', `the gateway at ${base.origin} is unreachable`, undefined, undefined, { httpStatus: 503, cause });
    }
  };

  const getJson = async <T>(path: string, opts?: TeeCallOptions): Promise<T> => {
    const limits = limited(opts);
    try {
      const response = await send(limits, path, { headers: { ...auth, accept: 'application/json' } });
      if (!response.ok) throw await httpError(response);
      try {
        return (await response.json()) as T;
      } catch (cause) {
        throw limits.limitError() ?? new VeilClientError('internal', `the gateway answered ${path} with malformed JSON`, undefined, undefined, { httpStatus: 502, cause });
      }
    } finally {
      limits.release();
    }
  };

  const post = (limits: ReturnType<typeof limited>, request: RoutedTeeInferRequest, stream: boolean) => {
    if (!request.operation) throw new VeilClientError('invalid_argument', 'the HTTP transport carries only operation requests (chat.completions, embeddings)');
    const headers: Record<string, string> = {
      ...auth,
      'content-type': SEALED_CONTENT_TYPE,
      accept: stream ? 'text/event-stream' : SEALED_CONTENT_TYPE,
      'x-veil-model': request.modelId,
      'x-veil-node': request.nodeId,
    };
    if (stream) headers['x-veil-stream'] = '1';
    if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
    return send(limits, ROUTES[request.operation], { method: 'POST', headers, body: request.sealedRequest });
  };

  return {
    async getEvidence({ modelId, nonce, excludeNodeIds }, opts) {
      const query = new URLSearchParams({ model: modelId, nonce: Buffer.from(nonce).toString('hex') });
      if (excludeNodeIds.length > 0) query.set('exclude', excludeNodeIds.join(','));
      return parseRoute(await getJson<unknown>(`/v1/attestation?${query}`, opts));
    },

    async infer(request, opts) {
      const limits = limited(opts);
      try {
        const response = await post(limits, request, false);
        if (!response.ok) throw await httpError(response);
        const bytes = await readLimited(response, maxResponseBytes).catch((cause: unknown) => {
          throw limits.limitError() ?? (cause instanceof VeilClientError ? cause : new VeilClientError('unavailable', 'the gateway connection failed while sending the answer', undefined, undefined, { httpStatus: 502, cause }));
        });
        const signature = response.headers.get('x-veil-signature') ?? '';
        return {
          sealedResponse: bytes,
          signature,
          signingAddress: response.headers.get('x-veil-signing-address') ?? '',
          nodeMicros: micros(response.headers.get('x-veil-node-micros')),
          computeMicros: micros(response.headers.get('x-veil-compute-micros')),
        } satisfies TeeInferResponse;
      } finally {
        limits.release();
      }
    },

    async *inferStream(request, opts) {
      const limits = limited(opts);
      try {
        const response = await post(limits, request, true);
        if (!response.ok) throw await httpError(response);
        if (!response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
          throw new TeeError('tee_stream_invalid', 'the gateway answered a stream request without an event stream');
        }
        const events = readServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<{ event: string; data: string }>;
          try {
            next = await events.next();
          } catch (cause) {
            throw limits.limitError() ?? new TeeError('tee_stream_truncated', 'the gateway connection broke before the stream\'s signed end event', undefined, { cause });
          }
          if (next.done) return; // the client decides whether the stream ended where it should
          const { event, data } = next.value;
          if (event === 'error') throw streamError(data);
          if (event === 'sealed') yield parseSealedEvent(data);
          // Other event types (keep-alives) carry nothing of ours.
        }
      } finally {
        limits.release();
      }
    },

    async listModels(opts) {
      const body = await getJson<{ data?: unknown }>('/v1/models', opts);
      if (!Array.isArray(body?.data)) throw new VeilClientError('internal', 'the gateway\'s model list is malformed', undefined, undefined, { httpStatus: 502 });
      return body.data as GatewayModel[];
    },
  };
}

const micros = (value: string | null) => {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
};

async function readLimited(response: Response, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > max) throw new VeilClientError('message_too_large', `the gateway's answer (${declared} bytes) exceeds the ${max}-byte limit`, undefined, undefined, { httpStatus: 502 });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > max) throw new VeilClientError('message_too_large', `the gateway's answer exceeds the ${max}-byte limit`, undefined, undefined, { httpStatus: 502 });
  return bytes;
}

/** An OpenAI error object from the gateway → the SDK's error (TeeError for TEE codes), keeping status, type and param. */
export function errorFromOpenAiBody(body: unknown, httpStatus: number | undefined): Error {
  const error = (body as { error?: { message?: unknown; code?: unknown; param?: unknown; type?: unknown } } | null)?.error;
  const said = typeof error?.code === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(error.code) ? error.code : undefined;
  // No Veil code (a reverse proxy's HTML page, a crash): the gateway said nothing about the node, so never a TEE code.
  const code = said ?? (httpStatus === undefined || httpStatus >= 500 ? 'unavailable' : 'internal');
  const message = typeof error?.message === 'string' ? error.message : httpStatus === undefined ? 'the gateway ended the stream with an error' : `the gateway answered HTTP ${httpStatus}`;
  const param = typeof error?.param === 'string' ? error.param : undefined;
  const type = typeof error?.type === 'string' ? error.type : undefined;
  if (said !== undefined && isTeeErrorCode(code)) return new TeeError(code, message, { httpStatus, type }, param === undefined ? undefined : { param });
  return new VeilClientError(code, message, undefined, param, { httpStatus, type });
}

async function httpError(response: Response): Promise<Error> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return errorFromOpenAiBody(body, response.status);
}

function streamError(data: string): Error {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return new TeeError('tee_stream_invalid', 'the gateway sent a malformed error event');
  }
  // An SSE error event carries no HTTP status of its own; the caller's table decides by its code.
  return errorFromOpenAiBody(body, undefined);
}

function parseSealedEvent(data: string): TeeStreamEvent {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data) as Record<string, unknown>;
  } catch {
    throw new TeeError('tee_stream_invalid', 'the gateway sent a malformed stream event');
  }
  const e = value?.e;
  if (typeof e !== 'string' || !BASE64.test(e) || e.length % 4 !== 0) throw new TeeError('tee_stream_invalid', 'a stream event carries no base64 sealed event');
  const text = (k: string) => (typeof value[k] === 'string' ? (value[k] as string) : '');
  const number = (k: string) => (typeof value[k] === 'number' && Number.isSafeInteger(value[k]) && (value[k] as number) >= 0 ? (value[k] as number) : 0);
  return {
    sealedEvent: new Uint8Array(Buffer.from(e, 'base64')),
    signature: text('signature'),
    signingAddress: text('signing_address'),
    nodeMicros: number('node_micros'),
    computeMicros: number('compute_micros'),
  };
}

function parseRoute(value: unknown): TeeRoute {
  const bad = (what: string) => new TeeError('tee_attestation_failed', `the gateway's attestation answer is malformed (${what})`);
  const v = value as { node_id?: unknown; evidence?: Record<string, unknown> } | null;
  if (typeof v?.node_id !== 'string') throw bad('node_id');
  const ev = v.evidence;
  if (!ev || typeof ev.envelope_json !== 'string') throw bad('evidence.envelope_json');
  const id = ev.identity as Record<string, unknown> | null | undefined;
  let identity: GetTeeEvidenceResponse['identity'] = null;
  if (id) {
    if (typeof id.hpke_public_key !== 'string' || !HEX.test(id.hpke_public_key)) throw bad('evidence.identity.hpke_public_key');
    identity = {
      hpkePublicKey: new Uint8Array(Buffer.from(id.hpke_public_key, 'hex')),
      signingAddress: typeof id.signing_address === 'string' ? id.signing_address : '',
      hpkeSuite: typeof id.hpke_suite === 'string' ? id.hpke_suite : '',
      protocol: typeof id.protocol === 'string' ? id.protocol : '',
    };
  }
  const evidence: GetTeeEvidenceResponse = {
    envelopeJson: ev.envelope_json,
    identity,
    platform: typeof ev.platform === 'string' ? ev.platform : '',
    modelIds: Array.isArray(ev.model_ids) ? ev.model_ids.filter((m): m is string => typeof m === 'string') : [],
    maxMessageBytes: typeof ev.max_message_bytes === 'number' ? ev.max_message_bytes : 0,
  };
  return { nodeId: v.node_id, evidence };
}
