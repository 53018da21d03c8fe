/**
 * The one error class of the attestation module. Parsers, envelope/policy/collateral readers and
 * providers throw it; verification never throws for bad evidence (it returns failures instead).
 * `message` is safe to show to a client; `details` is for logs only.
 */
export type AttestationErrorCode =
  | 'malformed_evidence'
  | 'unsupported_version'
  | 'invalid_envelope'
  | 'invalid_policy'
  | 'invalid_collateral'
  | 'invalid_certificate'
  | 'invalid_argument'
  | 'provider_unavailable'
  | 'provider_race'
  | 'provider_failed';

export class AttestationError extends Error {
  override name = 'AttestationError' as const;
  readonly code: AttestationErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: AttestationErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** True when `err` is an {@link AttestationError} (optionally with the given code). */
export function isAttestationError(err: unknown, code?: AttestationErrorCode): err is AttestationError {
  return err instanceof AttestationError && (code === undefined || err.code === code);
}
