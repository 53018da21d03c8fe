// Public face of tee/: the TEE-mode protocol shared by the client SDK and the TEE worker node.
// Byte-level specification: tee/PROTOCOL.md.
export { TeeError, isTeeError, isTeeErrorCode, TEE_ERROR_CODES } from './tee-error';
export type { TeeErrorCode } from './tee-error';
export { createHpkeSuite, TEE_HPKE_SUITE } from './create-hpke-suite';
export { TEE_PROTOCOL, MODEL_ID_PATTERN, SIGNATURE_PREFIX, STREAM_SIGNATURE_PREFIX, TEE_OPERATIONS, STREAM_EVENT_KINDS } from './tee-protocol';
export type { TeeOperation, TeeStreamEventKind } from './tee-protocol';
export { validateTensorMap, MAX_RANK, MAX_TENSORS } from './tee-tensors';
export type { TeeTensor, TeeTensorMap } from './tee-tensors';
export { encodeTeeRequestBody, decodeTeeRequestBody, encodeTeeResponseBody, decodeTeeResponseBody } from './tee-body-codec';
export type { TeeRequestBody, TeeResponseBody } from './tee-body-codec';
export {
  encodeTeeOperationRequest, decodeTeeOperationRequest, encodeTeeOperationResponse, decodeTeeOperationResponse, decodeAnyTeeRequestBody, isTeeOperation,
} from './tee-operation-codec';
export type { AnyTeeRequestBody, TeeOperationRequestBody, TeeOperationResponseBody } from './tee-operation-codec';
export { createTeeChannel, newRequestId } from './create-tee-channel';
export type { CreateTeeChannelParameters, OpenedTeeStreamEvent, SealedTeeRequest, TeeChannel, TeeStreamOpener } from './create-tee-channel';
export { createEnclaveIdentity } from './create-enclave-identity';
export type { CreateEnclaveIdentityOptions, EnclaveIdentity, EnclaveIdentityPublic, OpenedTeeRequest, OpenTeeRequestParameters, TeeStreamSealer } from './create-enclave-identity';
export { teeSignatureText, teeStreamSignatureText, verifyTeeSignature } from './tee-signature';
export type { TeeSignatureTextParameters, TeeStreamSignatureTextParameters, VerifyTeeSignatureParameters } from './tee-signature';
export { createTeeSignatureVerifier } from './create-tee-signature-verifier';
export { teeUsageText, verifyTeeUsage } from './tee-usage';
export type { TeeUsageCounts, TeeUsageTextParameters, VerifyTeeUsageParameters } from './tee-usage';
export type { TeeSignatureVerifier } from './create-tee-signature-verifier';
export { ReplayGuard } from './replay-guard';
export type { ReplayGuardOptions } from './replay-guard';
export { SILENT_TEE_LOGGER } from './tee-logger';
export type { TeeLogFields, TeeLogger } from './tee-logger';
export { evidenceBindsIdentity } from './check-evidence-binding';
export type { EvidenceBindingParameters, PresentedTeeIdentity } from './check-evidence-binding';
export { recoverSignerAddress } from './secp256k1-receipts';
