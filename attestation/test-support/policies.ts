/** Policies used by tests and the benchmark. @internal */
import type { AttestationPolicy } from '../policy/attestation-policy';

/** Signature, chain, collateral and binding-free: "is this genuine evidence at that time?" */
export const PERMISSIVE_POLICY: AttestationPolicy = Object.freeze<AttestationPolicy>({
  measurements: 'any',
  debug: 'allow',
  snpMinimumTcb: 'any',
  tdxTcbStatuses: 'any',
  maxAgeSeconds: 'any',
  nonce: 'any',
  reportDataBinding: 'any',
});

/** What a production verifier of unbound vendor vectors would use. */
export const PRODUCTION_POLICY: AttestationPolicy = Object.freeze<AttestationPolicy>({
  measurements: 'any',
  debug: 'forbid',
  snpMinimumTcb: 'any',
  tdxTcbStatuses: ['UpToDate'],
  maxAgeSeconds: 'any',
  nonce: 'any',
  reportDataBinding: 'any',
});
