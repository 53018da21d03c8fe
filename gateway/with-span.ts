import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-gateway');

/**
 * Runs `fn` inside an active span (a no-op until an OpenTelemetry SDK is registered). A failure marks the span
 * with the error's stable code only — never its message, which could describe request contents. Callers set
 * only routing metadata (ids, sizes, counts) as attributes.
 */
export function withSpan<T>(name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}
