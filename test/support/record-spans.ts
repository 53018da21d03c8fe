import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api';

export type RecordedSpan = { name: string; attributes: Record<string, unknown> };

/**
 * Installs a global tracer that records every span's name and attributes (what an exporter would ship), so canary
 * tests can check that no payload ever reaches telemetry.
 */
export function recordSpans(): { spans: RecordedSpan[] } {
  const spans: RecordedSpan[] = [];
  const tracer = {
    startSpan(name: string) {
      const record = { name, attributes: {} as Record<string, unknown> };
      spans.push(record);
      const span = {
        setAttribute: (k: string, v: unknown) => ((record.attributes[k] = v), span),
        setAttributes: (a: Record<string, unknown>) => (Object.assign(record.attributes, a), span),
        setStatus: (s: unknown) => ((record.attributes['status'] = s), span),
        addEvent: () => span, addLink: () => span, addLinks: () => span, recordException: () => span, updateName: () => span,
        end: () => undefined, isRecording: () => true,
        spanContext: () => ({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 }),
      };
      return span;
    },
    startActiveSpan(name: string, ...rest: unknown[]) {
      const fn = rest[rest.length - 1] as (span: unknown) => unknown;
      return fn(this.startSpan(name));
    },
  };
  trace.setGlobalTracerProvider({ getTracer: () => tracer as unknown as Tracer } as TracerProvider);
  return { spans };
}
