import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AttestationClaims, AttestationEnvelope, VerifyEvidenceOptions } from '../../attestation';
import { MODEL_ID_PATTERN, type TeeOperation } from '../../tee';
import { closeHttpApp, writeWithBackpressure } from '../../proto';
import type { ChannelPayer, PaymentRoundsOptions } from '../payments';
import type { PriceTable } from '../../payments';
import { createHttpTeeTransport, isRelayedRefusal, type HttpTeeTransport, type TeeEvidenceVerifier, type TeeModelClient, type TeePolicy } from '../tee';
import { createIdempotencyCache, type IdempotencyEntry, type StoredAnswer } from './create-idempotency-cache';
import { createProxyModels, type ProxyAttestation } from './create-proxy-models';
import { ProxyError, toProxyError } from './to-proxy-error';

export type StartVeilProxyOptions = {
  /** The gateway's HTTP base URL (default `http://127.0.0.1:8080`). */
  gateway?: string;
  /** The gateway's API key (`veil keys create`); the app's own `authorization` header is never forwarded. */
  apiKey?: string;
  /** This proxy's attestation policy: measurements, debug, TCB, evidence age. */
  policy: TeePolicy;
  /** Accept SIMULATED nodes (development only: they prove nothing about hardware). Default false. */
  allowSimulated?: boolean;
  /** Trust anchors; SIMULATED evidence verifies only against `roots.simulated` (pinned keys, or `'self-signed'`). */
  roots?: VerifyEvidenceOptions['roots'];
  /** Models whose nodes are attested before the proxy listens (others: on first use). Start fails if one is refused. */
  models?: readonly string[];
  /** A further check after the off-chain verification (e.g. client/trust `requireEnclaveOnchain`); throws to refuse. */
  checkEnclave?: (envelope: AttestationEnvelope, claims: AttestationClaims) => Promise<void>;
  host?: string;
  /** Default 8787; 0 = any free port. */
  port?: number;
  /** Deadline of each upstream call, a whole stream included (default 10 min). */
  upstreamDeadlineMs?: number;
  /** Largest app request body (default 8 MiB). */
  bodyLimitBytes?: number;
  /** Idempotency-Key memory: how long, how many, how many bytes of answers. */
  idempotency?: { ttlMs?: number; maxEntries?: number; maxBytes?: number };
  maxFailovers?: number;
  now?: () => Date;
  verifyEvidence?: TeeEvidenceVerifier;
  /** The gateway transport (default: HTTP to `gateway`); tests inject one. */
  transport?: HttpTeeTransport;
  /**
   * Pays a paid gateway on the app's behalf (issue #11): every call and every stream window is paid from this channel,
   * each receipt checked; the payer's `maxSpend` is the proxy's budget (`veil proxy --max-spend`). Unpaid otherwise.
   */
  payer?: ChannelPayer;
  /** How the payer's rounds run (prepay, corrections, onSettled: told each receipt). */
  payment?: PaymentRoundsOptions;
  /** The prices the operator agreed to; every charge is checked against them (default: the gateway's table, pinned on first use). */
  prices?: PriceTable;
};

export type VeilProxy = {
  /** e.g. `http://127.0.0.1:8787`; point an OpenAI client's baseURL at `${url}/v1`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** What the proxy verified, per model attested so far. */
  attestations(): ProxyAttestation[];
  close(): Promise<void>;
};

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const OPERATIONS: Record<string, TeeOperation> = { '/v1/chat/completions': 'chat.completions', '/v1/embeddings': 'embeddings' };

/**
 * `veil proxy`: a local OpenAI-compatible server. For each model it attests the gateway's node under its own policy
 * (SIMULATED refused unless allowed; optionally checked on-chain), seals the app's request to that enclave, relays it
 * through the gateway's HTTP surface, verifies every receipt (each stream event in order, and the stream's signed
 * end), opens the answer and replies in OpenAI's shape — JSON, or SSE ending in `data: [DONE]` only after the signed
 * end; a stream that fails after its headers ends with an SSE `error` event, never a clean finish. The gateway sees
 * only model id, node id and sizes. Plaintext exists only here and in the enclave.
 * @example const proxy = await startVeilProxy({ policy, allowSimulated: true, roots: { simulated: 'self-signed' } });
 *          const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused' });
 */
export async function startVeilProxy(options: StartVeilProxyOptions): Promise<VeilProxy> {
  // The default deadline bounds what runs without a caller's (attesting a node); relays pass upstreamDeadlineMs.
  const own = options.transport ? undefined : createHttpTeeTransport({ baseUrl: options.gateway ?? 'http://127.0.0.1:8080', apiKey: options.apiKey, deadlineMs: 30_000, payer: options.payer, payment: options.payment, prices: options.prices });
  const router = options.transport ?? own!;
  const deadlineMs = options.upstreamDeadlineMs ?? 10 * 60_000;
  const models = createProxyModels({
    router, policy: options.policy, allowSimulated: options.allowSimulated, roots: options.roots, checkEnclave: options.checkEnclave,
    verifyEvidence: options.verifyEvidence, maxFailovers: options.maxFailovers, now: options.now,
  });
  const cache = createIdempotencyCache(options.idempotency);
  try {
    for (const model of options.models ?? []) await models.get(model);
  } catch (err) {
    models.close();
    own?.close();
    throw err;
  }

  // Loaded here, not at import: everything that imports client/ (veil verify, the SDK) would otherwise pay for fastify.
  const { fastify } = require('fastify') as typeof import('fastify');
  const app = fastify({ logger: false, bodyLimit: options.bodyLimitBytes ?? 8 * 1024 * 1024, genReqId: () => randomUUID() });
  // Keep the raw bytes: an Idempotency-Key is bound to exactly the body the app sent.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as FastifyRequest & { rawBody?: Buffer }).rawBody = body as Buffer;
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(new ProxyError('invalid_argument', 'the request body is not valid JSON', 400), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((err, _request, reply) => {
    const fastifyError = err as { statusCode?: number; code?: string; message: string };
    const e = !(err instanceof ProxyError) && typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_') && fastifyError.statusCode
      ? new ProxyError(fastifyError.statusCode === 413 ? 'message_too_large' : 'invalid_argument', fastifyError.message, fastifyError.statusCode)
      : err;
    const { status, body } = toProxyError(e);
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toProxyError(new ProxyError('unknown_url', `Unknown request URL: ${request.method} ${request.url.split('?')[0]}. veil proxy serves /v1/chat/completions, /v1/embeddings, /v1/models and /v1/attestation.`, 404));
    void reply.code(status).send(body);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Only what the proxy can serve: language models reachable in TEE mode.
  const servable = async () => (await router.listModels({ deadlineMs: 30_000 }))
    .filter((m) => (m.kind === 'chat' || m.kind === 'embedding') && (!Array.isArray(m.modes) || m.modes.includes('tee')));
  app.get('/v1/models', async () => ({ object: 'list', data: await servable() }));
  app.get('/v1/models/:model', async (request) => {
    const id = (request.params as { model: string }).model;
    const found = (await servable()).find((m) => m.id === id);
    if (!found) throw new ProxyError('model_not_found', `The model \`${id.slice(0, 64)}\` does not exist`, 404, 'model');
    return found;
  });

  app.get('/v1/attestation', async (request) => {
    const model = (request.query as Record<string, unknown>).model;
    if (model !== undefined) {
      if (typeof model !== 'string' || !MODEL_ID_PATTERN.test(model)) throw new ProxyError('invalid_argument', 'model must be a model id', 400, 'model');
      await models.get(model);
      return { object: 'list', data: models.attestations().filter((a) => a.model === model) };
    }
    return { object: 'list', data: models.attestations() };
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const operation = OPERATIONS[request.routeOptions.url ?? '']!;
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProxyError('invalid_argument', 'the request body must be a JSON object', 400);
    const model = (body as { model?: unknown }).model;
    if (model === undefined) throw new ProxyError('invalid_argument', 'you must provide a model parameter', 400, 'model');
    if (typeof model !== 'string') throw new ProxyError('invalid_argument', 'model must be a string', 400, 'model');
    if (!MODEL_ID_PATTERN.test(model)) throw new ProxyError('model_not_found', `The model \`${model.slice(0, 64)}\` does not exist`, 404, 'model');
    const streamFlag = (body as { stream?: unknown }).stream;
    if (streamFlag !== undefined && streamFlag !== null && typeof streamFlag !== 'boolean') throw new ProxyError('invalid_argument', 'stream must be a boolean', 400, 'stream');
    if (operation === 'embeddings' && streamFlag === true) throw new ProxyError('invalid_argument', 'embeddings do not stream', 400, 'stream');
    const stream = streamFlag === true;
    const keyHeader = request.headers['idempotency-key'];
    if (keyHeader !== undefined && (typeof keyHeader !== 'string' || !KEY_PATTERN.test(keyHeader))) {
      throw new ProxyError('invalid_argument', 'Idempotency-Key must be 1..255 printable ASCII characters', 400, 'Idempotency-Key');
    }

    // The app leaving cancels the upstream call (and the node's generation).
    const controller = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const callOptions = { signal: controller.signal, deadlineMs };
    const client = await models.get(model);

    if (keyHeader === undefined) {
      if (!stream) return (await client.call(operation, body, callOptions)).body;
      await sendStream(request, reply, client.stream(body, callOptions));
      return reply;
    }

    const raw = (request as FastifyRequest & { rawBody?: Buffer }).rawBody ?? Buffer.from(JSON.stringify(body));
    const bodyHash = createHash('sha256').update(`${operation}\0`).update(raw).digest('hex');
    const entry = cache.entry(keyHeader, bodyHash);
    if (entry === 'conflict') {
      throw new ProxyError('idempotency_key_reused', 'this Idempotency-Key was already used with a different request body', 409, 'Idempotency-Key');
    }
    // A concurrent duplicate waits for the first; if that one did not finish, this one retries with its sealed request.
    while (entry.running) await entry.running;
    if (entry.answer) return replay(request, reply, entry.answer);
    let release!: () => void;
    entry.running = new Promise<void>((resolve) => (release = resolve));
    try {
      const options = { ...callOptions, idempotency: entry.slot };
      if (!stream) {
        const result = await client.call(operation, body, options);
        store(entry, { kind: 'json', body: result.body });
        return result.body;
      }
      const chunks: object[] = [];
      const ok = await sendStream(request, reply, client.stream(body, options), chunks);
      if (ok) store(entry, { kind: 'stream', chunks });
      return reply;
    } finally {
      entry.running = undefined;
      release();
    }
  };

  const store = (entry: IdempotencyEntry, answer: { kind: 'json'; body: object } | { kind: 'stream'; chunks: object[] }) => {
    const bytes = Buffer.byteLength(JSON.stringify(answer.kind === 'json' ? answer.body : answer.chunks));
    cache.store(entry, { ...answer, bytes } as StoredAnswer);
  };

  const replay = async (request: FastifyRequest, reply: FastifyReply, answer: StoredAnswer) => {
    reply.header('x-veil-idempotent-replayed', 'true');
    if (answer.kind === 'json') return answer.body;
    const stored = answer.chunks;
    async function* chunks() {
      yield* stored;
    }
    await sendStream(request, reply, chunks());
    return reply;
  };

  /**
   * A node that cannot open what we sealed to its attested key (it restarted with new keys under the same id, or the
   * relay is not routing to it): this model's binding is stale, so the next request attests afresh.
   */
  const guarded = async (request: FastifyRequest, reply: FastifyReply) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await handle(request, reply);
      } catch (err) {
        const model = (request.body as { model?: unknown } | null)?.model;
        if ((err as { code?: unknown })?.code !== 'tee_decrypt_failed' || !isRelayedRefusal(err) || typeof model !== 'string' || reply.sent) throw err;
        models.forget(model);
        // The node never opened the request, so sealing it again to freshly attested keys cannot run it twice.
        if (attempt > 0) throw err;
      }
    }
  };
  app.post('/v1/chat/completions', guarded);
  app.post('/v1/embeddings', guarded);

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8787 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    attestations: () => models.attestations(),
    async close() {
      await closeHttpApp(app);
      models.close();
      own?.close();
    },
  };
}

/**
 * Writes chunks as OpenAI SSE. The first chunk is awaited before any header is sent, so a refusal before generation
 * (bad parameter, context too long, attestation) is a plain HTTP error the SDK raises as such. After the headers, a
 * failure is an SSE `error` event (the SDK throws it) and the response ends without `[DONE]`.
 * @returns whether the stream finished with its verified end
 */
async function sendStream(request: FastifyRequest, reply: FastifyReply, source: AsyncIterable<object>, collect?: object[]): Promise<boolean> {
  const iterator = source[Symbol.asyncIterator]();
  let first: IteratorResult<object>;
  try {
    first = await iterator.next();
  } catch (err) {
    await iterator.return?.().catch(() => undefined);
    throw err;
  }
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
    ...(reply.getHeader('x-veil-idempotent-replayed') ? { 'x-veil-idempotent-replayed': 'true' } : {}),
  });
  // No flushHeaders(): the first chunk is in hand, so the headers leave in the same write as it (one syscall and one
  // wake-up of the app fewer per stream; the time to first token is the same).
  const write = async (text: string) => {
    if (!(await writeWithBackpressure(raw, text))) throw new ProxyError('cancelled', 'the client went away', 499);
  };
  try {
    for (let step = first; !step.done; step = await iterator.next()) {
      collect?.push(step.value);
      await write(`data: ${JSON.stringify(step.value)}\n\n`);
    }
    await write('data: [DONE]\n\n');
    raw.end();
    return true;
  } catch (err) {
    await iterator.return?.().catch(() => undefined);
    if (!raw.destroyed && !raw.writableEnded) {
      raw.write(`event: error\ndata: ${JSON.stringify(toProxyError(err).body)}\n\n`);
      raw.end();
    }
    return false;
  }
}
