/**
 * Verification outcome atoms. A failure names a stable snake_case `code` (safe to branch on and to
 * show), a human `message`, and — where it applies — the `actual` value seen and the `expected` one.
 */
export type AttestationFailureCode =
  // evidence / envelope shape
  | 'malformed_evidence'
  | 'unsupported_evidence'
  | 'platform_mismatch'
  // cryptography
  | 'signature_invalid'
  | 'chain_invalid'
  | 'untrusted_root'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_revoked'
  | 'certificate_missing'
  // SEV-SNP key/report consistency
  | 'tcb_mismatch'
  | 'chip_id_mismatch'
  // TDX quoting enclave and collateral
  | 'qe_binding_invalid'
  | 'qe_identity_mismatch'
  | 'collateral_missing'
  | 'collateral_invalid'
  | 'collateral_expired'
  | 'collateral_not_yet_valid'
  | 'fmspc_mismatch'
  | 'tcb_level_unsupported'
  // policy
  | 'tcb_status_rejected'
  | 'tcb_below_minimum'
  | 'measurement_not_allowed'
  | 'debug_enabled'
  | 'report_data_mismatch'
  | 'report_data_unbound'
  | 'nonce_mismatch'
  | 'evidence_too_old'
  | 'evidence_from_future'
  | 'freshness_unknown'
  | 'simulated_forbidden'
  | 'simulated_key_missing';

export interface AttestationFailure {
  code: AttestationFailureCode;
  message: string;
  actual?: unknown;
  expected?: unknown;
}

export function failure(code: AttestationFailureCode, message: string, actual?: unknown, expected?: unknown): AttestationFailure {
  const f: AttestationFailure = { code, message };
  if (actual !== undefined) f.actual = actual;
  if (expected !== undefined) f.expected = expected;
  return f;
}
