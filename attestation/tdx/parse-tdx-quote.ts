/**
 * Intel DCAP quote (TDX v4/v5, and SGX v3/v4 for completeness) → typed structure. Judges nothing.
 * Sizes come from the quote's own length fields; bytes after the signature data (zero padding, or
 * go-tdx-guest's appended note) are tolerated and reported as `trailingBytes`.
 * Docs: Intel TDX DCAP Quote Generation Library and Quote Verification Library API, Appendix A (quote format).
 */
import { AttestationError } from '../errors';
import { ByteReader } from '../bytes';

export const TEE_TYPE_SGX = 0x00;
export const TEE_TYPE_TDX = 0x81;
const HEADER_SIZE = 48;
const TD10_BODY_SIZE = 584;
const TD15_BODY_SIZE = 648;
const SGX_BODY_SIZE = 384;
const QE_REPORT_SIZE = 384;

export interface TdReportBody {
  kind: 'td10' | 'td15';
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  /** TD15 only. */
  teeTcbSvn2: Uint8Array | undefined;
  mrServiceTd: Uint8Array | undefined;
}

/** SGX REPORT body (also the QE report). */
export interface SgxReportBody {
  kind: 'sgx';
  cpuSvn: Uint8Array;
  miscSelect: number;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface DcapQuote {
  version: number;
  attestationKeyType: number;
  teeType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
  body: TdReportBody | SgxReportBody;
  /** header ‖ body (for v5 including the body type/size fields): what the attestation key signed. */
  signedBytes: Uint8Array;
  /** ECDSA P-256 r‖s. */
  signature: Uint8Array;
  /** Raw P-256 public key x‖y. */
  attestationKey: Uint8Array;
  qeReport: Uint8Array;
  qeReportBody: SgxReportBody;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Certification data type (5 = PCK chain PEM) and bytes. */
  certDataType: number;
  certData: Uint8Array;
  trailingBytes: number;
}

export function parseSgxReportBody(r: ByteReader, at: number): SgxReportBody {
  return {
    kind: 'sgx',
    cpuSvn: r.slice(at, 16, 'cpusvn'),
    miscSelect: r.u32(at + 16, 'miscselect'),
    attributes: r.slice(at + 48, 16, 'attributes'),
    mrEnclave: r.slice(at + 64, 32, 'mrenclave'),
    mrSigner: r.slice(at + 128, 32, 'mrsigner'),
    isvProdId: r.u16(at + 256, 'isvprodid'),
    isvSvn: r.u16(at + 258, 'isvsvn'),
    reportData: r.slice(at + 320, 64, 'report_data'),
  };
}

function parseTdBody(r: ByteReader, at: number, kind: 'td10' | 'td15'): TdReportBody {
  return {
    kind,
    teeTcbSvn: r.slice(at, 16, 'tee_tcb_svn'),
    mrSeam: r.slice(at + 16, 48, 'mrseam'),
    mrSignerSeam: r.slice(at + 64, 48, 'mrsignerseam'),
    seamAttributes: r.slice(at + 112, 8, 'seam_attributes'),
    tdAttributes: r.slice(at + 120, 8, 'td_attributes'),
    xfam: r.slice(at + 128, 8, 'xfam'),
    mrTd: r.slice(at + 136, 48, 'mrtd'),
    mrConfigId: r.slice(at + 184, 48, 'mrconfigid'),
    mrOwner: r.slice(at + 232, 48, 'mrowner'),
    mrOwnerConfig: r.slice(at + 280, 48, 'mrownerconfig'),
    rtmr: [r.slice(at + 328, 48, 'rtmr0'), r.slice(at + 376, 48, 'rtmr1'), r.slice(at + 424, 48, 'rtmr2'), r.slice(at + 472, 48, 'rtmr3')],
    reportData: r.slice(at + 520, 64, 'report_data'),
    teeTcbSvn2: kind === 'td15' ? r.slice(at + 584, 16, 'tee_tcb_svn2') : undefined,
    mrServiceTd: kind === 'td15' ? r.slice(at + 600, 48, 'mrservicetd') : undefined,
  };
}

function malformed(message: string, details?: Record<string, unknown>): AttestationError {
  return new AttestationError('malformed_evidence', `DCAP quote: ${message}`, details);
}

/**
 * @throws {AttestationError} `malformed_evidence` (truncated or inconsistent lengths) or `unsupported_version`.
 * @example const quote = parseTdxQuote(bytes); quote.body.kind === 'td10'
 */
export function parseTdxQuote(bytes: Uint8Array): DcapQuote {
  const r = new ByteReader(bytes, 'DCAP quote');
  const version = r.u16(0, 'version');
  const teeType = r.u32(4, 'tee_type');
  if (![3, 4, 5].includes(version)) throw new AttestationError('unsupported_version', `DCAP quote version ${version} is not supported`, { version });
  if (teeType !== TEE_TYPE_TDX && teeType !== TEE_TYPE_SGX) throw malformed(`unknown TEE type 0x${teeType.toString(16)}`);
  if (version === 3 && teeType !== TEE_TYPE_SGX) throw malformed('version 3 quotes are SGX only');

  let body: TdReportBody | SgxReportBody;
  let bodyEnd: number;
  if (version === 5) {
    const bodyType = r.u16(HEADER_SIZE, 'body type');
    const bodySize = r.u32(HEADER_SIZE + 2, 'body size');
    const at = HEADER_SIZE + 6;
    const expected = bodyType === 1 ? SGX_BODY_SIZE : bodyType === 2 ? TD10_BODY_SIZE : bodyType === 3 ? TD15_BODY_SIZE : -1;
    if (expected < 0 || bodySize !== expected) throw malformed(`body type ${bodyType} with size ${bodySize} is not valid`);
    if ((bodyType === 1) !== (teeType === TEE_TYPE_SGX)) throw malformed('body type does not match the TEE type');
    body = bodyType === 1 ? parseSgxReportBody(r, at) : parseTdBody(r, at, bodyType === 3 ? 'td15' : 'td10');
    bodyEnd = at + bodySize;
  } else if (teeType === TEE_TYPE_TDX) {
    body = parseTdBody(r, HEADER_SIZE, 'td10');
    bodyEnd = HEADER_SIZE + TD10_BODY_SIZE;
  } else {
    body = parseSgxReportBody(r, HEADER_SIZE);
    bodyEnd = HEADER_SIZE + SGX_BODY_SIZE;
  }

  const sigLen = r.u32(bodyEnd, 'signature data length');
  const sigStart = bodyEnd + 4;
  const sigEnd = sigStart + sigLen;
  if (sigEnd > bytes.length) throw malformed('signature data runs past the end of the quote', { sigLen, length: bytes.length });
  // Read the signature data through its own reader so nothing can stray into trailing bytes.
  const s = new ByteReader(bytes.subarray(sigStart, sigEnd), 'DCAP quote signature data');
  const signature = s.slice(0, 64, 'quote signature');
  const attestationKey = s.slice(64, 64, 'attestation key');
  let p = 128;
  if (version >= 4) {
    const outerType = s.u16(p, 'certification data type');
    const outerSize = s.u32(p + 2, 'certification data size');
    if (outerType !== 6) throw malformed(`certification data type ${outerType} is not 6 (QE report)`);
    p += 6;
    if (p + outerSize !== s.length) throw malformed('certification data size does not match the signature data length');
  }
  const qeReport = s.slice(p, QE_REPORT_SIZE, 'QE report');
  const qeReportBody = parseSgxReportBody(new ByteReader(qeReport, 'QE report'), 0);
  const qeReportSignature = s.slice(p + QE_REPORT_SIZE, 64, 'QE report signature');
  p += QE_REPORT_SIZE + 64;
  const authLen = s.u16(p, 'QE auth data length');
  const qeAuthData = s.slice(p + 2, authLen, 'QE auth data');
  p += 2 + authLen;
  const certDataType = s.u16(p, 'PCK certification data type');
  const certSize = s.u32(p + 2, 'PCK certification data size');
  const certData = s.slice(p + 6, certSize, 'PCK certification data');
  p += 6 + certSize;
  if (p !== s.length) throw malformed('signature data has unexpected bytes after the certification data');

  return {
    version,
    attestationKeyType: r.u16(2, 'attestation key type'),
    teeType,
    qeSvn: r.u16(8, 'qe_svn'),
    pceSvn: r.u16(10, 'pce_svn'),
    qeVendorId: r.slice(12, 16, 'qe_vendor_id'),
    userData: r.slice(28, 20, 'user_data'),
    body,
    signedBytes: r.slice(0, bodyEnd, 'signed region'),
    signature,
    attestationKey,
    qeReport,
    qeReportBody,
    qeReportSignature,
    qeAuthData,
    certDataType,
    certData,
    trailingBytes: bytes.length - sigEnd,
  };
}
