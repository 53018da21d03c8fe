/** SEV-SNP-specific policy: the minimum TCB the report must vouch for (REPORTED_TCB). */
import type { AttestationClaims, SnpTcbVersion } from '../claims';
import { failure, type AttestationFailure } from '../failure';

export function validateSnpTcb(claims: AttestationClaims, minimum: Partial<SnpTcbVersion> | 'any'): AttestationFailure[] {
  if (minimum === 'any' || claims.tcb.platform !== 'sev-snp') return [];
  const reported = claims.tcb.reported;
  const out: AttestationFailure[] = [];
  for (const name of ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const) {
    const min = minimum[name];
    if (min === undefined) continue;
    const actual = reported[name];
    if (actual === undefined || actual < min) {
      out.push(failure('tcb_below_minimum', `SEV-SNP reported ${name} SPL ${actual ?? 'absent'} is below the required minimum ${min}`, actual, `>= ${min}`));
    }
  }
  return out;
}
