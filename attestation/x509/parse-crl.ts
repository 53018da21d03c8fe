/**
 * X.509 CRL reading (asn1js) and checking (node:crypto). We keep the exact tbsCertList bytes so the
 * signature is checked over what the issuer signed, never over a re-encoding.
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AttestationError } from '../errors';
import { toHex } from '../bytes';
import { oidValue, parseDer, sequenceItems } from './read-extensions';

export interface Crl {
  tbs: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Revoked serial numbers, normalised: lowercase hex without leading zeros. */
  revokedSerials: Set<string>;
}

const HASH_BY_OID: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
};

export function normaliseSerial(hex: string): string {
  const s = hex.toLowerCase().replace(/^0+/, '');
  return s === '' ? '0' : s;
}

function timeValue(node: asn1js.AsnType | undefined): Date | undefined {
  if (node instanceof asn1js.UTCTime || node instanceof asn1js.GeneralizedTime) return node.toDate();
  return undefined;
}

export function parseCrl(der: Uint8Array, what = 'CRL'): Crl {
  try {
    return parseCrlUnsafe(der, what);
  } catch (err) {
    if (err instanceof AttestationError) throw err;
    throw new AttestationError('invalid_collateral', `${what} is not a valid CRL`, undefined, { cause: err });
  }
}

function parseCrlUnsafe(der: Uint8Array, what: string): Crl {
  const root = parseDer(der, what);
  const [tbsNode, algNode, sigNode] = sequenceItems(root, what);
  if (!tbsNode || !algNode || !(sigNode instanceof asn1js.BitString)) throw new AttestationError('invalid_collateral', `${what}: not a CertificateList`);
  const tbsItems = sequenceItems(tbsNode, `${what} tbsCertList`);
  // version is OPTIONAL: skip it when present
  let i = tbsItems[0] instanceof asn1js.Integer ? 1 : 0;
  i += 2; // signature algorithm, issuer
  const thisUpdate = timeValue(tbsItems[i]);
  if (!thisUpdate) throw new AttestationError('invalid_collateral', `${what}: missing thisUpdate`);
  const nextUpdate = timeValue(tbsItems[i + 1]);
  const revokedSerials = new Set<string>();
  const maybeList = tbsItems[nextUpdate ? i + 2 : i + 1];
  if (maybeList instanceof asn1js.Sequence) {
    for (const entry of maybeList.valueBlock.value) {
      const serial = sequenceItems(entry, `${what} entry`)[0];
      if (serial instanceof asn1js.Integer) revokedSerials.add(normaliseSerial(toHex(new Uint8Array(serial.valueBlock.valueHexView))));
    }
  }
  return {
    tbs: new Uint8Array(tbsNode.valueBeforeDecodeView),
    signatureAlgorithm: oidValue(sequenceItems(algNode, `${what} algorithm`)[0], `${what} algorithm`),
    signature: new Uint8Array(sigNode.valueBlock.valueHexView),
    thisUpdate,
    nextUpdate,
    revokedSerials,
  };
}

/** True when `issuer` signed this CRL. */
export function verifyCrlSignature(crl: Crl, issuer: X509Certificate): boolean {
  const hash = HASH_BY_OID[crl.signatureAlgorithm];
  if (!hash) return false;
  try {
    return cryptoVerify(hash, crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    return false;
  }
}
