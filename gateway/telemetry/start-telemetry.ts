import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { readTracingSettings, startTracing, type Tracing, type TracingSettings } from '../../tracing';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';
import { resetGatewayInstruments } from './gateway-instruments';
import { resetRpcMetrics } from './rpc-metrics';

export type Telemetry = {
  endpoint: string | undefined;
  /** What the OTEL_* variables asked of tracing (undefined: off); worker threads start their own tracer from it. */
  tracing: TracingSettings | undefined;
  close(): Promise<void>;
};

export type StartTelemetryDependencies = {
  /** Where the standard OTEL_* variables are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
};

/**
 * The one place the OpenTelemetry SDK is installed. Everything else in the gateway speaks only the no-op API, so
 * telemetry can never change behaviour.
 * - Metrics: with `telemetry.prometheusPort` > 0 it serves Prometheus metrics (RPC counts and latencies by method and
 *   outcome code, pool, ledger and node gauges — never request contents) on `telemetry.prometheusHost`.
 * - Traces: when the standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set, spans go there over OTLP/HTTP
 *   (`tracing/`); OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_HEADERS
 *   and OTEL_BSP_* are honoured. They are OpenTelemetry's own variables, not Veil config keys, so a collector set up
 *   for other services works unchanged.
 * @throws TracingSettingsError naming a malformed OTEL_* variable (before anything is started)
 */
export async function startTelemetry(config: VeilConfig['telemetry'], logger: Logger, deps: StartTelemetryDependencies = {}): Promise<Telemetry> {
  const settings = readTracingSettings({ env: deps.env ?? process.env, defaultServiceName: 'veil-gateway' });
  let provider: MeterProvider | undefined;
  let endpoint: string | undefined;
  if (config.prometheusPort > 0) {
    const exporter = new PrometheusExporter({ host: config.prometheusHost, port: config.prometheusPort, preventServerStart: true });
    await exporter.startServer().catch((err: Error) => {
      throw new Error(`telemetry: cannot serve Prometheus metrics on ${config.prometheusHost}:${config.prometheusPort}: ${err.message}`);
    });
    provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': settings?.serviceName ?? 'veil-gateway' }), readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    resetRpcMetrics();
    resetGatewayInstruments();
    endpoint = `http://${config.prometheusHost}:${config.prometheusPort}/metrics`;
    logger.info('telemetry: prometheus metrics', { endpoint });
  }
  let tracing: Tracing | undefined;
  if (settings) {
    tracing = startTracing({ settings });
    // The URL only: OTEL_EXPORTER_OTLP_HEADERS carry the collector's credentials.
    logger.info('telemetry: traces', { endpoint: settings.url, service: settings.serviceName, sampler: settings.sampler.kind });
  }
  return {
    endpoint,
    tracing: settings,
    async close() {
      // Spans still buffered are sent before the gateway exits (what Kubernetes' SIGTERM grace period is for).
      await tracing?.shutdown();
      if (provider) {
        await provider.shutdown();
        metrics.disable();
        resetRpcMetrics();
        resetGatewayInstruments();
      }
    },
  };
}
