/**
 * Veil attestation: produce and verify TEE evidence (AMD SEV-SNP, Intel TDX, AWS Nitro, and a
 * clearly labelled SIMULATED development platform). Public surface — import only from here.
 *
 * Layout: each platform folder splits parse (bytes → structure), verify (signatures, chains,
 * collateral) and validate (policy). `verifyEvidence` ties them together at an explicit time.
 */
export { AttestationError, isAttestationError, type AttestationErrorCode } from './errors';
export { PLATFORMS, isPlatform, type Platform } from './platform';
export type { AttestationFailure, AttestationFailureCode } from './failure';
export {
  TDX_TCB_STATUSES,
  type AttestationClaims,
  type TcbClaims,
  type TdxTcbStatus,
  type SnpTcbVersion,
  type PlatformDetails,
  type SnpDetails,
  type TdxDetails,
  type NitroDetails,
  type SimulatedDetails,
} from './claims';
export { computeReportData, REPORT_DATA_DOMAIN_TAG, type ComputeReportDataParameters } from './compute-report-data';
export { ENVELOPE_VERSION, isBoundEnvelope, type AttestationEnvelope, type UnboundEvidence } from './envelope/attestation-envelope';
export { parseEnvelope } from './envelope/parse-envelope';
export { CLOCK_SKEW_SECONDS, type AttestationPolicy } from './policy/attestation-policy';
export { parsePolicy } from './policy/parse-policy';
export {
  parseMeasurementEntry, formatMeasurementEntry, isMeasurementAllowed, MEASUREMENT_ENTRY_FORM, type MeasurementEntry,
} from './policy/parse-measurement-entry';
export { verifyEvidence, type VerifyEvidenceOptions, type VerifyEvidenceResult } from './verify-evidence';
export { DEFAULT_TRUST_ROOTS, type TrustRoots, type SnpRootSet, type SnpProduct } from './trust-roots';
export { parseTdxCollateral, collateralFromPcsResponses, type TdxCollateral, type PcsResponses } from './tdx/parse-tdx-collateral';
export { computeTdxWorkloadId } from './tdx/compute-tdx-workload-id';
export { parseSnpReport, type SnpReport } from './sev-snp/parse-snp-report';
export { parseTdxQuote, type DcapQuote } from './tdx/parse-tdx-quote';
export { parseNitroDocument, type NitroDocument } from './nitro/parse-nitro-document';
export { parseSimulatedReport, type SimulatedReport } from './simulated/parse-simulated-report';
export type { SimulatedTrust } from './simulated/verify-simulated-report';
export type { EvidenceProvider, GetEvidenceParameters } from './providers/evidence-provider';
export { createEvidenceProvider, type CreateEvidenceProviderOptions } from './providers/create-evidence-provider';
export { createConfigfsTsmProvider, DEFAULT_TSM_REPORT_ROOT, type ConfigfsTsmProviderOptions, type TsmFileSystem } from './providers/create-configfs-tsm-provider';
export { createSimulatedProvider, DEFAULT_SIMULATED_MEASUREMENT, type SimulatedProviderOptions, type SimulatedEvidenceProvider } from './providers/create-simulated-provider';
