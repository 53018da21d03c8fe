/**
 * SEV-SNP signature and key checks: VCEK/VLEK chain to a pinned ARK, report signature, and the
 * consistency the key certificate promises (its TCB extensions equal REPORTED_TCB; its hwID equals
 * CHIP_ID). Policy (debug, measurement, minimum TCB) is validate-snp-report.ts's job.
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { AttestationClaims, SnpTcbVersion } from '../claims';
import { isAttestationError } from '../errors';
import { failure, type AttestationFailure } from '../failure';
import { equalBytes, isAllZero, toHex } from '../bytes';
import type { PlatformVerification } from '../verification';
import type { SnpProduct, SnpRootSet } from '../trust-roots';
import { commonName, parseCertificate, parsePinnedCertificate, publicKeyOf } from '../x509/parse-certificates';
import { parseDer, readExtensions } from '../x509/read-extensions';
import { verifyCertificateChain } from '../x509/verify-certificate-chain';
import { decodeSnpTcb } from './decode-snp-tcb';
import { parseSnpReport, SNP_POLICY_DEBUG_BIT, type SnpReport } from './parse-snp-report';

export interface VerifySnpReportParameters {
  report: Uint8Array;
  /** The VCEK or VLEK (DER or PEM). Extra certificates (ASK/ARK) are ignored: only pinned roots count. */
  certificates: readonly (Uint8Array | string)[];
  now: Date;
  roots: readonly SnpRootSet[];
}

const OID = {
  blSpl: '1.3.6.1.4.1.3704.1.3.1',
  teeSpl: '1.3.6.1.4.1.3704.1.3.2',
  snpSpl: '1.3.6.1.4.1.3704.1.3.3',
  ucodeSpl: '1.3.6.1.4.1.3704.1.3.8',
  fmcSpl: '1.3.6.1.4.1.3704.1.3.9',
  hwId: '1.3.6.1.4.1.3704.1.4',
  productName: '1.3.6.1.4.1.3704.1.2',
} as const;

function extInteger(exts: Map<string, Uint8Array>, oid: string): number | undefined {
  const raw = exts.get(oid);
  if (!raw) return undefined;
  try {
    const node = parseDer(raw, `extension ${oid}`);
    return node instanceof asn1js.Integer ? node.valueBlock.valueDec : undefined;
  } catch {
    return undefined; // unreadable: reported as a TCB mismatch
  }
}

function extProductName(exts: Map<string, Uint8Array>): string | undefined {
  const raw = exts.get(OID.productName);
  if (!raw) return undefined;
  const node = parseDer(raw, 'productName');
  return node instanceof asn1js.IA5String ? node.getValue() : undefined;
}

function extHwId(exts: Map<string, Uint8Array>): Uint8Array | undefined {
  const raw = exts.get(OID.hwId);
  if (!raw) return undefined;
  // AMD encodes hwID as the bare OCTET STRING contents in some KDS versions and as a DER OCTET STRING in others.
  try {
    const node = parseDer(raw, 'hwID');
    if (node instanceof asn1js.OctetString) return new Uint8Array(node.valueBlock.valueHexView);
  } catch {
    /* fall through: raw contents */
  }
  return raw;
}

function keyCertName(kind: 'vcek' | 'vlek'): string {
  return kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK';
}

/** Builds the JSON claims for a parsed report (also used when verification fails, for diagnostics). */
export function snpClaims(report: SnpReport, product: SnpProduct | undefined, productName: string | undefined): AttestationClaims {
  return {
    platform: 'sev-snp',
    simulated: false,
    measurement: toHex(report.measurement),
    debug: ((report.policy >> SNP_POLICY_DEBUG_BIT) & 1n) === 1n,
    reportData: toHex(report.reportData),
    tcb: {
      platform: 'sev-snp',
      reported: decodeSnpTcb(report.reportedTcb, product),
      current: decodeSnpTcb(report.currentTcb, product),
      committed: decodeSnpTcb(report.committedTcb, product),
      launch: decodeSnpTcb(report.launchTcb, product),
    },
    ...(isAllZero(report.chipId) ? {} : { chipId: toHex(report.chipId) }),
    details: {
      platform: 'sev-snp',
      version: report.version,
      product: productName ?? product,
      signingKey: report.signingKey === 'vlek' ? 'vlek' : 'vcek',
      guestSvn: report.guestSvn,
      policy: `0x${report.policy.toString(16)}`,
      vmpl: report.vmpl,
      platformInfo: `0x${report.platformInfo.toString(16)}`,
      familyId: toHex(report.familyId),
      imageId: toHex(report.imageId),
      hostData: toHex(report.hostData),
      idKeyDigest: toHex(report.idKeyDigest),
      authorKeyDigest: toHex(report.authorKeyDigest),
      reportId: toHex(report.reportId),
      firmware: { major: report.currentFirmware.major, minor: report.currentFirmware.minor, build: report.currentFirmware.build },
    },
  };
}

function safeCheckIssued(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent);
  } catch {
    return false;
  }
}

function findIssuer(key: X509Certificate, roots: readonly SnpRootSet[], kind: 'vcek' | 'vlek'): { set: SnpRootSet; intermediate: X509Certificate } | undefined {
  for (const set of roots) {
    const pem = kind === 'vcek' ? set.ask : set.asvk;
    if (!pem) continue;
    const intermediate = parsePinnedCertificate(pem, `${set.product} ${kind === 'vcek' ? 'ASK' : 'ASVK'}`);
    if (safeCheckIssued(key, intermediate)) return { set, intermediate };
  }
  return undefined;
}

function tcbFailures(exts: Map<string, Uint8Array>, reported: SnpTcbVersion, product: SnpProduct): AttestationFailure[] {
  const fromCert: Partial<SnpTcbVersion> = {
    bootloader: extInteger(exts, OID.blSpl),
    tee: extInteger(exts, OID.teeSpl),
    snp: extInteger(exts, OID.snpSpl),
    microcode: extInteger(exts, OID.ucodeSpl),
  };
  if (product === 'Turin') fromCert.fmc = extInteger(exts, OID.fmcSpl);
  const out: AttestationFailure[] = [];
  for (const [name, certValue] of Object.entries(fromCert) as [keyof SnpTcbVersion, number | undefined][]) {
    const reportValue = reported[name];
    if (certValue !== reportValue) {
      out.push(failure('tcb_mismatch', `key certificate ${name} SPL does not match the report's REPORTED_TCB`, reportValue, certValue));
    }
  }
  return out;
}

/**
 * Verifies one SEV-SNP report. Never throws for bad evidence: parse errors become `malformed_evidence`.
 * @example verifySnpReport({ report, certificates: [vcekDer], now: new Date('2024-01-01Z'), roots: DEFAULT_TRUST_ROOTS.sevSnp })
 */
export function verifySnpReport({ report: bytes, certificates, now, roots }: VerifySnpReportParameters): PlatformVerification {
  let report: SnpReport;
  try {
    report = parseSnpReport(bytes);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims: undefined, failures: [failure(err.code === 'unsupported_version' ? 'unsupported_evidence' : 'malformed_evidence', err.message)] };
  }
  const failures: AttestationFailure[] = [];
  if (report.signingKey !== 'vcek' && report.signingKey !== 'vlek') {
    return { claims: snpClaims(report, undefined, undefined), failures: [failure('unsupported_evidence', `SEV-SNP report signing key "${report.signingKey}" cannot be verified`, report.signingKey, ['vcek', 'vlek'])] };
  }
  const kind = report.signingKey;

  let key: X509Certificate | undefined;
  try {
    key = certificates
      .map((c, i) => parseCertificate(c, `certificate ${i}`))
      .find((c) => commonName(c.subject) === keyCertName(kind));
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims: snpClaims(report, undefined, undefined), failures: [failure('certificate_missing', err.message)] };
  }
  if (!key) {
    return { claims: snpClaims(report, undefined, undefined), failures: [failure('certificate_missing', `no ${keyCertName(kind)} certificate supplied for a ${kind.toUpperCase()}-signed report`)] };
  }

  let exts: Map<string, Uint8Array>;
  let productName: string | undefined;
  try {
    exts = readExtensions(key);
    productName = extProductName(exts);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims: snpClaims(report, undefined, undefined), failures: [failure('chain_invalid', err.message)] };
  }

  const issuer = findIssuer(key, roots, kind);
  const product = issuer?.set.product;
  const claims = snpClaims(report, product, productName);
  if (!issuer) {
    failures.push(failure('untrusted_root', `${keyCertName(kind)} is not issued by a pinned AMD ${kind === 'vcek' ? 'ASK' : 'ASVK'}`, commonName(key.issuer) ?? key.issuer));
    return { claims, failures };
  }
  const ark = parsePinnedCertificate(issuer.set.ark, `${issuer.set.product} ARK`);
  failures.push(...verifyCertificateChain({ chain: [key, issuer.intermediate], anchors: [ark], now, what: `${kind.toUpperCase()} chain` }).failures);

  const publicKey = publicKeyOf(key);
  if (!publicKey || publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    failures.push(failure('signature_invalid', `${keyCertName(kind)} key is not ECDSA P-384`));
  } else if (report.signatureAlgo !== 1) {
    failures.push(failure('signature_invalid', 'unsupported SEV-SNP signature algorithm', report.signatureAlgo, 1));
  } else if (!report.signaturePaddingZero) {
    failures.push(failure('signature_invalid', 'SEV-SNP signature fields carry non-zero padding'));
  } else {
    const sig = Buffer.concat([report.signatureR, report.signatureS]);
    const ok = cryptoVerify('sha384', report.signedBytes, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    if (!ok) failures.push(failure('signature_invalid', `SEV-SNP report signature does not verify with the ${keyCertName(kind)}`));
  }

  if (claims.tcb.platform === 'sev-snp') failures.push(...tcbFailures(exts, claims.tcb.reported, issuer.set.product));

  if (kind === 'vcek') {
    const hwId = extHwId(exts);
    const chipPrefix = hwId ? report.chipId.subarray(0, hwId.length) : undefined;
    if (!hwId || !chipPrefix || !equalBytes(hwId, chipPrefix)) {
      failures.push(failure('chip_id_mismatch', "VCEK hwID does not match the report's CHIP_ID", toHex(report.chipId), hwId ? toHex(hwId) : undefined));
    }
  }
  return { claims, failures };
}
