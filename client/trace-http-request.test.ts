import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createHttpFheClient } from './create-http-fhe-client';

const listBody = JSON.stringify({ data: [] });
function recordingFetch(): { fetch: typeof fetch; headers: Record<string, string>[] } {
  const headers: Record<string, string>[] = [];
  return {
    headers,
    fetch: (async (_url: string, init: RequestInit) => {
      headers.push({ ...(init.headers as Record<string, string>) });
      return new Response(listBody, { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  };
}

test('without a tracer installed the SDK sends no traceparent', async () => {
  const f = recordingFetch();
  await createHttpFheClient({ baseUrl: 'http://gw', fetch: f.fetch, apiKey: 'veil_k' }).listModels();
  expect(f.headers[0]).toEqual({ authorization: 'Bearer veil_k' });
});

describe('with the app\'s tracer', () => {
  const spans = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  beforeAll(() => provider.register({ propagator: new W3CTraceContextPropagator(), contextManager: new AsyncLocalStorageContextManager() }));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  test('each HTTP call is a client span under the app\'s span, and its traceparent names that span', async () => {
    const f = recordingFetch();
    const app = trace.getTracer('app').startSpan('app');
    await context.with(trace.setSpan(context.active(), app), () => createHttpFheClient({ baseUrl: 'http://gw', fetch: f.fetch }).listModels());
    app.end();
    const client = spans.getFinishedSpans().find((s) => s.name === 'HTTP GET /v1/fhe/models')!;
    expect(client.parentSpanContext?.spanId).toBe(app.spanContext().spanId);
    expect(client.attributes).toEqual({ 'http.request.method': 'GET', 'url.path': '/v1/fhe/models', 'http.response.status_code': 200 });
    expect(f.headers[0]!.traceparent).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
  });
});
