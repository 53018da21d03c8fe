/** The internal result of one platform verifier: the claims it could read, and what failed. */
import type { AttestationClaims } from './claims';
import type { AttestationFailure } from './failure';

export interface PlatformVerification {
  /** Undefined when the evidence could not even be parsed. */
  claims: AttestationClaims | undefined;
  failures: AttestationFailure[];
}
