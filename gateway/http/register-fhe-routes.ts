import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_FHE_VARIANT } from '../../fhe';
import type { SessionHeader } from '../../proto';
import type { RpcScope } from '../auth';
import { toVeilError, VeilError } from '../errors';
import { fheSpecOf, type FheHandlers } from '../grpc';
import type { CallContext } from '../grpc/call-context';
import type { ServedFheModel } from '../models/load-fhe-models';
import { keyUploadMessages } from './key-upload-messages';
import { answerFormOf, decodePredictBody, encodePredictAnswer, predictFormOf } from './predict-body';
import { readLimitedBody } from './read-limited-body';

export type RegisterFheRoutesDependencies = {
  /** The same handlers the gRPC Fhe service wraps (createFheHandlers): one implementation of every FHE rule. */
  handlers: FheHandlers;
  models: ReadonlyMap<string, ServedFheModel>;
  /** The request's id, cancellation, deadline, principal and peer, as the app's HTTP core derives them. */
  contextOf(request: FastifyRequest): CallContext;
  /**
   * The API-key scope check (the HTTP core's `authorize`, the same guard as gRPC; absent when auth is off), called
   * where gRPC calls it: with the model for the spec and a key upload, mode only for predict and close.
   */
  authorize?(request: FastifyRequest, scope: RpcScope, modelParam?: string): void;
  /**
   * Largest predict body, either form (default: the app's `bodyLimit`). Base64 JSON is 4/3 the binary size, so a
   * batch that fits as binary may not as JSON. Key uploads are bounded by `fhe.maxSessionKeyBytes` in createSession,
   * never by a body limit.
   */
  maxPredictBytes?: number;
};

/** HTTP headers of a key upload, and the CreateSession header field each one fills. */
export const KEY_UPLOAD_HEADERS = {
  model: 'x-veil-model',
  variant: 'x-veil-fhe-variant',
  specSha256: 'x-veil-spec-sha256',
  galoisKeysBytes: 'x-veil-galois-keys-bytes',
  relinKeysBytes: 'x-veil-relin-keys-bytes',
} as const;

/** A refusal's `param` as the HTTP client knows the field (the handlers name CreateSession's proto fields). */
const UPLOAD_PARAMS: Record<string, string> = {
  model_id: KEY_UPLOAD_HEADERS.model,
  variant: KEY_UPLOAD_HEADERS.variant,
  'header.spec_sha256': KEY_UPLOAD_HEADERS.specSha256,
  'header.galois_keys_bytes': KEY_UPLOAD_HEADERS.galoisKeysBytes,
  'header.relin_keys_bytes': KEY_UPLOAD_HEADERS.relinKeysBytes,
  header: `${KEY_UPLOAD_HEADERS.galoisKeysBytes}, ${KEY_UPLOAD_HEADERS.relinKeysBytes}`,
  chunk: 'body',
  'chunk.data': 'body',
  'chunk.kind': 'body',
};
const SPEC_PARAMS: Record<string, string> = { model_id: 'model' };

/**
 * FHE mode over plain HTTP (gateway/http/FHE-HTTP.md): the spec, a streamed key upload, predictions in binary or
 * base64 JSON, and close — each a thin translation onto the gRPC path's own handlers, so sizes, upload slots,
 * timeouts, session ownership by principal and cancellation follow one implementation. Errors are thrown as
 * VeilError for the app's error handler. The routes live in their own encapsulated context: every body reaches them
 * as its raw stream (fastify's body limit never sees key uploads; predict bodies are read under `maxPredictBytes`).
 */
export function registerFheRoutes(app: FastifyInstance, deps: RegisterFheRoutesDependencies): void {
  const { handlers, models, contextOf } = deps;
  const authorize = (request: FastifyRequest, scope: RpcScope, modelParam?: string) => deps.authorize?.(request, scope, modelParam);
  const maxPredictBytes = deps.maxPredictBytes ?? app.initialConfig.bodyLimit ?? 1024 * 1024;

  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.get('/v1/fhe/models', async () => ({
      object: 'list',
      data: [...models.values()].map((m) => {
        const { spec } = m.primary.plan;
        return {
          id: m.id, object: 'fhe.model', description: m.description, variants: [...m.variants.keys()],
          input_size: spec.inputSize, output_size: spec.outputSize, postprocess: spec.postprocess,
        };
      }),
    }));

    scope.get<{ Params: { model: string }; Querystring: { variant?: string | string[] } }>('/v1/fhe/models/:model/spec', async (request, reply) => {
      authorize(request, { mode: 'fhe', model: request.params.model }, 'model');
      const { variant = '' } = request.query;
      // A repeated ?variant= is one (unknown) variant, refused with the served ones listed.
      const asked = Array.isArray(variant) ? variant.join(',') : variant;
      const spec = await renamed(SPEC_PARAMS, () => fheSpecOf(models, { modelId: request.params.model, variant: asked }));
      // The body is the spec exactly as hashed, so a client can check it against x-veil-spec-sha256.
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('x-veil-spec-sha256', spec.specSha256)
        .header('x-veil-fhe-variant', spec.variant)
        .header('etag', `"${spec.specSha256}"`)
        .send(spec.specJson);
    });

    scope.post('/v1/fhe/sessions', async (request, reply) => answering(request, reply, async () => {
      const header = uploadHeader(request);
      authorize(request, { mode: 'fhe', model: header.modelId }, KEY_UPLOAD_HEADERS.model);
      const body = request.body as Readable | undefined;
      if (body && mediaType(request.headers['content-type']) !== 'application/octet-stream') {
        throw new VeilError('invalid_argument', 'a key upload\'s content-type is application/octet-stream: the Galois keys, then the relinearisation keys', { param: 'content-type' });
      }
      const declared = header.galoisKeysBytes + header.relinKeysBytes;
      const length = request.headers['content-length'];
      if (length !== undefined && Number(length) !== declared) {
        throw new VeilError('invalid_argument', `content-length ${truncate(length)} is not ${KEY_UPLOAD_HEADERS.galoisKeysBytes} + ${KEY_UPLOAD_HEADERS.relinKeysBytes} = ${declared}`, { param: 'content-length' });
      }
      const created = await renamed(UPLOAD_PARAMS, () => handlers.createSession(keyUploadMessages(body, header), contextOf(request)));
      return reply.send({
        id: created.sessionId, object: 'fhe.session', model: header.modelId, variant: header.variant || DEFAULT_FHE_VARIANT,
        bytes_received: created.bytesReceived, ttl_seconds: created.ttlSeconds,
      });
    }));

    scope.post<{ Params: { id: string } }>('/v1/fhe/sessions/:id/predict', async (request, reply) => answering(request, reply, async () => {
      authorize(request, { mode: 'fhe' });
      const form = predictFormOf(request.headers['content-type']);
      const answer = answerFormOf(request.headers.accept, form);
      const context = contextOf(request);
      const body = await readLimitedBody(request.body as Readable | undefined, request.headers['content-length'], maxPredictBytes, context.signal);
      const groups = decodePredictBody(form, body);
      const response = await handlers.predict({ sessionId: request.params.id, groups }, context);
      const encoded = encodePredictAnswer(answer, response);
      // A paid prediction's receipt (x402 PAYMENT-RESPONSE), committed to the ledger before this answer leaves.
      if (context.payment.response) void reply.header('payment-response', context.payment.response);
      return reply.header('content-type', encoded.contentType).header('x-veil-eval-micros', String(response.evalMicros)).send(encoded.body);
    }));

    scope.delete<{ Params: { id: string } }>('/v1/fhe/sessions/:id', async (request, reply) => {
      authorize(request, { mode: 'fhe' });
      await handlers.closeSession({ sessionId: request.params.id }, contextOf(request));
      return reply.send({ id: request.params.id, object: 'fhe.session', deleted: true });
    });
  });
}

/** The CreateSession header from the upload's HTTP headers; sizes are decimal byte counts (absent = 0). */
function uploadHeader(request: FastifyRequest): SessionHeader {
  const text = (name: string): string => {
    const value = request.headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? '';
  };
  const size = (name: string): number => {
    const value = text(name);
    if (value === '') return 0;
    if (!/^\d{1,15}$/.test(value)) throw new VeilError('invalid_argument', `${name} must be a byte count (a non-negative decimal integer)`, { param: name });
    return Number(value);
  };
  return {
    modelId: text(KEY_UPLOAD_HEADERS.model),
    variant: text(KEY_UPLOAD_HEADERS.variant),
    specSha256: text(KEY_UPLOAD_HEADERS.specSha256),
    galoisKeysBytes: size(KEY_UPLOAD_HEADERS.galoisKeysBytes),
    relinKeysBytes: size(KEY_UPLOAD_HEADERS.relinKeysBytes),
  };
}

/**
 * Runs a route whose body is a stream. A refusal before the whole body arrived closes the connection after the
 * answer: the rest of the body is never read, and the connection cannot be reused for the next request.
 */
async function answering(request: FastifyRequest, reply: FastifyReply, run: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await run();
  } catch (err) {
    if (!request.raw.complete) reply.header('connection', 'close');
    throw err;
  }
}

/** Runs `run`, giving a refusal's `param` its HTTP name; everything else about the error is the handler's. */
async function renamed<T>(params: Record<string, string>, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = toVeilError(err);
    const param = e.param === undefined ? undefined : params[e.param];
    if (param === undefined) throw e;
    throw new VeilError(e.code, e.message, { param, details: e.details, cause: e });
  }
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function truncate(value: string): string {
  return value.length > 32 ? `${value.slice(0, 29)}...` : value;
}
