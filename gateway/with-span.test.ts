import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { withSpan } from './with-span';

async function install(): Promise<{ spans: InMemorySpanExporter; stop(): Promise<void> }> {
  const spans = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  provider.register();
  return {
    spans,
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

test('spans go to the SDK installed now, also after telemetry was stopped and started again (a restarted gateway in one process)', async () => {
  // (An in-memory exporter forgets its spans on shutdown: read them first.)
  const first = await install();
  await withSpan('veil.first', async () => undefined);
  const firstNames = first.spans.getFinishedSpans().map((s) => s.name);
  await first.stop();
  const second = await install();
  await withSpan('veil.second', async () => undefined);
  const secondNames = second.spans.getFinishedSpans().map((s) => s.name);
  await second.stop();
  expect(firstNames).toEqual(['veil.first']);
  expect(secondNames).toEqual(['veil.second']);
});

test('a failure marks the span with the error code only, never its message', async () => {
  const { spans, stop } = await install();
  await expect(withSpan('veil.x', async () => Promise.reject(Object.assign(new Error('input 0xSECRET'), { code: 'invalid_input' })))).rejects.toThrow();
  const status = spans.getFinishedSpans()[0]!.status;
  await stop();
  expect(status).toEqual({ code: 2, message: 'invalid_input' });
});
