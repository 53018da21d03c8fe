import { metrics, type Counter, type Histogram } from '@opentelemetry/api';

type RpcInstruments = { requests: Counter; duration: Histogram };

let instruments: RpcInstruments | undefined;

/**
 * Records one finished RPC: a request counter and a latency histogram, labelled only by RPC name and outcome code
 * (never by anything a client sent). Instruments are created on first use, after `startTelemetry` has installed a
 * meter provider; without one the OpenTelemetry API makes them no-ops.
 */
export function recordRpc(rpc: string, code: string, ms: number): void {
  if (!instruments) {
    const meter = metrics.getMeter('veil-gateway');
    instruments = {
      requests: meter.createCounter('veil.rpc.requests', { description: 'RPCs handled, by method and outcome code' }),
      duration: meter.createHistogram('veil.rpc.duration', { description: 'RPC handling time', unit: 'ms' }),
    };
  }
  instruments.requests.add(1, { rpc, code });
  instruments.duration.record(ms, { rpc, code });
}

/** Forgets the instruments so the next RPC binds to the current meter provider (after telemetry (re)starts). */
export function resetRpcMetrics(): void {
  instruments = undefined;
}
