/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): FMSPC, PCE-ID and the
 * platform's TCB (16 CPU SVN components + PCESVN) used for TCB-level matching.
 * Docs: Intel SGX PCK Certificate and CRL Profile, §1.5.
 */
import type { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AttestationError } from '../errors';
import { integerValue, octetsValue, oidValue, parseDer, readExtensions, sequenceItems } from '../x509/read-extensions';

const SGX_EXT = '1.2.840.113741.1.13.1';

export interface PckExtensions {
  fmspc: Uint8Array;
  pceId: Uint8Array;
  pceSvn: number;
  /** SGX TCB component SVNs 1..16. */
  sgxTcbComponents: number[];
  cpuSvn: Uint8Array;
}

export function readPckExtensions(cert: X509Certificate): PckExtensions {
  const raw = readExtensions(cert).get(SGX_EXT);
  if (!raw) throw new AttestationError('invalid_certificate', 'PCK certificate has no SGX extension');
  const entries = new Map<string, asn1js.AsnType>();
  for (const item of sequenceItems(parseDer(raw, 'SGX extension'), 'SGX extension')) {
    const [oid, value] = sequenceItems(item, 'SGX extension entry');
    if (value) entries.set(oidValue(oid, 'SGX extension oid'), value);
  }
  const tcb = entries.get(`${SGX_EXT}.2`);
  const fmspc = entries.get(`${SGX_EXT}.4`);
  const pceId = entries.get(`${SGX_EXT}.3`);
  if (!tcb || !fmspc || !pceId) throw new AttestationError('invalid_certificate', 'PCK SGX extension lacks TCB, FMSPC or PCE-ID');
  const comps = new Map<string, asn1js.AsnType>();
  for (const item of sequenceItems(tcb, 'SGX TCB')) {
    const [oid, value] = sequenceItems(item, 'SGX TCB entry');
    if (value) comps.set(oidValue(oid, 'SGX TCB oid'), value);
  }
  const sgxTcbComponents: number[] = [];
  for (let i = 1; i <= 16; i++) sgxTcbComponents.push(integerValue(comps.get(`${SGX_EXT}.2.${i}`), `SGX TCB component ${i}`));
  return {
    fmspc: octetsValue(fmspc, 'FMSPC'),
    pceId: octetsValue(pceId, 'PCE-ID'),
    pceSvn: integerValue(comps.get(`${SGX_EXT}.2.17`), 'PCESVN'),
    sgxTcbComponents,
    cpuSvn: octetsValue(comps.get(`${SGX_EXT}.2.18`), 'CPUSVN'),
  };
}
