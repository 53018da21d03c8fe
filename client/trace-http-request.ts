import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-client');

/**
 * Runs one HTTP request to the gateway as a CLIENT span (child of the app's active span) and sends its W3C trace
 * context in the request headers — through the OpenTelemetry API only, so an app that installs no tracer gets neither
 * a span nor a `traceparent`. The span carries the method, the route path and the status: never a body or a query.
 * It ends when the answer's status arrives (a stream's events are the app's to time).
 */
export async function traceHttpRequest<T>(
  method: string, path: string, headers: Record<string, string>,
  send: (headers: Record<string, string>) => Promise<T>, statusOf: (answer: T) => number,
): Promise<T> {
  const route = path.split('?')[0]!;
  const span = tracer().startSpan(`HTTP ${method} ${route}`, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.path': route } });
  const active = trace.setSpan(context.active(), span);
  const traced = { ...headers };
  propagation.inject(active, traced);
  try {
    const answer = await context.with(active, () => send(traced));
    const status = statusOf(answer);
    span.setAttribute('http.response.status_code', status);
    if (status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: String(status) });
    return answer;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? 'unavailable' });
    throw err;
  } finally {
    span.end();
  }
}
