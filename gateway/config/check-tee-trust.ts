import { createPublicKey } from 'node:crypto';
import { parseMeasurementEntry } from '../../attestation';
import type { VeilConfig } from './config-schema';
import type { ConfigProblem, ConfigSources } from './config-error';

/**
 * The TEE trust settings, in every profile: each `tee.measurements` entry names its platform (a bare `any` alone is
 * the development opt-out for every platform; production refuses it), and each `tee.simulatedKeys` entry is a public
 * key. Found at load time, so the message can say where the value came from.
 */
export function checkTeeTrust(config: VeilConfig, sourceOf: ConfigSources): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const measurements = config.tee.measurements;
  const bareAny = measurements.length === 1 && measurements[0] === 'any';
  if (!bareAny) {
    measurements.forEach((entry, i) => {
      const parsed = parseMeasurementEntry(entry);
      if ('error' in parsed) {
        const alone = entry === 'any' ? '; a bare "any" is accepted only as the whole list, in the development profile' : '';
        problems.push({ path: `/tee/measurements/${i}`, message: `${parsed.error}${alone}`, source: sourceOf('/tee/measurements') });
      }
    });
  }
  config.tee.simulatedKeys.forEach((hex, i) => {
    if (!isSpkiPublicKey(hex)) {
      problems.push({
        path: `/tee/simulatedKeys/${i}`,
        message: 'must be a public key as hex SPKI DER (the "simulated key" line `veil worker --platform simulated` prints)',
        source: sourceOf('/tee/simulatedKeys'),
      });
    }
  });
  return problems;
}

/** Hex SPKI DER of an EC public key (what createSimulatedProvider's verifierKey is). */
export function isSpkiPublicKey(hex: string): boolean {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) return false;
  try {
    return createPublicKey({ key: Buffer.from(hex, 'hex'), format: 'der', type: 'spki' }).asymmetricKeyType === 'ec';
  } catch {
    return false;
  }
}
