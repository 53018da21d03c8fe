/**
 * Nitro signature and chain checks: leaf ← cabundle[n-1] ← … ← cabundle[0] = pinned AWS root,
 * every certificate valid at `now`, then ES384 over the COSE Sig_structure.
 */
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { Encoder } from 'cbor-x';
import type { AttestationClaims } from '../claims';
import { isAttestationError } from '../errors';
import { failure, type AttestationFailure } from '../failure';
import { isAllZero, toHex } from '../bytes';
import type { PlatformVerification } from '../verification';
import { fingerprint256, parseCertificate, parsePinnedCertificate, publicKeyOf } from '../x509/parse-certificates';
import { verifyCertificateChain } from '../x509/verify-certificate-chain';
import { parseNitroDocument, type NitroDocument } from './parse-nitro-document';

export interface VerifyNitroDocumentParameters {
  document: Uint8Array;
  now: Date;
  /** Pinned AWS Nitro root(s), PEM. */
  roots: readonly string[];
}

const COSE_ES384 = -35;
// Byte strings must encode as plain bstr (cbor-x would otherwise tag Uint8Array with tag 64).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false });

/** COSE Sig_structure for COSE_Sign1 with empty external_aad (RFC 9052 §4.4). */
export function nitroSigStructure(doc: Pick<NitroDocument, 'protectedHeader' | 'payload'>): Uint8Array {
  return new Uint8Array(encoder.encode(['Signature1', Buffer.from(doc.protectedHeader), Buffer.alloc(0), Buffer.from(doc.payload)]));
}

export function nitroClaims(doc: NitroDocument): AttestationClaims {
  const pcr0 = doc.pcrs.get(0);
  const pcrs: Record<string, string> = {};
  for (const [k, v] of [...doc.pcrs].sort((a, b) => a[0] - b[0])) pcrs[String(k)] = toHex(v);
  return {
    platform: 'nitro',
    simulated: false,
    measurement: pcr0 ? toHex(pcr0) : '',
    // AWS: a debug-mode enclave reports all-zero PCR0..2.
    debug: pcr0 === undefined || isAllZero(pcr0),
    reportData: doc.userData ? toHex(doc.userData) : '',
    tcb: { platform: 'nitro' },
    instanceId: doc.moduleId,
    issuedAt: new Date(doc.timestamp).toISOString(),
    details: {
      platform: 'nitro',
      moduleId: doc.moduleId,
      digest: doc.digest,
      pcrs,
      publicKey: doc.publicKey ? toHex(doc.publicKey) : undefined,
      userData: doc.userData ? toHex(doc.userData) : undefined,
      nonce: doc.nonce ? toHex(doc.nonce) : undefined,
    },
  };
}

/** @example verifyNitroDocument({ document, now: new Date('2024-09-07T15:00:00Z'), roots: DEFAULT_TRUST_ROOTS.nitro }) */
export function verifyNitroDocument({ document, now, roots }: VerifyNitroDocumentParameters): PlatformVerification {
  let doc: NitroDocument;
  try {
    doc = parseNitroDocument(document);
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims: undefined, failures: [failure('malformed_evidence', err.message)] };
  }
  const claims = nitroClaims(doc);
  const failures: AttestationFailure[] = [];
  if (doc.digest !== 'SHA384') failures.push(failure('unsupported_evidence', 'Nitro PCR digest must be SHA384', doc.digest, 'SHA384'));
  if (doc.algorithm !== COSE_ES384) {
    failures.push(failure('signature_invalid', 'Nitro document is not signed with ES384', doc.algorithm, COSE_ES384));
    return { claims, failures };
  }

  let leaf: X509Certificate;
  let chain: X509Certificate[];
  try {
    leaf = parseCertificate(doc.certificate, 'Nitro leaf certificate');
    chain = [leaf, ...doc.cabundle.map((c, i) => parseCertificate(c, `cabundle[${i}]`)).reverse()];
  } catch (err) {
    if (!isAttestationError(err)) throw err;
    return { claims, failures: [...failures, failure('chain_invalid', err.message)] };
  }
  const anchors = roots.map((pem, i) => parsePinnedCertificate(pem, `Nitro root ${i}`));
  const bundleRoot = chain[chain.length - 1]!;
  if (!anchors.some((a) => fingerprint256(a) === fingerprint256(bundleRoot))) {
    failures.push(failure('untrusted_root', 'Nitro cabundle[0] is not the pinned AWS Nitro root', fingerprint256(bundleRoot), anchors.map(fingerprint256)));
    return { claims, failures };
  }
  failures.push(...verifyCertificateChain({ chain, anchors, now, what: 'Nitro chain' }).failures);

  const key = publicKeyOf(leaf);
  if (!key || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1' || doc.signature.length !== 96) {
    failures.push(failure('signature_invalid', 'Nitro leaf key or signature is not P-384'));
  } else if (!cryptoVerify('sha384', nitroSigStructure(doc), { key, dsaEncoding: 'ieee-p1363' }, doc.signature)) {
    failures.push(failure('signature_invalid', 'Nitro COSE_Sign1 signature does not verify with the leaf certificate'));
  }
  return { claims, failures };
}
