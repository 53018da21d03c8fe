/**
 * Chain verification against pinned trust anchors at an explicit time.
 * The caller supplies the chain leaf-first; the chain must end in (or be issued by) an anchor whose
 * DER matches byte for byte — we never trust a root just because its subject name matches.
 */
import type { X509Certificate } from 'node:crypto';
import { failure, type AttestationFailure } from '../failure';
import { commonName, fingerprint256 } from './parse-certificates';

export interface VerifyCertificateChainParameters {
  /** Leaf first; may or may not include the root. */
  chain: readonly X509Certificate[];
  anchors: readonly X509Certificate[];
  now: Date;
  /** Label used in messages, e.g. "VCEK chain". */
  what: string;
}

export interface VerifyCertificateChainResult {
  failures: AttestationFailure[];
  /** The full path leaf → anchor when one was found. */
  path: X509Certificate[];
}

function checkValidity(cert: X509Certificate, now: Date, what: string): AttestationFailure | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const name = commonName(cert.subject) ?? 'certificate';
  if (now.getTime() < from.getTime()) {
    return failure('certificate_not_yet_valid', `${what}: ${name} is not valid before ${from.toISOString()}`, now.toISOString(), `>= ${from.toISOString()}`);
  }
  if (now.getTime() > to.getTime()) {
    return failure('certificate_expired', `${what}: ${name} expired at ${to.toISOString()}`, now.toISOString(), `<= ${to.toISOString()}`);
  }
  return undefined;
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

export function verifyCertificateChain({ chain, anchors, now, what }: VerifyCertificateChainParameters): VerifyCertificateChainResult {
  const failures: AttestationFailure[] = [];
  if (chain.length === 0) return { failures: [failure('certificate_missing', `${what}: no certificates`)], path: [] };
  const anchorPrints = new Set(anchors.map(fingerprint256));

  const path = [...chain];
  const last = path[path.length - 1]!;
  if (!anchorPrints.has(fingerprint256(last))) {
    const issuer = anchors.find((a) => signedBy(last, a));
    if (!issuer) {
      return {
        failures: [failure('untrusted_root', `${what}: chain does not end in a pinned root`, commonName(last.issuer) ?? last.issuer, anchors.map((a) => commonName(a.subject)))],
        path,
      };
    }
    path.push(issuer);
  }

  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const invalid = checkValidity(cert, now, what);
    if (invalid) failures.push(invalid);
    const parent = path[i + 1] ?? cert; // the anchor is self-signed
    if (!signedBy(cert, parent)) {
      failures.push(failure('chain_invalid', `${what}: ${commonName(cert.subject) ?? 'certificate'} is not signed by ${commonName(parent.subject) ?? 'its issuer'}`));
    }
    if (i > 0 && !cert.ca) {
      failures.push(failure('chain_invalid', `${what}: issuer ${commonName(cert.subject) ?? ''} is not a CA certificate`));
    }
  }
  return { failures, path };
}
