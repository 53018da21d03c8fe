/**
 * One entry of a measurement allow-list: `<platform>:<hex>` or `<platform>:any`. The platform is part of the entry
 * because a measurement means nothing without it — a SIMULATED report can carry any 48 bytes, including an SNP
 * launch digest someone approved, so a bare hex allow-list would let it through.
 */
import { PLATFORMS, isPlatform, type Platform } from '../platform';

export type MeasurementEntry = { platform: Platform; measurement: string | 'any' };

/** How an entry is spelled, for error messages. */
export const MEASUREMENT_ENTRY_FORM = `"<platform>:<hex>" or "<platform>:any" (platform one of ${PLATFORMS.join(', ')})`;

/**
 * @returns the entry with lowercase hex (an optional 0x is dropped), or why it is not one.
 * @example parseMeasurementEntry('sev-snp:AB01') // { platform: 'sev-snp', measurement: 'ab01' }
 */
export function parseMeasurementEntry(entry: unknown): MeasurementEntry | { error: string } {
  if (typeof entry !== 'string') return { error: `must be ${MEASUREMENT_ENTRY_FORM}` };
  const colon = entry.indexOf(':');
  const platform = colon < 0 ? '' : entry.slice(0, colon);
  const value = colon < 0 ? entry : entry.slice(colon + 1).replace(/^0x/i, '');
  if (!isPlatform(platform)) {
    const hint = colon < 0 && (entry === 'any' || /^[0-9a-fA-F]+$/.test(entry)) ? ` (a bare "${entry.length > 16 ? `${entry.slice(0, 16)}…` : entry}" no longer says which platform it is for)` : '';
    return { error: `must be ${MEASUREMENT_ENTRY_FORM}${hint}` };
  }
  if (value === 'any') return { platform, measurement: 'any' };
  if (!/^([0-9a-fA-F]{2})+$/.test(value)) return { error: `must be ${MEASUREMENT_ENTRY_FORM}: "${value.slice(0, 16)}" is not even-length hex` };
  return { platform, measurement: value.toLowerCase() };
}

/** The canonical spelling of an entry (what parsePolicy stores). */
export function formatMeasurementEntry(entry: MeasurementEntry): string {
  return `${entry.platform}:${entry.measurement}`;
}

/** Whether `measurement` on `platform` is allowed by canonical entries (`<platform>:any` allows every one). */
export function isMeasurementAllowed(entries: readonly string[], platform: Platform, measurement: string): boolean {
  return entries.includes(`${platform}:any`) || entries.includes(`${platform}:${measurement.toLowerCase()}`);
}
