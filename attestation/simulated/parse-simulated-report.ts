/**
 * SIMULATED evidence — a development stand-in with the same envelope as hardware evidence. It proves
 * only that whoever holds a locally generated key signed it. Layout (little-endian, 216 bytes):
 *
 *   0   16  magic "VEIL-SIMULATED\0\0"   (so it can never be mistaken for a hardware report)
 *   16   4  format version = 1
 *   20   4  flags (bit 0 = debug)
 *   24   4  svn
 *   28   4  key algorithm (1 = ECDSA P-256, 2 = ECDSA secp256k1), SHA-256
 *   32   8  issued-at, ms since the Unix epoch
 *   40  48  measurement
 *   88  64  report_data
 *   152 64  signature r‖s over bytes [0, 152)
 */
import { AttestationError } from '../errors';
import { ByteReader, equalBytes } from '../bytes';

export const SIMULATED_MAGIC = new Uint8Array(Buffer.from('VEIL-SIMULATED\0\0', 'latin1'));
export const SIMULATED_REPORT_SIZE = 216;
export const SIMULATED_SIGNED_LENGTH = 152;

export type SimulatedKeyAlgorithm = 'p256' | 'secp256k1';

export interface SimulatedReport {
  formatVersion: number;
  debug: boolean;
  svn: number;
  keyAlgorithm: SimulatedKeyAlgorithm;
  issuedAt: number;
  measurement: Uint8Array;
  reportData: Uint8Array;
  signedBytes: Uint8Array;
  signature: Uint8Array;
}

export function parseSimulatedReport(bytes: Uint8Array): SimulatedReport {
  if (bytes.length !== SIMULATED_REPORT_SIZE) throw new AttestationError('malformed_evidence', `simulated report must be ${SIMULATED_REPORT_SIZE} bytes`, { length: bytes.length });
  const r = new ByteReader(bytes, 'simulated report');
  if (!equalBytes(r.slice(0, 16, 'magic'), SIMULATED_MAGIC)) throw new AttestationError('malformed_evidence', 'not a simulated report (bad magic)');
  const formatVersion = r.u32(16, 'version');
  if (formatVersion !== 1) throw new AttestationError('unsupported_version', `simulated report version ${formatVersion} is not supported`);
  const flags = r.u32(20, 'flags');
  if ((flags & ~1) !== 0) throw new AttestationError('malformed_evidence', 'simulated report has unknown flags');
  const alg = r.u32(28, 'key algorithm');
  if (alg !== 1 && alg !== 2) throw new AttestationError('malformed_evidence', `unknown simulated key algorithm ${alg}`);
  const issuedAt = Number(r.u64(32, 'issued-at'));
  if (!Number.isSafeInteger(issuedAt)) throw new AttestationError('malformed_evidence', 'simulated issued-at out of range');
  return {
    formatVersion,
    debug: (flags & 1) === 1,
    svn: r.u32(24, 'svn'),
    keyAlgorithm: alg === 1 ? 'p256' : 'secp256k1',
    issuedAt,
    measurement: r.slice(40, 48, 'measurement'),
    reportData: r.slice(88, 64, 'report_data'),
    signedBytes: r.slice(0, SIMULATED_SIGNED_LENGTH, 'signed region'),
    signature: r.slice(SIMULATED_SIGNED_LENGTH, 64, 'signature'),
  };
}
