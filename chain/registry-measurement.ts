import type { Hex } from 'viem';
import { nitroMeasurementHex } from './nitro-measurement';

/** The parts of verified attestation claims the registry keys a measurement by (structural, so chain/ stays a leaf). */
export type MeasurementClaims = { platform: string; measurement: string; details?: unknown };

/**
 * The measurement bytes the registry approves for verified claims: Nitro is keyed by PCR0‖PCR1‖PCR2 (the claims'
 * own `measurement` is PCR0 only); every other platform by the claims' measurement.
 *
 * @example
 * measurementId(claims.platform, registryMeasurement(claims))
 */
export function registryMeasurement(claims: MeasurementClaims): Hex {
  if (claims.platform === 'nitro') {
    return nitroMeasurementHex((claims.details as { pcrs?: Record<string, string> } | undefined)?.pcrs ?? {});
  }
  return `0x${claims.measurement.replace(/^0x/, '')}`;
}
