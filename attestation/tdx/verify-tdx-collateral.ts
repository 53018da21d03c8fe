/**
 * Checks TDX collateral at `now`: TCB Info and QE Identity signatures over their exact bytes, their
 * issuer chains to the pinned Intel root, their validity windows, and — when supplied — the PCK and
 * root CA CRLs (signature, window, and whether the quote's PCK chain is revoked).
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { isAttestationError } from '../errors';
import { failure, type AttestationFailure } from '../failure';
import { fromHex } from '../bytes';
import { commonName, parsePemCertificates, publicKeyOf } from '../x509/parse-certificates';
import { normaliseSerial, parseCrl, verifyCrlSignature, type Crl } from '../x509/parse-crl';
import { verifyCertificateChain } from '../x509/verify-certificate-chain';
import type { TdxCollateral } from './parse-tdx-collateral';
import { readQeIdentity, readTcbInfo, type QeIdentity, type TcbInfo } from './read-tdx-collateral-json';

export interface VerifyTdxCollateralParameters {
  collateral: TdxCollateral;
  /** The quote's PCK chain as verified (leaf, intermediate CA, root). */
  pckPath: readonly X509Certificate[];
  anchors: readonly X509Certificate[];
  now: Date;
}

export interface VerifyTdxCollateralResult {
  failures: AttestationFailure[];
  tcbInfo: TcbInfo | undefined;
  qeIdentity: QeIdentity | undefined;
}

function windowFailure(what: string, from: Date, to: Date | undefined, now: Date): AttestationFailure | undefined {
  if (now.getTime() < from.getTime()) return failure('collateral_not_yet_valid', `${what} is not valid before ${from.toISOString()}`, now.toISOString(), `>= ${from.toISOString()}`);
  if (to && now.getTime() > to.getTime()) return failure('collateral_expired', `${what} expired at ${to.toISOString()}`, now.toISOString(), `<= ${to.toISOString()}`);
  return undefined;
}

function verifySignedJson(text: string, signatureHex: string, chainPem: string, what: string, anchors: readonly X509Certificate[], now: Date): AttestationFailure[] {
  const chain = parsePemCertificates(chainPem, `${what} issuer chain`);
  const out = verifyCertificateChain({ chain, anchors, now, what: `${what} issuer chain` }).failures;
  const signer = chain[0];
  let sig: Uint8Array;
  try {
    sig = fromHex(signatureHex, `${what} signature`);
  } catch {
    return [...out, failure('collateral_invalid', `${what} signature is not hex`)];
  }
  const key = signer && publicKeyOf(signer);
  if (!key || sig.length !== 64 || !cryptoVerify('sha256', Buffer.from(text, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, sig)) {
    out.push(failure('collateral_invalid', `${what} signature does not verify with its issuer chain`));
  }
  return out;
}

function checkCrl(crlHex: string, issuers: readonly X509Certificate[], what: string, now: Date): { crl: Crl | undefined; failures: AttestationFailure[] } {
  let crl: Crl;
  try {
    crl = parseCrl(fromHex(crlHex, what), what);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { crl: undefined, failures: [failure('collateral_invalid', `${what}: ${err.message}`)] };
  }
  const failures: AttestationFailure[] = [];
  if (!issuers.some((i) => verifyCrlSignature(crl, i))) failures.push(failure('collateral_invalid', `${what} is not signed by its expected issuer`));
  const w = windowFailure(what, crl.thisUpdate, crl.nextUpdate, now);
  if (w) failures.push(w);
  return { crl, failures };
}

function revoked(crl: Crl | undefined, cert: X509Certificate | undefined, what: string): AttestationFailure[] {
  if (!crl || !cert) return [];
  const serial = normaliseSerial(cert.serialNumber);
  return crl.revokedSerials.has(serial)
    ? [failure('certificate_revoked', `${commonName(cert.subject) ?? 'certificate'} (serial ${serial}) is revoked by the ${what}`, serial)]
    : [];
}

export function verifyTdxCollateral({ collateral, pckPath, anchors, now }: VerifyTdxCollateralParameters): VerifyTdxCollateralResult {
  const failures: AttestationFailure[] = [];
  let tcbInfo: TcbInfo | undefined;
  let qeIdentity: QeIdentity | undefined;
  try {
    failures.push(...verifySignedJson(collateral.tcbInfo, collateral.tcbInfoSignature, collateral.tcbInfoIssuerChain, 'TCB info', anchors, now));
    failures.push(...verifySignedJson(collateral.qeIdentity, collateral.qeIdentitySignature, collateral.qeIdentityIssuerChain, 'QE identity', anchors, now));
    tcbInfo = readTcbInfo(collateral.tcbInfo);
    qeIdentity = readQeIdentity(collateral.qeIdentity);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { failures: [...failures, failure('collateral_invalid', err.message)], tcbInfo: undefined, qeIdentity: undefined };
  }
  const tw = windowFailure('TCB info', tcbInfo.issueDate, tcbInfo.nextUpdate, now);
  if (tw) failures.push(tw);
  const qw = windowFailure('QE identity', qeIdentity.issueDate, qeIdentity.nextUpdate, now);
  if (qw) failures.push(qw);

  const [pckLeaf, pckCa, root] = pckPath;
  if (collateral.pckCrl) {
    const issuers: X509Certificate[] = pckCa ? [pckCa] : [];
    if (collateral.pckCrlIssuerChain) {
      try {
        const chain = parsePemCertificates(collateral.pckCrlIssuerChain, 'PCK CRL issuer chain');
        const checked = verifyCertificateChain({ chain, anchors, now, what: 'PCK CRL issuer chain' });
        failures.push(...checked.failures);
        if (checked.failures.length === 0 && chain[0]) issuers.push(chain[0]);
      } catch (err) {
        if (!isAttestationError(err)) throw err;
        failures.push(failure('collateral_invalid', err.message));
      }
    }
    const { crl, failures: f } = checkCrl(collateral.pckCrl, issuers, 'PCK CRL', now);
    failures.push(...f, ...revoked(crl, pckLeaf, 'PCK CRL'));
  }
  if (collateral.rootCaCrl) {
    const { crl, failures: f } = checkCrl(collateral.rootCaCrl, root ? [root, ...anchors] : anchors, 'root CA CRL', now);
    failures.push(...f, ...revoked(crl, pckCa, 'root CA CRL'));
    for (const chainPem of [collateral.tcbInfoIssuerChain, collateral.qeIdentityIssuerChain]) {
      failures.push(...revoked(crl, parsePemCertificates(chainPem)[0], 'root CA CRL'));
    }
  }
  return { failures, tcbInfo, qeIdentity };
}
