import { metrics, type Meter } from '@opentelemetry/api';

const cache = new Map<string, unknown>();

/**
 * One instrument per name, created on first use from the meter provider installed by `startTelemetry` (the
 * OpenTelemetry metrics API has no proxy: an instrument made before the provider exists stays a no-op forever).
 */
export function gatewayInstrument<T>(name: string, create: (meter: Meter) => T): T {
  let instrument = cache.get(name) as T | undefined;
  if (instrument === undefined) {
    instrument = create(metrics.getMeter('veil-gateway'));
    cache.set(name, instrument);
  }
  return instrument;
}

/** Forgets every instrument, so the next use binds to the current meter provider (telemetry (re)started or closed). */
export function resetGatewayInstruments(): void {
  cache.clear();
}
