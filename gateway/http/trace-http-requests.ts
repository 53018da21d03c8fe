import type { IncomingHttpHeaders } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-gateway');

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

const SPANS = new WeakMap<FastifyRequest, { span: Span; active: Context }>();

export type TraceHttpRequestsOptions = {
  /** The public code of a refused request (what the error handler answered), for the span's status. */
  codeOf(request: FastifyRequest): string | undefined;
};

/**
 * Makes every HTTP request a SERVER span, child of the caller's W3C `traceparent` header, named by method and route
 * pattern (never the raw URL: its query is the client's). Must be registered before any route and before the other
 * onRequest hooks, so their work and every handler run inside the span: fastify runs a handler from the body parser's
 * callback, outside any context set by a hook, so each route's handler is wrapped here to re-enter it.
 */
export function traceHttpRequests(app: FastifyInstance, options: TraceHttpRequestsOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const span = tracer().startSpan(`HTTP ${request.method}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'veil.request_id': request.id },
    }, propagation.extract(ROOT_CONTEXT, request.headers, headerGetter));
    SPANS.set(request, { span, active: trace.setSpan(context.active(), span) });
    // 'close' is the one event for a finished answer, a client gone mid-answer and a hijacked (SSE) reply alike.
    reply.raw.once('close', () => {
      const route = request.routeOptions.url;
      if (route) span.updateName(`HTTP ${request.method} ${route}`).setAttribute('http.route', route);
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      const code = options.codeOf(request);
      if (status >= 400 || !reply.raw.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: code ?? (reply.raw.writableFinished ? String(status) : 'cancelled') });
      if (code) span.setAttribute('veil.code', code);
      span.end();
    });
  });
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function traced(this: FastifyInstance, request, reply) {
      const traced = SPANS.get(request);
      return traced ? context.with(traced.active, () => handler.call(this, request, reply)) : handler.call(this, request, reply);
    } as RouteHandlerMethod;
  });
}
