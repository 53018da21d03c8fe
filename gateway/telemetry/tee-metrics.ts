import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { gatewayInstrument } from './gateway-instruments';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-gateway');
// The router's node states (gateway/tee TeeNodeState; not imported: the router imports this file).
const STATES = ['pending', 'healthy', 'quarantined'] as const;

/**
 * Relays a node's sealed event stream as a `veil.tee.relay_stream` span, recording time to the first event (TTFT, a
 * histogram) and counting events (each is one window of generated tokens: a counter whose rate is chunks/s) by model.
 * The events are sealed: only their arrival is measured. Opened and iterated inside the span, so the node call is its
 * child.
 */
export async function* meterTeeStream<T>(labels: { model: string; node: string }, open: () => AsyncIterable<T>): AsyncGenerator<T> {
  const ttft = gatewayInstrument('veil.tee.ttft', (m) => m.createHistogram('veil.tee.ttft', { description: 'time from relaying a stream to its first sealed event', unit: 'ms' }));
  const chunks = gatewayInstrument('veil.tee.stream.chunks', (m) => m.createCounter('veil.tee.stream.chunks', { description: 'sealed stream events relayed (token windows the node reported)' }));
  const span = tracer().startSpan('veil.tee.relay_stream', { attributes: { 'veil.model': labels.model, 'veil.tee.node': labels.node } });
  const active = trace.setSpan(context.active(), span);
  const started = performance.now();
  let events = 0;
  const iterator = context.with(active, () => open()[Symbol.asyncIterator]());
  try {
    for (;;) {
      const next = await context.with(active, () => iterator.next());
      if (next.done) break;
      if (events === 0) ttft.record(performance.now() - started, { model: labels.model });
      events++;
      chunks.add(1, { model: labels.model });
      yield next.value;
    }
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? 'error' });
    throw err;
  } finally {
    await iterator.return?.();
    span.setAttribute('veil.events', events);
    span.end();
  }
}

/** Gauge of TEE nodes by state (pending, healthy, quarantined), read from the router at each scrape. */
export function observeTeeNodes(nodes: () => readonly { state: string }[]): () => void {
  const gauge = gatewayInstrument('veil.tee.nodes', (m) => m.createObservableGauge('veil.tee.nodes', { description: 'TEE nodes by routing state' }));
  const callback = (r: { observe(v: number, attributes: { state: string }): void }) => {
    const all = nodes();
    for (const state of STATES) r.observe(all.filter((n) => n.state === state).length, { state });
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
