import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { closeHttpApp, createTlsFileProvider, type TlsFileProvider } from '../../proto';
import type { CallGuard } from '../auth';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import type { ServedFheModel } from '../models/load-fhe-models';
import { recordRpc } from '../telemetry/rpc-metrics';
import { errorAnswer } from './error-answer';
import { attachCallContext, contextOf, type HttpDeadlines } from './http-call-context';
import type { HttpRouteTools } from './http-route-tools';
import type { HttpTeeRouter } from './http-tee-router';
import { createIdempotencyStore, type IdempotencyStore } from './idempotency-store';
import { registerHealthRoutes } from './register-health-routes';
import { registerModelRoutes } from './register-model-routes';
import type { GatewayPayments, PricingInfo } from '../payments';
import { registerPricingRoutes } from './register-pricing-routes';
import { registerTeeRoutes, SEALED_CONTENT_TYPE } from './register-tee-routes';
import { toHttpVeilError } from './to-http-veil-error';
import { traceHttpRequests } from './trace-http-requests';

export type CreateHttpServerOptions = {
  host: string;
  port: number;
  bodyLimitBytes: number;
  deadlines: HttpDeadlines;
  logger: Logger;
  /** API-key authentication for every /v1 route (auth.mode = api-keys); /healthz and /readyz stay open. */
  guard?: CallGuard;
  /** HTTPS with this certificate chain and key (PEM files), re-read when they change; plain HTTP without. */
  tls?: { certFile: string; keyFile: string; reloadMs?: number };
  onTlsReload?: (event: { accepted: boolean; reason?: string; fingerprint256?: string }) => void;
  fheModels: ReadonlyMap<string, ServedFheModel>;
  /** TEE mode's router (absent when tee.enabled is false: the TEE routes answer 404 route_not_found). */
  tee?: HttpTeeRouter;
  idempotency: { ttlMs: number; maxEntries: number; maxBytes: number };
  /** `GET /v1/pricing` (issue #11): the price table and where to pay. */
  pricing?: PricingInfo;
  /** Billing of the TEE relay routes (issue #11), when payments are on. */
  payments?: GatewayPayments;
  /**
   * FHE over HTTP, registered by its own module with the server's tools. TODO(merge): create-gateway passes
   * `(app, tools) => registerFheRoutes(app, { handlers, ...tools })` from gateway/http/register-fhe-routes.ts.
   */
  registerFheRoutes?: (app: FastifyInstance, tools: HttpRouteTools & { idempotency: IdempotencyStore }) => void;
  now?: () => number;
};

export type HttpServer = {
  app: FastifyInstance;
  /** `http(s)://host:port` actually bound (port resolved when 0 was asked). */
  url: string;
  /** The TLS certificate source (undefined for plain HTTP). */
  tls: TlsFileProvider | undefined;
  idempotency: IdempotencyStore;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then closes what is left (open streams). */
  close(graceMs?: number): Promise<void>;
};

/** Paths open without an API key: probes must work for load balancers that hold none. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/**
 * The gateway's HTTP surface (fastify), beside gRPC: one call context per request (`contextOf`), the same API-key
 * guard and principal as gRPC, one error handler that encodes everything — route errors and fastify's own (bad JSON,
 * body too large, wrong content-type, unknown route) — as the OpenAI error object via the one registry, and
 * `x-request-id` on every response. Bodies are never logged: a request's log line has method, route pattern, status,
 * code, principal and timing.
 */
export async function createHttpServer(options: CreateHttpServerOptions): Promise<HttpServer> {
  const { logger, guard } = options;
  const now = options.now ?? Date.now;
  // A bad certificate or key stops startup here, naming the file; later changes are checked before they are served.
  const tls = options.tls
    ? createTlsFileProvider({ certFile: options.tls.certFile, keyFile: options.tls.keyFile }, { reloadMs: options.tls.reloadMs, onReload: options.onTlsReload })
    : undefined;
  try {
    return await build(options, tls, now, logger, guard);
  } catch (err) {
    tls?.close();
    throw err;
  }
}

async function build(options: CreateHttpServerOptions, tls: TlsFileProvider | undefined, now: () => number, logger: Logger, guard: CallGuard | undefined): Promise<HttpServer> {
  let secureServer: https.Server | undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: false,
    // fastify's own 503 while closing is neither an OpenAI error nor has x-request-id: the onRequest hook answers instead.
    return503OnClosing: false,
    // Time to receive a whole request (Node's own default): a slow-loris client cannot hold a connection forever.
    requestTimeout: 300_000,
    // A URL fastify cannot decode never reaches the hooks or the error handler: answered here, in the same shape.
    frameworkErrors: (err, request, reply) => {
      const answer = errorAnswer(toHttpVeilError(err, { bodyLimitBytes: options.bodyLimitBytes, sealedRoute: false }));
      void (reply as unknown as FastifyReply).code(answer.status).headers({ ...answer.headers, 'x-request-id': request.id }).send(answer.body);
    },
    // Bytes that are not HTTP at all (Node's parser refuses them before there is a request): still an OpenAI error.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const code = (err as NodeJS.ErrnoException).code;
      const tooLarge = code === 'HPE_HEADER_OVERFLOW';
      const answer = errorAnswer(tooLarge
        ? new VeilError('message_too_large', 'the request headers are too large')
        : new VeilError('invalid_argument', 'the bytes received are not a valid HTTP/1.1 request'));
      const head = [`HTTP/1.1 ${answer.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}`, `x-request-id: ${randomUUID()}`, 'connection: close',
        ...Object.entries(answer.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${answer.body.byteLength}`];
      socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), answer.body]));
    },
    // The HTTPS server is built here so its secure context can be replaced when the TLS files rotate.
    serverFactory: tls
      ? (handler) => (secureServer = https.createServer(handler)) as unknown as http.Server
      : undefined,
  });
  if (secureServer && tls) await useCertificates(secureServer, tls);

  /** The public code of each refused request, for its metrics and log line. */
  const errorCodes = new WeakMap<FastifyRequest, string>();
  const idempotency = createIdempotencyStore({ ...options.idempotency, now });
  const tools: HttpRouteTools = {
    contextOf,
    authorize(request, scope, modelParam = 'model') {
      if (!guard) return;
      try {
        guard.authorize(contextOf(request).principal!, scope);
      } catch (err) {
        // The guard names the gRPC field; over HTTP the model arrived under another name.
        if (err instanceof VeilError && err.param === 'model_id') throw new VeilError(err.code, err.message, { param: modelParam });
        throw err;
      }
    },
  };

  // First: every other hook and every route runs inside the request's span.
  traceHttpRequests(app, { codeOf: (request) => errorCodes.get(request) });
  let closing = false;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const context = attachCallContext(request, reply, options.deadlines, now);
    // A request that arrives on an open keep-alive connection while the server drains: refused, retryable elsewhere.
    if (closing) {
      reply.header('connection', 'close');
      throw new VeilError('unavailable', 'the gateway is shutting down; retry with backoff');
    }
    if (guard && !OPEN_PATHS.has(pathOf(request))) context.principal = guard.admit(request.headers.authorization);
  });
  app.addContentTypeParser(SEALED_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setNotFoundHandler(async (request) => {
    const path = pathOf(request);
    throw new VeilError('route_not_found', `no endpoint ${request.method} ${path.length > 100 ? `${path.slice(0, 97)}...` : path}`);
  });
  app.setErrorHandler(async (err, request, reply) => {
    const sealedRoute = (request.routeOptions.config as { sealed?: boolean } | undefined)?.sealed === true;
    const error = toHttpVeilError(err, { bodyLimitBytes: options.bodyLimitBytes, sealedRoute });
    const answer = errorAnswer(error);
    errorCodes.set(request, error.code);
    if (error.code === 'internal') {
      const cause = error.cause;
      logger.error('http request failed', { ...requestFields(request), code: error.code, cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
    }
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  app.addHook('onResponse', async (request, reply) => {
    const ms = Math.round(reply.elapsedTime * 100) / 100;
    const status = reply.statusCode;
    const code = status < 400 ? 'ok' : errorCodes.get(request) ?? String(status);
    recordRpc(`HTTP ${request.method} ${request.routeOptions.url ?? 'unknown'}`, code, ms);
    logger[status >= 500 ? 'info' : 'debug'](status < 400 ? 'http ok' : 'http refused', { ...requestFields(request), status, code, ms });
  });

  registerHealthRoutes(app, {
    listening: () => app.server.listening,
    servableModels: () => new Set([...options.fheModels.keys(), ...(options.tee?.models() ?? []).map((m) => m.id)]).size,
  });
  registerModelRoutes(app, { fheModels: options.fheModels, teeModels: () => options.tee?.models() ?? [], createdSeconds: Math.floor(now() / 1000) });
  if (options.pricing) registerPricingRoutes(app, options.pricing);
  if (options.tee) registerTeeRoutes(app, { ...tools, router: options.tee, idempotency, bodyLimitBytes: options.bodyLimitBytes, logger, payments: options.payments });
  options.registerFheRoutes?.(app, { ...tools, idempotency });

  await app.listen({ host: options.host, port: options.port }).catch((err: Error) => {
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${err.message}`);
  });
  const { port } = app.server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closingDone: Promise<void> | undefined;
  return {
    app,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    tls,
    idempotency,
    close(graceMs = 5_000) {
      closingDone ??= (async () => {
        closing = true;
        try {
          await closeHttpApp(app, graceMs);
        } finally {
          tls?.close();
        }
      })();
      return closingDone;
    },
  };
}

/**
 * Serves the provider's certificate and key, and every valid rotation of them: new connections get the new pair,
 * open ones keep theirs. Resolves once the first pair is in place, so nothing is accepted without one.
 */
function useCertificates(server: https.Server, tls: TlsFileProvider): Promise<void> {
  return new Promise((resolve) => {
    tls.addIdentityCertificateListener((update) => {
      if (update) server.setSecureContext({ cert: update.certificate, key: update.privateKey });
      resolve();
    });
  });
}

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Routing metadata only: the route pattern (never the raw URL with its query), ids and the caller. */
function requestFields(request: FastifyRequest): Record<string, string | undefined> {
  let principal: string | undefined;
  try {
    principal = contextOf(request).principal;
  } catch {
    principal = undefined;
  }
  return { method: request.method, route: request.routeOptions.url ?? 'unknown', requestId: request.id, principal };
}

