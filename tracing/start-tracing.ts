import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { TracingSettings } from './read-tracing-settings';

export type StartTracingParameters = {
  settings: TracingSettings;
  /** Resource attributes of this process or thread beyond the settings' (e.g. `thread.id` of a pool worker). */
  attributes?: Record<string, string | number>;
};

export type Tracing = {
  /** Sends every finished span now (a worker thread calls it after each task: piscina may end the thread at any time). */
  flush(): Promise<void>;
  /** Flushes, stops exporting and unregisters the global tracer, propagator and context manager. */
  shutdown(): Promise<void>;
};

/**
 * Installs the OpenTelemetry tracing SDK for this process (or worker thread): spans batched to the OTLP/HTTP endpoint,
 * W3C trace context as the propagator, AsyncLocalStorage as the context manager. Code elsewhere speaks only the
 * OpenTelemetry API, which stays a no-op until this runs — so tracing can never change what a request does.
 */
export function startTracing({ settings, attributes = {} }: StartTracingParameters): Tracing {
  const exporter = new OTLPTraceExporter({ url: settings.url, headers: settings.headers });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, ...attributes, 'service.name': settings.serviceName }),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter, definedOnly(settings.batch))],
  });
  provider.register({ propagator: new W3CTraceContextPropagator(), contextManager: new AsyncLocalStorageContextManager() });
  let stopped: Promise<void> | undefined;
  return {
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        propagation.disable();
        context.disable();
      });
      return stopped;
    },
  };
}

function samplerOf({ kind, ratio }: TracingSettings['sampler']): Sampler {
  switch (kind) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
