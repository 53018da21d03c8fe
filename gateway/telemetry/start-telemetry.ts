import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';
import { resetRpcMetrics } from './rpc-metrics';

export type Telemetry = { endpoint: string | undefined; close(): Promise<void> };

/**
 * The one place the OpenTelemetry SDK is installed. Everything else in the gateway speaks only the no-op API, so
 * telemetry can never change behaviour. With `telemetry.prometheusPort` > 0 it serves Prometheus metrics (RPC
 * counts and latencies by method and outcome code — never request contents) on `telemetry.prometheusHost`.
 */
export async function startTelemetry(config: VeilConfig['telemetry'], logger: Logger): Promise<Telemetry> {
  if (config.prometheusPort === 0) return { endpoint: undefined, close: async () => undefined };
  const exporter = new PrometheusExporter({ host: config.prometheusHost, port: config.prometheusPort, preventServerStart: true });
  await exporter.startServer().catch((err: Error) => {
    throw new Error(`telemetry: cannot serve Prometheus metrics on ${config.prometheusHost}:${config.prometheusPort}: ${err.message}`);
  });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'veil-gateway' }), readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  resetRpcMetrics();
  const endpoint = `http://${config.prometheusHost}:${config.prometheusPort}/metrics`;
  logger.info('telemetry: prometheus metrics', { endpoint });
  return {
    endpoint,
    async close() {
      await provider.shutdown();
      metrics.disable();
      resetRpcMetrics();
    },
  };
}
