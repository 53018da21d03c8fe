/**
 * Veil's TDX workload id: SHA-384(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3), 240 input bytes, lowercase hex.
 * MRTD pins the initial TD image (firmware); RTMR0..3 pin what booted after it (config, kernel,
 * command line, runtime events). One value that policies and the on-chain registry can pin; the raw
 * fields stay available in the claims for finer policies.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../bytes';

export function computeTdxWorkloadId(fields: { mrTd: Uint8Array; rtmr: readonly Uint8Array[] }): string {
  const h = createHash('sha384').update(fields.mrTd);
  for (const r of fields.rtmr) h.update(r);
  return toHex(new Uint8Array(h.digest()));
}
