/**
 * What a caller accepts. Every security-relevant field is required: there is no "not checked
 * because absent". Opting out is spelled `'any'`, so a reviewer sees it.
 */
import type { SnpTcbVersion, TdxTcbStatus } from '../claims';

export interface AttestationPolicy {
  /**
   * Accepted measurements per platform: `<platform>:<hex>` (canonical lowercase hex, see AttestationClaims.measurement)
   * or `<platform>:any`; or 'any' for every platform. A bare hex entry matches nothing.
   */
  measurements: readonly string[] | 'any';
  /** 'forbid' rejects SNP DEBUG, TDX TD_ATTRIBUTES.DEBUG, Nitro all-zero PCR0, simulated debug. */
  debug: 'forbid' | 'allow';
  /** Minimum SEV-SNP REPORTED_TCB SPLs (each listed component must be ≥), or 'any'. */
  snpMinimumTcb: Partial<SnpTcbVersion> | 'any';
  /** Accepted TDX TCB statuses (needs collateral), or 'any' (TCB status not required). */
  tdxTcbStatuses: readonly TdxTcbStatus[] | 'any';
  /**
   * Maximum evidence age in seconds, judged from the TEE's own timestamp (Nitro, simulated). SNP and
   * TDX reports carry no timestamp: for them a numeric value requires an expected `nonce` instead.
   */
  maxAgeSeconds: number | 'any';
  /** Expected nonce (lowercase hex) the envelope must carry and bind, or 'any'. */
  nonce: string | 'any';
  /** 'required': report_data must equal computeReportData(envelope keys, nonce). */
  reportDataBinding: 'required' | 'any';
  /** Simulated evidence is refused unless this is 'allow'. Optional because the default is the safe one. */
  simulated?: 'forbid' | 'allow';
}

/** Clock skew tolerated before evidence counts as "from the future". */
export const CLOCK_SKEW_SECONDS = 300;
