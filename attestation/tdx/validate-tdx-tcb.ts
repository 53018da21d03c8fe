/** TDX-specific policy: the accepted TCB statuses (from verified collateral). */
import type { AttestationClaims } from '../claims';
import { failure, type AttestationFailure } from '../failure';

/**
 * @param collateralSupplied when true and no status was derived, a verification failure already
 *   explains why (e.g. `tcb_level_unsupported`), so no second failure is added.
 */
export function validateTdxTcb(claims: AttestationClaims, accepted: readonly string[] | 'any', collateralSupplied: boolean): AttestationFailure[] {
  if (accepted === 'any' || claims.tcb.platform !== 'tdx') return [];
  const status = claims.tcb.status;
  if (status === undefined && collateralSupplied) return [];
  if (status === undefined) return [failure('collateral_missing', 'policy requires a TDX TCB status but no collateral was supplied', undefined, accepted)];
  return accepted.includes(status) ? [] : [failure('tcb_status_rejected', `TDX TCB status ${status} is not accepted`, status, accepted)];
}
