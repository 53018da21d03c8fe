import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VeilError } from '../errors';
import { callerKey } from '../grpc/call-context';
import type { Logger } from '../logger';
import {
  chargeCall, createStreamCredit, DEFAULT_STREAM_PAUSE_MS, DEFAULT_STREAM_WINDOW_TOKENS, teeActualUsage, teeCeilingUsage, teeSignedUsage, teeStreamWindowUsage,
  type GatewayPayments, type StreamCredit, type TeeModelFacts,
} from '../payments';
import { answerOnce } from './answer-once';
import type { SseStream } from './answer-writer';
import { sseErrorEvent } from './error-answer';
import { contextOf, type HttpCallContext } from './http-call-context';
import type { HttpTeeRouter, HttpTeeStreamEvent } from './http-tee-router';
import type { IdempotencyStore } from './idempotency-store';
import type { HttpRouteTools } from './http-route-tools';
import { toHttpVeilError } from './to-http-veil-error';

/** The content-type of sealed request and response bodies (`veil-tee-v1` frames, raw bytes). */
export const SEALED_CONTENT_TYPE = 'application/vnd.veil.sealed';

export type RegisterTeeRoutesOptions = HttpRouteTools & {
  router: HttpTeeRouter;
  idempotency: IdempotencyStore;
  bodyLimitBytes: number;
  logger: Logger;
  /** Billing (issue #11): TEE calls are charged what their node signed; streams run on a credit window. */
  payments?: GatewayPayments;
};

/** Where a paused paid stream's top-up voucher is posted (`{id}` = the `x-veil-stream-id` the stream answered). */
export const STREAM_PAYMENT_PATH = '/v1/streams/:id/payment';

type Operation = 'chat.completions' | 'embeddings';

/**
 * The sealed TEE routes: `GET /v1/attestation` (a routed node's evidence for the client's nonce) and the relays
 * `POST /v1/chat/completions` and `POST /v1/embeddings`. The gateway routes on cleartext headers only
 * (`x-veil-model`, `x-veil-node`, `x-veil-stream`) and forwards the body — a frame sealed to the attested node — without
 * opening it; a plain OpenAI JSON body is refused with `sealed_request_required`, naming `veil proxy`.
 */
export function registerTeeRoutes(app: FastifyInstance, options: RegisterTeeRoutesOptions): void {
  const { router, logger } = options;
  /** Paid streams now open on this gateway, by the id their top-ups name. */
  const streams = new Map<string, PaidStream>();

  app.get('/v1/attestation', async (request) => {
    const context = contextOf(request);
    const query = request.query as Record<string, unknown>;
    const model = singleText(query.model, 'model');
    const nonceHex = singleText(query.nonce, 'nonce');
    if (!/^(?:[0-9a-fA-F]{2}){1,1024}$/.test(nonceHex)) {
      throw new VeilError('invalid_argument', 'nonce must be 1..1024 bytes in hex (32 random bytes recommended)', { param: 'nonce' });
    }
    const exclude = query.exclude === undefined ? [] : singleText(query.exclude, 'exclude').split(',').filter(Boolean);
    if (exclude.length > 64) throw new VeilError('invalid_argument', 'exclude may name at most 64 nodes', { param: 'exclude' });
    options.authorize(request, { mode: 'tee', model });
    const routed = await renamed(router.getEvidence(
      { modelId: model, nonce: new Uint8Array(Buffer.from(nonceHex, 'hex')), excludeNodeIds: exclude },
      { signal: context.signal, deadline: context.deadline, caller: callerKey(context) },
    ), { model_id: 'model' });
    const { evidence } = routed;
    const identity = evidence.identity;
    const models = evidence.models ?? [];
    return {
      node_id: routed.nodeId,
      evidence: {
        envelope_json: evidence.envelopeJson,
        identity: identity
          ? { hpke_public_key: Buffer.from(identity.hpkePublicKey).toString('hex'), signing_address: identity.signingAddress, hpke_suite: identity.hpkeSuite, protocol: identity.protocol }
          : null,
        platform: evidence.platform,
        model_ids: evidence.modelIds,
        max_message_bytes: Number(evidence.maxMessageBytes ?? 0),
        models: models.map((m) => ({ id: m.id, kind: m.kind, context_length: m.contextLength })),
      },
    };
  });

  const relay = (operation: Operation) => async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
    const context = contextOf(request);
    const body = request.body;
    if (!Buffer.isBuffer(body) || !isSealed(request)) throw new VeilError('sealed_request_required');
    if (body.byteLength === 0) throw new VeilError('invalid_argument', 'the sealed request body is empty', { param: 'body' });
    const modelId = headerText(request, 'x-veil-model');
    const nodeId = headerText(request, 'x-veil-node');
    const stream = streamFlag(request, operation);
    options.authorize(request, { mode: 'tee', model: modelId }, 'x-veil-model');
    const params = { nodeId, modelId, sealedRequest: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    const teeContext = { signal: context.signal, deadline: context.deadline, caller: callerKey(context) };
    const started = performance.now();
    const payments = options.payments;
    const facts = payments ? router.models().find((m) => m.id === modelId) : undefined; // only a billed call needs it
    const resource = `tee:${modelId}`;
    await answerOnce({
      request, reply, context, store: options.idempotency, body, bodyLimitBytes: options.bodyLimitBytes,
      identity: [request.method, operation, modelId, nodeId, stream ? 'stream' : 'unary'],
      async run(writer) {
        if (!stream) {
          // Paid (issue #11): admitted before the relay, charged what the node signed, committed before the answer leaves.
          const response = await chargeCall(payments, context, { resource, modelId, ceilingUsage: teeCeilingUsage(facts, body.byteLength) }, async () => {
            const value = await renamed(router.infer(params, teeContext), RELAY_PARAMS);
            return { value, usage: teeActualUsage(value.usage), signed: teeSignedUsage(value.usage, 0) };
          });
          writer.send({
            status: 200,
            headers: {
              'content-type': SEALED_CONTENT_TYPE,
              'x-veil-signature': response.signature,
              'x-veil-signing-address': response.signingAddress,
              'x-veil-node-micros': String(response.nodeMicros),
              'x-veil-compute-micros': String(response.computeMicros),
              ...(context.payment.response ? { 'payment-response': context.payment.response } : {}),
            },
            body: Buffer.from(response.sealedResponse.buffer, response.sealedResponse.byteOffset, response.sealedResponse.byteLength),
          });
          logger.debug('tee relayed', { requestId: context.requestId, operation, model: modelId, node: nodeId, requestBytes: body.byteLength, responseBytes: response.sealedResponse.byteLength, ms: elapsed(started) });
          return;
        }
        const paid = payments ? openPaidStream(payments, streams, { resource, modelId, facts, context }) : undefined;
        // An unpaid stream is answered "payment required" before the node sees it, like any call.
        if (paid) await paid.credit.open(context.payment.signature);
        let events = 0;
        try {
          const headers: Record<string, string> = paid ? { 'x-veil-stream-id': paid.id } : {};
          events = await relayStream(router.inferStream(params, teeContext), context, (h) => (paid?.bind(writer.openStream({ ...h, ...headers })) ?? writer.openStream({ ...h, ...headers })), paid?.credit);
        } finally {
          await paid?.close();
        }
        logger.debug('tee stream relayed', { requestId: context.requestId, operation, model: modelId, node: nodeId, requestBytes: body.byteLength, events, ms: elapsed(started) });
      },
    });
  };
  app.post('/v1/chat/completions', { config: { sealed: true } }, relay('chat.completions'));
  app.post('/v1/embeddings', { config: { sealed: true } }, relay('embeddings'));

  // A paused paid stream's top-up: the voucher in PAYMENT-SIGNATURE, checked like any payment; only the stream's caller.
  app.post<{ Params: { id: string } }>(STREAM_PAYMENT_PATH, async (request) => {
    const context = contextOf(request);
    options.authorize(request, { mode: 'tee' });
    const open = streams.get(request.params.id);
    if (!open || open.caller !== callerKey(context)) throw new VeilError('stream_not_found');
    await open.credit.topUp(context.payment.signature);
    return { object: 'stream.payment', stream_id: request.params.id, accepted: true };
  });
}

type PaidStream = { caller: string; credit: StreamCredit };

/**
 * A paid stream's account and its entry in the streams a top-up can reach. The in-band events (payment-required,
 * payment-response) are written into the stream's SSE once it is open; before that a refusal is a plain 402.
 */
function openPaidStream(
  payments: GatewayPayments,
  streams: Map<string, PaidStream>,
  { resource, modelId, facts, context }: { resource: string; modelId: string; facts: TeeModelFacts | undefined; context: HttpCallContext },
) {
  const id = randomBytes(16).toString('hex');
  let sse: SseStream | undefined;
  const write = async (event: string) => {
    if (sse) await sse.write(event);
  };
  const windowTokens = payments.stream?.windowTokens ?? DEFAULT_STREAM_WINDOW_TOKENS;
  const credit = createStreamCredit({
    payments, context, resource, modelId, requestId: `req:${context.requestId}`,
    firstWindow: teeStreamWindowUsage(facts, windowTokens), windowTokens, pauseMs: payments.stream?.pauseMs ?? DEFAULT_STREAM_PAUSE_MS,
    signal: context.signal,
    onPaymentRequired: (required) => write(`event: payment-required\ndata: ${JSON.stringify({ stream_id: id, payment_required: required })}\n\n`),
    onSettled: (response) => write(`event: payment-response\ndata: ${JSON.stringify({ stream_id: id, payment_response: response })}\n\n`),
  });
  streams.set(id, { caller: callerKey(context), credit });
  return {
    id,
    credit,
    bind(stream: SseStream): SseStream {
      sse = stream;
      return stream;
    },
    async close() {
      streams.delete(id);
      // Whatever ended the stream (done, failed, client gone), it is charged what was delivered.
      await credit.finish();
    },
  };
}

const RELAY_PARAMS = { model_id: 'x-veil-model', sealed_request: 'body', node_id: 'x-veil-node' } as const;

/**
 * Relays a node's sealed event stream as SSE. The headers are sent only once the node produced its first event, so a
 * refusal before it (bad parameter, context too long) is a plain HTTP error. After that every failure — the node
 * going away, a deadline, an event stream that ends without the node's signed last event — ends the SSE with an
 * `event: error`, never a clean end that would read as a complete answer. Returning (or the client leaving) closes
 * the node stream, which cancels the node's generation.
 */
async function relayStream(events: AsyncIterable<HttpTeeStreamEvent>, context: HttpCallContext, open: (headers: Record<string, string>) => SseStream, credit?: StreamCredit): Promise<number> {
  const iterator = events[Symbol.asyncIterator]();
  let count = 0;
  try {
    let next = await renamed(iterator.next(), RELAY_PARAMS);
    const sse = open({});
    let signed = false;
    try {
      for (; !next.done; next = await iterator.next()) {
        if (context.signal.aborted) throw context.signal.reason;
        signed = Boolean(next.value.signature);
        // Paid: each event is relayed only once the credit covers the node's signed counts through it (maybe after a
        // pause for a top-up); the last one only after the stream's charge is committed.
        const usage = teeActualUsage(next.value.usage);
        const statement = teeSignedUsage(next.value.usage, count + 1);
        await credit?.cover(usage);
        if (signed && credit) {
          credit.delivered(usage, statement);
          await credit.finish();
        }
        await sse.write(sealedEvent(next.value));
        credit?.delivered(usage, statement);
        count++;
        if (context.signal.aborted) throw context.signal.reason;
      }
      if (!signed) throw new VeilError('tee_stream_truncated');
      sse.end(true);
    } catch (err) {
      const error = toHttpVeilError(err, { bodyLimitBytes: 0, sealedRoute: true });
      await sse.write(sseErrorEvent(error));
      sse.end(false);
    }
  } finally {
    // Closing the node stream cancels it; a failure to close cannot change an answer already written.
    await iterator.return?.().catch(() => undefined);
  }
  return count;
}

/** One node event as SSE: `event: sealed`, data `{"e": base64}`; the signed last event also carries its receipt. */
function sealedEvent(event: HttpTeeStreamEvent): string {
  const e = Buffer.from(event.sealedEvent.buffer, event.sealedEvent.byteOffset, event.sealedEvent.byteLength).toString('base64');
  const data = event.signature
    ? { e, signature: event.signature, signing_address: event.signingAddress ?? '', node_micros: Number(event.nodeMicros ?? 0), compute_micros: Number(event.computeMicros ?? 0) }
    : { e };
  return `event: sealed\ndata: ${JSON.stringify(data)}\n\n`;
}

function isSealed(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0]!.trim().toLowerCase() === SEALED_CONTENT_TYPE;
}

/** A routing header: present once, 1..256 visible characters. */
function headerText(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  if (typeof value !== 'string' || value.length === 0) throw new VeilError('invalid_argument', `the ${name} header is required`, { param: name });
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) throw new VeilError('invalid_argument', `the ${name} header must be 1..256 visible ASCII characters`, { param: name });
  return value;
}

function streamFlag(request: FastifyRequest, operation: Operation): boolean {
  const value = request.headers['x-veil-stream'];
  if (value === undefined || value === '0') return false;
  if (value !== '1') throw new VeilError('invalid_argument', 'x-veil-stream must be "1" or "0"', { param: 'x-veil-stream' });
  if (operation !== 'chat.completions') throw new VeilError('invalid_argument', 'only chat completions stream', { param: 'x-veil-stream' });
  return true;
}

function singleText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new VeilError('invalid_argument', `the ${name} query parameter is required (once)`, { param: name });
  if (value.length > 2048) throw new VeilError('invalid_argument', `the ${name} query parameter is too long`, { param: name });
  return value;
}

/**
 * The router names gRPC fields (`model_id`, `sealed_request`); over HTTP the same values arrive as other names, and
 * `param` must name what the HTTP client sent.
 */
async function renamed<T>(work: Promise<T>, names: Readonly<Record<string, string>>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof VeilError && err.param !== undefined && Object.hasOwn(names, err.param)) {
      throw new VeilError(err.code, err.message, { param: names[err.param], details: err.details, cause: err.cause });
    }
    throw err;
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
