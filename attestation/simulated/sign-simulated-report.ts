/** Produces a SIMULATED report (development only). */
import { sign, type KeyObject } from 'node:crypto';
import { AttestationError } from '../errors';
import { SIMULATED_MAGIC, SIMULATED_REPORT_SIZE, SIMULATED_SIGNED_LENGTH, type SimulatedKeyAlgorithm } from './parse-simulated-report';

export interface SignSimulatedReportParameters {
  measurement: Uint8Array;
  reportData: Uint8Array;
  issuedAt: Date;
  debug: boolean;
  svn: number;
  keyAlgorithm: SimulatedKeyAlgorithm;
  privateKey: KeyObject;
}

export function signSimulatedReport(p: SignSimulatedReportParameters): Uint8Array {
  if (p.measurement.length !== 48) throw new AttestationError('invalid_argument', 'simulated measurement must be 48 bytes');
  if (p.reportData.length !== 64) throw new AttestationError('invalid_argument', 'simulated report_data must be 64 bytes');
  const out = Buffer.alloc(SIMULATED_REPORT_SIZE);
  out.set(SIMULATED_MAGIC, 0);
  out.writeUInt32LE(1, 16);
  out.writeUInt32LE(p.debug ? 1 : 0, 20);
  out.writeUInt32LE(p.svn, 24);
  out.writeUInt32LE(p.keyAlgorithm === 'p256' ? 1 : 2, 28);
  out.writeBigUInt64LE(BigInt(p.issuedAt.getTime()), 32);
  out.set(p.measurement, 40);
  out.set(p.reportData, 88);
  const sig = sign('sha256', out.subarray(0, SIMULATED_SIGNED_LENGTH), { key: p.privateKey, dsaEncoding: 'ieee-p1363' });
  out.set(sig, SIMULATED_SIGNED_LENGTH);
  return new Uint8Array(out);
}
