/**
 * Policy from JSON (e.g. `veil verify --policy FILE`). Errors name the offending field; unknown
 * fields are rejected so a typo cannot silently disable a check.
 */
import { TDX_TCB_STATUSES, type SnpTcbVersion, type TdxTcbStatus } from '../claims';
import { AttestationError } from '../errors';
import type { AttestationPolicy } from './attestation-policy';
import { formatMeasurementEntry, parseMeasurementEntry } from './parse-measurement-entry';

const FIELDS = ['measurements', 'debug', 'snpMinimumTcb', 'tdxTcbStatuses', 'maxAgeSeconds', 'nonce', 'reportDataBinding', 'simulated'] as const;
const REQUIRED = FIELDS.filter((f) => f !== 'simulated');
const SNP_COMPONENTS = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const;

function fail(field: string, message: string): never {
  throw new AttestationError('invalid_policy', `policy.${field} ${message}`, { field });
}

function measurementList(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) fail(field, 'must be an array of "<platform>:<hex>" / "<platform>:any" entries or "any"');
  return v.map((m, i) => {
    const entry = parseMeasurementEntry(m);
    if ('error' in entry) fail(`${field}[${i}]`, entry.error);
    return formatMeasurementEntry(entry);
  });
}

/**
 * @throws {AttestationError} `invalid_policy` with `details.field`.
 * @example parsePolicy(JSON.parse(readFileSync('policy.json', 'utf8')))
 */
export function parsePolicy(input: unknown): AttestationPolicy {
  const value = typeof input === 'string' ? parseJson(input) : input;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AttestationError('invalid_policy', 'policy must be a JSON object');
  const p = value as Record<string, unknown>;
  for (const k of Object.keys(p)) if (!(FIELDS as readonly string[]).includes(k)) fail(k, 'is not a known policy field');
  for (const k of REQUIRED) if (p[k] === undefined) fail(k, 'is required (use "any" to opt out explicitly)');

  const measurements = p.measurements === 'any' ? 'any' : measurementList(p.measurements, 'measurements');

  if (p.debug !== 'forbid' && p.debug !== 'allow') fail('debug', 'must be "forbid" or "allow"');

  let snpMinimumTcb: AttestationPolicy['snpMinimumTcb'] = 'any';
  if (p.snpMinimumTcb !== 'any') {
    const t = p.snpMinimumTcb;
    if (!t || typeof t !== 'object' || Array.isArray(t)) fail('snpMinimumTcb', 'must be an object of SPLs or "any"');
    const out: Partial<SnpTcbVersion> = {};
    for (const [k, v] of Object.entries(t as Record<string, unknown>)) {
      if (!(SNP_COMPONENTS as readonly string[]).includes(k)) fail(`snpMinimumTcb.${k}`, `is not one of ${SNP_COMPONENTS.join(', ')}`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) fail(`snpMinimumTcb.${k}`, 'must be an integer 0..255');
      out[k as keyof SnpTcbVersion] = v;
    }
    snpMinimumTcb = out;
  }

  let tdxTcbStatuses: AttestationPolicy['tdxTcbStatuses'] = 'any';
  if (p.tdxTcbStatuses !== 'any') {
    if (!Array.isArray(p.tdxTcbStatuses) || p.tdxTcbStatuses.length === 0) fail('tdxTcbStatuses', 'must be a non-empty array of TCB statuses or "any"');
    tdxTcbStatuses = p.tdxTcbStatuses.map((s, i) => {
      if (!(TDX_TCB_STATUSES as readonly unknown[]).includes(s)) fail(`tdxTcbStatuses[${i}]`, `must be one of ${TDX_TCB_STATUSES.join(', ')}`);
      return s as TdxTcbStatus;
    });
  }

  let maxAgeSeconds: AttestationPolicy['maxAgeSeconds'] = 'any';
  if (p.maxAgeSeconds !== 'any') {
    if (typeof p.maxAgeSeconds !== 'number' || !Number.isFinite(p.maxAgeSeconds) || p.maxAgeSeconds <= 0) fail('maxAgeSeconds', 'must be a positive number of seconds or "any"');
    maxAgeSeconds = p.maxAgeSeconds;
  }

  let nonce: AttestationPolicy['nonce'] = 'any';
  if (p.nonce !== 'any') {
    if (typeof p.nonce !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(p.nonce)) fail('nonce', 'must be a hex string or "any"');
    nonce = p.nonce.toLowerCase();
  }

  if (p.reportDataBinding !== 'required' && p.reportDataBinding !== 'any') fail('reportDataBinding', 'must be "required" or "any"');
  if (p.simulated !== undefined && p.simulated !== 'forbid' && p.simulated !== 'allow') fail('simulated', 'must be "forbid" or "allow"');

  return Object.freeze({
    measurements,
    debug: p.debug,
    snpMinimumTcb,
    tdxTcbStatuses,
    maxAgeSeconds,
    nonce,
    reportDataBinding: p.reportDataBinding,
    simulated: p.simulated ?? 'forbid',
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AttestationError('invalid_policy', 'policy is not valid JSON', undefined, { cause });
  }
}
