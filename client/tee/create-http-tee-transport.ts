import { scheduleAt, type GetTeeEvidenceResponse, type TeeInferResponse, type TeeStreamEvent } from '../../proto';
import { isTeeErrorCode, TeeError, type TeeOperation } from '../../tee';
import { VeilClientError } from '../veil-client-error';
import { AnswerTooLarge, createGatewayRequester, type GatewayAnswer, type GatewayRequest } from './create-gateway-requester';
import { TEE_CALL_ERRORS, type RoutedTeeInferRequest, type RoutedTeeTransport, type TeeCallOptions, type TeeRoute } from './create-gateway-tee-transport';
import { readServerSentEvents } from './read-server-sent-events';
import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired, type PriceTable } from '../../payments';
import { createPaymentRounds, isBalancerFailure, type ChannelPayer, type PaymentRound, type PaymentRoundsOptions } from '../payments';
import { createChargeChecker } from './create-charge-checker';

/** A model the gateway lists on `GET /v1/models` (the OpenAI list entry plus Veil's fields). */
export type GatewayModel = { id: string; object: 'model'; created: number; owned_by: string; modes: string[]; kind: string; context_length: number };

/** The gateway's HTTP surface as a TEE router, plus its model list. */
export type HttpTeeTransport = RoutedTeeTransport & {
  inferStream(request: RoutedTeeInferRequest, options?: TeeCallOptions): AsyncIterable<TeeStreamEvent>;
  listModels(options?: TeeCallOptions): Promise<GatewayModel[]>;
  /** Closes the idle keep-alive connections to the gateway. */
  close(): void;
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
  /**
   * Pays the gateway's charges (issue #11): each call's "payment required" is paid with a voucher from this payer,
   * every receipt is checked against the payer's own view, and a paid stream's in-band top-up requests are paid as
   * they come (within the payer's maxPerCall / maxSpend). Without it a paid gateway's 402 is an error.
   */
  payer?: ChannelPayer;
  /** How the payer's rounds run (prepay, corrections, onSettled). */
  payment?: PaymentRoundsOptions;
  /**
   * The prices the app agreed to (GET /v1/pricing's table): every TEE charge is checked against them × the enclave's
   * signed usage. Default: the gateway's own table, read on the first paid call and pinned from then on.
   */
  prices?: PriceTable;
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
  const requester = createGatewayRequester(base);
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const auth: Record<string, string> = {};
  if (options.apiKey !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(options.apiKey)) throw new VeilClientError('invalid_argument', 'apiKey must be printable ASCII without spaces (as `veil keys create` printed it)');
    auth.authorization = `Bearer ${options.apiKey}`;
  }

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

  const send = async (limits: ReturnType<typeof limited>, path: string, init: Omit<GatewayRequest, 'signal'>): Promise<GatewayAnswer> => {
    try {
      return await requester.request(path, { ...init, signal: limits.signal });
    } catch (cause) {
      throw limits.limitError() ?? new VeilClientError('unavailable', `the gateway at ${base.origin} is unreachable`, undefined, undefined, { httpStatus: 503, cause });
    }
  };

  const getJson = async <T>(path: string, opts?: TeeCallOptions): Promise<T> => {
    const limits = limited(opts);
    try {
      const response = await send(limits, path, { method: 'GET', headers: { ...auth, accept: 'application/json' } });
      if (!ok(response)) throw await httpError(response);
      try {
        return JSON.parse(Buffer.from(await response.bytes(maxResponseBytes)).toString('utf8')) as T;
      } catch (cause) {
        throw limits.limitError() ?? new VeilClientError('internal', `the gateway answered ${path} with malformed JSON`, undefined, undefined, { httpStatus: 502, cause });
      }
    } finally {
      limits.release();
    }
  };

  const rounds = options.payer ? createPaymentRounds(options.payer, options.payment) : undefined;
  const charges = createChargeChecker({ prices: options.prices, fetchPricing: () => getJson<unknown>('/v1/pricing') });

  /**
   * Posts a sealed call and pays for it: unpaid (or prepaid) first, then each "payment required" answer is paid and
   * the same sealed bytes sent again — the gateway refuses an unpaid call before the node sees it, so they are still
   * fresh. Returns the accepted answer and its payment round (settled here for single answers; a stream's receipts
   * come in-band).
   */
  const postPaying = async (limits: ReturnType<typeof limited>, request: RoutedTeeInferRequest, stream: boolean) => {
    const round = rounds?.round(`tee:${request.modelId}:${request.operation ?? ''}${stream ? ':stream' : ''}`);
    let signature = await round?.first();
    for (;;) {
      let response: GatewayAnswer;
      try {
        response = await post(limits, request, stream, signature);
      } catch (err) {
        await round?.answer({ transportError: true });
        throw err;
      }
      if (!round) return { response, round };
      if (response.status === 402) {
        signature = await round.answer({ paymentRequired: true, required: paymentRequiredOf(response.header(PAYMENT_REQUIRED_HEADER)) });
        if (signature !== undefined) {
          response.discard();
          continue;
        }
        return { response, round: undefined };
      }
      if (response.status === 409) {
        // payment_in_progress: an earlier attempt under this idempotency key (cut by a replica that died) still holds
        // its reservation; the round sends the same sealed bytes again once it lapsed (createPaymentRounds).
        response = await buffered(response);
        if (errorCodeOf(await response.bytes(MAX_ERROR_BODY_BYTES)) === 'payment_in_progress') {
          signature = await round.answer({ paymentRequired: false, inProgress: true });
          if (signature !== undefined) continue;
          return { response, round: undefined };
        }
      }
      if (!ok(response)) {
        await round.answer(isBalancerFailure(response.status, response.header(PAYMENT_RESPONSE_HEADER)) ? { transportError: true } : { paymentRequired: false });
        return { response, round: undefined };
      }
      if (!stream) {
        const receipt = response.header(PAYMENT_RESPONSE_HEADER);
        await round.answer({ paymentRequired: false, receipt, check: await charges.check(request, receipt, { charged: 0n }) });
        return { response, round: undefined };
      }
      return { response, round };
    }
  };

  /**
   * A paid stream's account on the client side: the round of the window being spent now is settled by the next
   * in-band payment-response; a payment-required event is paid (a new round) and the voucher posted to the stream.
   */
  const streamPayments = (first: PaymentRound | undefined, streamId: string | undefined, limits: ReturnType<typeof limited>, request: RoutedTeeInferRequest) => {
    let open = first;
    const so = { charged: 0n }; // what this stream's windows charged so far
    return {
      async settled(data: string) {
        // Without a payer the stream is paid otherwise (an API key's budget): its receipts are for the operator's books.
        if (!rounds) return;
        const receipt = jsonField(data, 'payment_response');
        if (!open || receipt === undefined) throw new TeeError('tee_stream_invalid', 'the gateway sent a payment receipt this stream did not pay for');
        const round = open;
        open = undefined;
        await round.answer({ paymentRequired: false, receipt, check: await charges.check(request, receipt, so) });
      },
      async required(data: string) {
        const header = jsonField(data, 'payment_required');
        if (!rounds || streamId === undefined || header === undefined) {
          throw new VeilClientError('payment_required', 'the gateway paused the stream for a payment; pass a payer to pay streams', undefined, undefined, { httpStatus: 402 });
        }
        // The window before was settled by its receipt; a round still open was released (nothing delivered in it).
        if (open) await open.answer({ paymentRequired: false });
        const round = rounds.round(`tee-stream-topup:${streamId}`);
        open = round;
        let signature = await round.answer({ paymentRequired: true, required: paymentRequiredOf(header) });
        while (signature !== undefined) {
          const answer = await send(limits, `/v1/streams/${encodeURIComponent(streamId)}/payment`, { method: 'POST', headers: { ...auth, [PAYMENT_SIGNATURE_HEADER]: signature } });
          if (ok(answer)) {
            answer.discard();
            return; // its receipt arrives in the stream
          }
          if (answer.status !== 402) {
            await round.answer({ paymentRequired: false });
            open = undefined;
            throw await httpError(answer);
          }
          signature = await round.answer({ paymentRequired: true, required: paymentRequiredOf(answer.header(PAYMENT_REQUIRED_HEADER)) });
          answer.discard();
        }
        open = undefined;
        throw new VeilClientError('payment_required', 'the stream\'s top-up was refused', undefined, undefined, { httpStatus: 402 });
      },
      /** The stream ended: a window with no receipt was not charged (or, cut off, may have been). */
      async end(cut: boolean) {
        const round = open;
        open = undefined;
        await round?.answer(cut ? { transportError: true } : { paymentRequired: false });
      },
    };
  };

  const post = (limits: ReturnType<typeof limited>, request: RoutedTeeInferRequest, stream: boolean, signature?: string) => {
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
    if (signature !== undefined) headers[PAYMENT_SIGNATURE_HEADER] = signature;
    return send(limits, ROUTES[request.operation], { method: 'POST', headers, body: request.sealedRequest });
  };

  return {
    async getEvidence({ modelId, nonce, excludeNodeIds }, opts) {
      const query = new URLSearchParams({ model: modelId, nonce: Buffer.from(nonce).toString('hex') });
      if (excludeNodeIds.length > 0) query.set('exclude', excludeNodeIds.join(','));
      const route = parseRoute(await getJson<unknown>(`/v1/attestation?${query}`, opts));
      // Charges are checked against usage this node signs; connectTeeModel refuses the node if its evidence does not
      // attest this very address, before any paid request is sealed to it.
      if (route.evidence.identity) charges.remember(route.nodeId, route.evidence.identity.signingAddress);
      return route;
    },

    async infer(request, opts) {
      const limits = limited(opts);
      try {
        const { response } = await postPaying(limits, request, false);
        if (!ok(response)) throw await httpError(response);
        const bytes = await response.bytes(maxResponseBytes).catch((cause: unknown) => {
          if (cause instanceof AnswerTooLarge) {
            const size = cause.declared === undefined ? '' : ` (${cause.declared} bytes)`;
            throw new VeilClientError('message_too_large', `the gateway's answer${size} exceeds the ${maxResponseBytes}-byte limit`, undefined, undefined, { httpStatus: 502 });
          }
          throw limits.limitError() ?? new VeilClientError('unavailable', 'the gateway connection failed while sending the answer', undefined, undefined, { httpStatus: 502, cause });
        });
        return {
          sealedResponse: bytes,
          signature: response.header('x-veil-signature') ?? '',
          signingAddress: response.header('x-veil-signing-address') ?? '',
          nodeMicros: micros(response.header('x-veil-node-micros')),
          computeMicros: micros(response.header('x-veil-compute-micros')),
        } satisfies TeeInferResponse;
      } finally {
        limits.release();
      }
    },

    async *inferStream(request, opts) {
      const limits = limited(opts);
      let paying: ReturnType<typeof streamPayments> | undefined;
      let cut = true;
      try {
        const { response, round } = await postPaying(limits, request, true);
        if (!ok(response)) throw await httpError(response);
        if (!(response.header('content-type') ?? '').startsWith('text/event-stream')) {
          response.discard();
          throw new TeeError('tee_stream_invalid', 'the gateway answered a stream request without an event stream');
        }
        paying = streamPayments(round, response.header('x-veil-stream-id'), limits, request);
        const events = readServerSentEvents(response.body)[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<{ event: string; data: string }>;
          try {
            next = await events.next();
          } catch (cause) {
            throw limits.limitError() ?? new TeeError('tee_stream_truncated', 'the gateway connection broke before the stream\'s signed end event', undefined, { cause });
          }
          if (next.done) {
            cut = false;
            return; // the client decides whether the stream ended where it should
          }
          const { event, data } = next.value;
          if (event === 'error') {
            cut = false;
            throw streamError(data);
          }
          if (event === 'sealed') yield parseSealedEvent(data);
          else if (event === 'payment-response') await paying.settled(data);
          else if (event === 'payment-required') await paying.required(data);
          // Other event types (keep-alives) carry nothing of ours.
        }
      } finally {
        limits.release();
        await paying?.end(cut);
      }
    },

    async listModels(opts) {
      const body = await getJson<{ data?: unknown }>('/v1/models', opts);
      if (!Array.isArray(body?.data)) throw new VeilClientError('internal', 'the gateway\'s model list is malformed', undefined, undefined, { httpStatus: 502 });
      return body.data as GatewayModel[];
    },

    close: () => requester.close(),
  };
}

const ok = (response: GatewayAnswer) => response.status >= 200 && response.status < 300;

const micros = (value: string | undefined) => {
  const n = Number(value ?? 0);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
};

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

/** Error answers are small OpenAI error objects; anything larger is not one, and is not read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The answer with its (error-sized) body read, so it can be looked at here and read again by the caller. */
async function buffered(response: GatewayAnswer): Promise<GatewayAnswer> {
  const bytes = await response.bytes(MAX_ERROR_BODY_BYTES).catch(() => new Uint8Array(0));
  return {
    status: response.status,
    header: (name) => response.header(name),
    body: (async function* () {
      yield bytes;
    })(),
    bytes: async (maxBytes) => {
      if (bytes.byteLength > maxBytes) throw new AnswerTooLarge(bytes.byteLength);
      return bytes;
    },
    discard: () => {},
  };
}

function errorCodeOf(body: Uint8Array): string | undefined {
  try {
    const code = (JSON.parse(Buffer.from(body).toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

async function httpError(response: GatewayAnswer): Promise<Error> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(await response.bytes(MAX_ERROR_BODY_BYTES)).toString('utf8'));
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

/** A PAYMENT-REQUIRED value (header or in-band event), or undefined when it is not one. */
function paymentRequiredOf(value: string | undefined): PaymentRequired | undefined {
  if (value === undefined) return undefined;
  const decoded = decodeX402<PaymentRequired>(value, 'PAYMENT-REQUIRED');
  return decoded && typeof decoded === 'object' && Array.isArray(decoded.accepts) ? decoded : undefined;
}

/** A string field of an in-band event's JSON data. */
function jsonField(data: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(data) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
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
