/**
 * DCAP quote verification (Intel's order): PCK chain from the quote's certification data to the
 * pinned Intel SGX Root CA → QE report signed by the PCK key → QE report_data binds the attestation
 * key (SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes) → quote signed by the attestation key
 * → optionally collateral (TCB Info, QE Identity, CRLs) and the TCB status.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import type { AttestationClaims } from '../claims';
import { isAttestationError } from '../errors';
import { failure, type AttestationFailure } from '../failure';
import { equalBytes, isAllZero, toHex } from '../bytes';
import type { PlatformVerification } from '../verification';
import { parsePemCertificates, parsePinnedCertificate, publicKeyOf } from '../x509/parse-certificates';
import { verifyCertificateChain } from '../x509/verify-certificate-chain';
import { computeTdxWorkloadId } from './compute-tdx-workload-id';
import { evaluateTdxTcb, type TdxTcbEvaluation } from './evaluate-tdx-tcb';
import { parseTdxQuote, type DcapQuote } from './parse-tdx-quote';
import type { TdxCollateral } from './parse-tdx-collateral';
import { readPckExtensions, type PckExtensions } from './read-pck-extensions';
import { verifyTdxCollateral } from './verify-tdx-collateral';

export interface VerifyTdxQuoteParameters {
  quote: Uint8Array;
  collateral?: TdxCollateral | undefined;
  now: Date;
  /** Intel SGX Root CA(s), PEM. */
  roots: readonly string[];
}

export interface DcapVerification {
  failures: AttestationFailure[];
  quote: DcapQuote | undefined;
  pck: PckExtensions | undefined;
  /** Undefined when no collateral was supplied. */
  tcb: TdxTcbEvaluation | undefined;
}

const ECDSA_P256 = 2;
const PCK_CHAIN_PEM = 5;

function p256Key(raw: Uint8Array): KeyObject | undefined {
  if (raw.length !== 64) return undefined;
  try {
    const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(0, 32)), y: b64u(raw.subarray(32)) }, format: 'jwk' });
  } catch {
    return undefined; // not a point on the curve
  }
}

function verifyP256(data: Uint8Array, key: KeyObject | undefined, sig: Uint8Array): boolean {
  if (!key) return false;
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

/** Verifies any DCAP quote (TDX or SGX); verifyTdxQuote wraps it for TDX claims. */
export function verifyDcapQuote({ quote: bytes, collateral, now, roots }: VerifyTdxQuoteParameters): DcapVerification {
  let quote: DcapQuote;
  try {
    quote = parseTdxQuote(bytes);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { failures: [failure(err.code === 'unsupported_version' ? 'unsupported_evidence' : 'malformed_evidence', err.message)], quote: undefined, pck: undefined, tcb: undefined };
  }
  const failures: AttestationFailure[] = [];
  const done = (pck?: PckExtensions, tcb?: TdxTcbEvaluation): DcapVerification => ({ failures, quote, pck, tcb });
  if (quote.attestationKeyType !== ECDSA_P256) {
    failures.push(failure('unsupported_evidence', 'attestation key type is not ECDSA P-256', quote.attestationKeyType, ECDSA_P256));
    return done();
  }
  if (quote.certDataType !== PCK_CHAIN_PEM) {
    failures.push(failure('unsupported_evidence', 'certification data is not a PEM PCK chain', quote.certDataType, PCK_CHAIN_PEM));
    return done();
  }

  let chain: X509Certificate[];
  try {
    chain = parsePemCertificates(Buffer.from(quote.certData).toString('latin1'), 'PCK chain');
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    failures.push(failure('chain_invalid', err.message));
    return done();
  }
  const pckLeaf = chain[0];
  if (!pckLeaf) {
    failures.push(failure('certificate_missing', 'quote carries no PCK certificate'));
    return done();
  }
  const anchors = roots.map((pem, i) => parsePinnedCertificate(pem, `Intel root ${i}`));
  const chainCheck = verifyCertificateChain({ chain, anchors, now, what: 'PCK chain' });
  failures.push(...chainCheck.failures);

  if (!verifyP256(quote.qeReport, publicKeyOf(pckLeaf), quote.qeReportSignature)) {
    failures.push(failure('signature_invalid', 'QE report signature does not verify with the PCK certificate'));
  }
  const expectedBinding = createHash('sha256').update(quote.attestationKey).update(quote.qeAuthData).digest();
  const rd = quote.qeReportBody.reportData;
  if (!equalBytes(rd.subarray(0, 32), expectedBinding) || !isAllZero(rd.subarray(32))) {
    failures.push(failure('qe_binding_invalid', 'QE report does not bind the attestation key', toHex(rd), `${expectedBinding.toString('hex')}${'00'.repeat(32)}`));
  }
  const attKey = p256Key(quote.attestationKey);
  if (!attKey || !verifyP256(quote.signedBytes, attKey, quote.signature)) {
    failures.push(failure('signature_invalid', 'quote signature does not verify with the attestation key'));
  }

  let pck: PckExtensions | undefined;
  try {
    pck = readPckExtensions(pckLeaf);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    failures.push(failure('chain_invalid', err.message));
    return done();
  }
  if (!collateral) return done(pck);

  const c = verifyTdxCollateral({ collateral, pckPath: chainCheck.path, anchors, now });
  failures.push(...c.failures);
  if (!c.tcbInfo || !c.qeIdentity) return done(pck);
  const tcb = evaluateTdxTcb(quote, pck, c.tcbInfo, c.qeIdentity);
  failures.push(...tcb.failures);
  return done(pck, tcb);
}

export function tdxClaims(quote: DcapQuote, pck: PckExtensions | undefined, tcb: TdxTcbEvaluation | undefined): AttestationClaims | undefined {
  const b = quote.body;
  if (b.kind === 'sgx') return undefined;
  return {
    platform: 'tdx',
    simulated: false,
    measurement: computeTdxWorkloadId(b),
    // TD_ATTRIBUTES bit 0 (TUD.DEBUG): the host can read and modify TD state.
    debug: (b.tdAttributes[0]! & 1) === 1,
    reportData: toHex(b.reportData),
    tcb: {
      platform: 'tdx',
      status: tcb?.status,
      advisoryIds: tcb?.advisoryIds ?? [],
      tcbDate: tcb?.tcbDate,
      teeTcbSvn: toHex(b.teeTcbSvn),
      fmspc: pck ? toHex(pck.fmspc) : '',
      pceSvn: pck?.pceSvn ?? quote.pceSvn,
      sgxTcbComponents: pck?.sgxTcbComponents ?? [],
    },
    details: {
      platform: 'tdx',
      quoteVersion: quote.version,
      bodyType: b.kind,
      mrSeam: toHex(b.mrSeam),
      mrSignerSeam: toHex(b.mrSignerSeam),
      seamAttributes: toHex(b.seamAttributes),
      tdAttributes: toHex(b.tdAttributes),
      xfam: toHex(b.xfam),
      mrTd: toHex(b.mrTd),
      mrConfigId: toHex(b.mrConfigId),
      mrOwner: toHex(b.mrOwner),
      mrOwnerConfig: toHex(b.mrOwnerConfig),
      rtmr0: toHex(b.rtmr[0]),
      rtmr1: toHex(b.rtmr[1]),
      rtmr2: toHex(b.rtmr[2]),
      rtmr3: toHex(b.rtmr[3]),
      ...(b.teeTcbSvn2 ? { teeTcbSvn2: toHex(b.teeTcbSvn2) } : {}),
      ...(b.mrServiceTd ? { mrServiceTd: toHex(b.mrServiceTd) } : {}),
      qeSvn: quote.qeSvn,
      pceSvn: quote.pceSvn,
    },
  };
}

/**
 * Verifies a TDX quote (v4 or v5). SGX enclave quotes are refused here (`unsupported_evidence`).
 * @example verifyTdxQuote({ quote, collateral, now: new Date('2025-07-01Z'), roots: DEFAULT_TRUST_ROOTS.tdx })
 */
export function verifyTdxQuote(params: VerifyTdxQuoteParameters): PlatformVerification {
  const v = verifyDcapQuote(params);
  if (!v.quote) return { claims: undefined, failures: v.failures };
  const claims = tdxClaims(v.quote, v.pck, v.tcb);
  if (!claims) return { claims: undefined, failures: [failure('unsupported_evidence', 'SGX enclave quotes are not a Veil platform; expected a TDX quote'), ...v.failures] };
  return { claims, failures: v.failures };
}
