/**
 * The evidence envelope: one JSON object a Veil enclave hands out and a client verifies.
 * Byte strings: `evidence`, `certificates[]`, `simulatedVerifierKey` are base64; `nonce` and
 * `hpkePublicKey` are lowercase hex; `signingAddress` is an EVM address. See attestation/README.md.
 */
import type { Platform } from '../platform';
import type { TdxCollateral } from '../tdx/parse-tdx-collateral';

export const ENVELOPE_VERSION = 1;

export interface UnboundEvidence {
  version: typeof ENVELOPE_VERSION;
  platform: Platform;
  /** base64 of the raw hardware evidence: SNP report, TDX quote, Nitro COSE document, simulated report. */
  evidence: string;
  /** base64 DER certificates that the evidence does not carry itself (SNP: the VCEK or VLEK). */
  certificates?: string[];
  /** TDX collateral when the producer fetched it (verifiers may also inject their own). */
  collateral?: TdxCollateral;
  /** Simulated platform only: base64 SPKI DER of the development signing key. Never trusted by default. */
  simulatedVerifierKey?: string;
}

/** Evidence plus the identity it binds through report_data (see computeReportData). */
export interface AttestationEnvelope extends UnboundEvidence {
  nonce: string;
  hpkePublicKey: string;
  signingAddress: string;
}

export function isBoundEnvelope(e: UnboundEvidence | AttestationEnvelope): e is AttestationEnvelope {
  return 'nonce' in e && 'hpkePublicKey' in e && 'signingAddress' in e && typeof (e as AttestationEnvelope).nonce === 'string';
}
