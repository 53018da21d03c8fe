/**
 * SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP ABI spec 56860, Table 23) → typed structure.
 * Judges nothing: a report with DEBUG set or a bad signature parses fine.
 * Docs: https://www.amd.com/content/dam/amd/en/documents/epyc-technical-docs/specifications/56860.pdf
 */
import { AttestationError } from '../errors';
import { ByteReader } from '../bytes';

export const SNP_REPORT_SIZE = 0x4a0;
/** The signature covers bytes [0, 0x2A0). */
export const SNP_SIGNED_LENGTH = 0x2a0;
export const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];

export type SnpSigningKey = 'vcek' | 'vlek' | 'none' | 'reserved';

export interface SnpReport {
  version: number;
  guestSvn: number;
  /** Guest policy (u64). Bit 19 = DEBUG. */
  policy: bigint;
  familyId: Uint8Array;
  imageId: Uint8Array;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: bigint;
  /** Raw signer flags (u32 at 0x48). */
  flags: number;
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SnpSigningKey;
  reportData: Uint8Array;
  measurement: Uint8Array;
  hostData: Uint8Array;
  idKeyDigest: Uint8Array;
  authorKeyDigest: Uint8Array;
  reportId: Uint8Array;
  reportIdMa: Uint8Array;
  reportedTcb: bigint;
  /** v3+: CPUID family/model/stepping; undefined for v2. */
  cpuid: { family: number; model: number; stepping: number } | undefined;
  chipId: Uint8Array;
  committedTcb: bigint;
  currentFirmware: { build: number; minor: number; major: number };
  committedFirmware: { build: number; minor: number; major: number };
  launchTcb: bigint;
  /** v5+ mitigation vectors. */
  launchMitVector: bigint | undefined;
  currentMitVector: bigint | undefined;
  /** ECDSA P-384 r and s, big-endian 48 bytes each (the report stores them little-endian in 72-byte fields). */
  signatureR: Uint8Array;
  signatureS: Uint8Array;
  /** True when the unused high 24 bytes of both 72-byte signature fields are zero, as the spec requires. */
  signaturePaddingZero: boolean;
  /** The exact signed bytes. */
  signedBytes: Uint8Array;
}

export const SNP_POLICY_DEBUG_BIT = 19n;

function signingKeyOf(flags: number): SnpSigningKey {
  const key = (flags >>> 2) & 0b111;
  return key === 0 ? 'vcek' : key === 1 ? 'vlek' : key === 7 ? 'none' : 'reserved';
}

function bigEndian(le: Uint8Array): Uint8Array {
  return le.slice().reverse();
}

/**
 * @throws {AttestationError} `malformed_evidence` when the size is wrong; `unsupported_version` for unknown versions.
 * @example const report = parseSnpReport(bytes); report.measurement
 */
export function parseSnpReport(bytes: Uint8Array): SnpReport {
  if (bytes.length !== SNP_REPORT_SIZE) {
    throw new AttestationError('malformed_evidence', `SEV-SNP report must be ${SNP_REPORT_SIZE} bytes`, { length: bytes.length });
  }
  const r = new ByteReader(bytes, 'SEV-SNP report');
  const version = r.u32(0x00, 'version');
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) {
    throw new AttestationError('unsupported_version', `SEV-SNP report version ${version} is not supported`, { version });
  }
  const flags = r.u32(0x48, 'signer flags');
  const rLe = r.slice(0x2a0, 72, 'signature r');
  const sLe = r.slice(0x2e8, 72, 'signature s');
  const padding = [...rLe.subarray(48), ...sLe.subarray(48)];
  return {
    version,
    guestSvn: r.u32(0x04, 'guest_svn'),
    policy: r.u64(0x08, 'policy'),
    familyId: r.slice(0x10, 16, 'family_id'),
    imageId: r.slice(0x20, 16, 'image_id'),
    vmpl: r.u32(0x30, 'vmpl'),
    signatureAlgo: r.u32(0x34, 'signature_algo'),
    currentTcb: r.u64(0x38, 'current_tcb'),
    platformInfo: r.u64(0x40, 'platform_info'),
    flags,
    authorKeyEn: (flags & 1) !== 0,
    maskChipKey: (flags & 2) !== 0,
    signingKey: signingKeyOf(flags),
    reportData: r.slice(0x50, 64, 'report_data'),
    measurement: r.slice(0x90, 48, 'measurement'),
    hostData: r.slice(0xc0, 32, 'host_data'),
    idKeyDigest: r.slice(0xe0, 48, 'id_key_digest'),
    authorKeyDigest: r.slice(0x110, 48, 'author_key_digest'),
    reportId: r.slice(0x140, 32, 'report_id'),
    reportIdMa: r.slice(0x160, 32, 'report_id_ma'),
    reportedTcb: r.u64(0x180, 'reported_tcb'),
    cpuid: version >= 3 ? { family: r.u8(0x188, 'cpuid_fam_id'), model: r.u8(0x189, 'cpuid_mod_id'), stepping: r.u8(0x18a, 'cpuid_step') } : undefined,
    chipId: r.slice(0x1a0, 64, 'chip_id'),
    committedTcb: r.u64(0x1e0, 'committed_tcb'),
    currentFirmware: { build: r.u8(0x1e8, 'current_build'), minor: r.u8(0x1e9, 'current_minor'), major: r.u8(0x1ea, 'current_major') },
    committedFirmware: { build: r.u8(0x1ec, 'committed_build'), minor: r.u8(0x1ed, 'committed_minor'), major: r.u8(0x1ee, 'committed_major') },
    launchTcb: r.u64(0x1f0, 'launch_tcb'),
    launchMitVector: version >= 5 ? r.u64(0x1f8, 'launch_mit_vector') : undefined,
    currentMitVector: version >= 5 ? r.u64(0x200, 'current_mit_vector') : undefined,
    signatureR: bigEndian(rLe.subarray(0, 48)),
    signatureS: bigEndian(sLe.subarray(0, 48)),
    signaturePaddingZero: padding.every((b) => b === 0),
    signedBytes: r.slice(0, SNP_SIGNED_LENGTH, 'signed region'),
  };
}
