/**
 * Test-only PKI: self-made CA chains with @peculiar/x509 + WebCrypto, for negative cases that real
 * vectors cannot provide (wrong root, expired chain, debug bit, TCB mismatch, bad binding).
 * @internal
 */
// @peculiar/x509 (through tsyringe) needs the Reflect metadata API; production code does not use it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
export const subtle = webcrypto.subtle;

export type Curve = 'P-256' | 'P-384';
export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  der: Uint8Array;
  pem: string;
  name: string;
}

const HASH: Record<Curve, string> = { 'P-256': 'SHA-256', 'P-384': 'SHA-384' };
let serial = 1;

export async function ecKeys(curve: Curve): Promise<CryptoKeyPair> {
  return (await subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export interface IssueOptions {
  name: string;
  curve: Curve;
  issuer?: Issued;
  ca: boolean;
  notBefore?: Date;
  notAfter?: Date;
  extensions?: x509.Extension[];
}

export async function issue(o: IssueOptions): Promise<Issued> {
  const keys = await ecKeys(o.curve);
  const signer = o.issuer ?? { keys, name: o.name };
  const signerCurve = o.issuer ? ((o.issuer.keys.privateKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve as Curve) : o.curve;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject: `CN=${o.name}`,
    issuer: `CN=${signer.name}`,
    notBefore: o.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: o.notAfter ?? new Date('2040-01-01T00:00:00Z'),
    signingAlgorithm: { name: 'ECDSA', hash: HASH[signerCurve] },
    publicKey: keys.publicKey as never,
    signingKey: signer.keys.privateKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(o.ca, undefined, true),
      ...(o.ca ? [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)] : []),
      ...(o.extensions ?? []),
    ],
  });
  return { cert, keys, der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), name: o.name };
}

export function extension(oid: string, der: ArrayBuffer): x509.Extension {
  return new x509.Extension(oid, false, der);
}

/** ECDSA signature as raw r‖s. */
export async function signRaw(key: CryptoKey, hash: 'SHA-256' | 'SHA-384', data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.sign({ name: 'ECDSA', hash }, key, data));
}

/** Uncompressed public point without the 0x04 prefix (x‖y). */
export async function rawPublicKey(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey('raw', key)).subarray(1);
}
