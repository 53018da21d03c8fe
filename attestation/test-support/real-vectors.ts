/**
 * The SOURCES.md vector table as data: each real vector, the fixed time it verifies at, its expected
 * verdict under a signature-level policy and (where stated) under the production policy, and whether
 * it must fail at 2026-11-25. Shared by the verdict tests, the bit-flip sweep and the benchmark.
 * @internal
 */
import { toBase64 } from '../bytes';
import type { UnboundEvidence } from '../envelope/attestation-envelope';
import type { AttestationFailureCode } from '../failure';
import type { TdxCollateral } from '../tdx/parse-tdx-collateral';
import { dcapQvlCollateral, gtgCollateral } from './tdx-collateral';
import { readVector } from './vectors';

export interface RealVector {
  name: string;
  /** SOURCES.md section. */
  source: string;
  load(): { evidence: UnboundEvidence; collateral?: TdxCollateral };
  at: string;
  /** Expected verdict at `at` under the permissive (signature/chain/collateral-only) policy. */
  expected: 'valid' | { invalid: AttestationFailureCode[] };
  /** Failure codes expected under the production policy (debug forbidden, TDX UpToDate), if different. */
  production?: 'valid' | { invalid: AttestationFailureCode[] };
  /** Failure codes expected at 2026-11-25 under the permissive policy (when SOURCES.md says it must fail). */
  today?: AttestationFailureCode[];
  /** [start, end) byte range of the signed region, for the bit-flip sweep. */
  signedRegion: [number, number];
}

const snp = (report: string, cert: string) => () => ({
  evidence: { version: 1 as const, platform: 'sev-snp' as const, evidence: toBase64(readVector(`sev-snp/${report}`)), certificates: [toBase64(readVector(`sev-snp/${cert}`))] },
});
const tdx = (quote: string, collateral?: () => TdxCollateral) => () => ({
  evidence: { version: 1 as const, platform: 'tdx' as const, evidence: toBase64(readVector(`tdx/${quote}`)) },
  ...(collateral ? { collateral: collateral() } : {}),
});
const nitro = (doc: string) => () => ({ evidence: { version: 1 as const, platform: 'nitro' as const, evidence: toBase64(readVector(`nitro/${doc}`)) } });

export const REAL_VECTORS: RealVector[] = [
  { name: 'nitro/blocky_nitro_attestation', source: '1.2', load: nitro('blocky_nitro_attestation.cbor'), at: '2024-09-07T15:00:00Z', expected: 'valid', production: 'valid', today: ['certificate_expired'], signedRegion: [0, 0] },
  { name: 'nitro/blocky_nitro_attestation_debug', source: '1.3', load: nitro('blocky_nitro_attestation_debug.cbor'), at: '2024-09-07T15:00:00Z', expected: 'valid', production: { invalid: ['debug_enabled'] }, signedRegion: [0, 0] },
  { name: 'sev-snp/gsg_milan', source: '2.2', load: snp('gsg_milan_report.bin', 'gsg_milan_vcek.der'), at: '2024-01-01T00:00:00Z', expected: 'valid', production: { invalid: ['debug_enabled'] }, signedRegion: [0, 0x2a0] },
  { name: 'sev-snp/virtee_milan', source: '2.3', load: snp('virtee_milan_report.bin', 'virtee_milan_vcek.der'), at: '2024-01-01T00:00:00Z', expected: 'valid', production: 'valid', signedRegion: [0, 0x2a0] },
  { name: 'sev-snp/trustee_milan_vcek', source: '2.4', load: snp('trustee_milan_vcek_report.bin', 'trustee_milan_vcek.der'), at: '2024-01-01T00:00:00Z', expected: 'valid', production: 'valid', signedRegion: [0, 0x2a0] },
  { name: 'sev-snp/trustee_milan_vlek', source: '2.5', load: snp('trustee_milan_vlek_report.bin', 'trustee_milan_vlek.der'), at: '2025-01-01T00:00:00Z', expected: 'valid', production: 'valid', today: ['certificate_expired'], signedRegion: [0, 0x2a0] },
  { name: 'tdx/dcapqvl_tdx_v4 + collateral', source: '3.3', load: tdx('dcapqvl_tdx_v4_quote.bin', () => dcapQvlCollateral('dcapqvl_tdx_v4_collateral.json')), at: '2025-07-01T00:00:00Z', expected: 'valid', production: 'valid', today: ['collateral_expired'], signedRegion: [0, 632] },
  { name: 'tdx/dcapqvl_tdx_v5_outdated + collateral', source: '3.4', load: tdx('dcapqvl_tdx_v5_outdated_quote.bin', () => dcapQvlCollateral('dcapqvl_tdx_v5_outdated_collateral.json')), at: '2026-03-01T00:00:00Z', expected: { invalid: ['tcb_level_unsupported'] }, signedRegion: [0, 702] },
  { name: 'tdx/dcapqvl_sgx_v3 + collateral', source: '3.5', load: tdx('dcapqvl_sgx_v3_quote.bin', () => dcapQvlCollateral('dcapqvl_sgx_v3_collateral.json')), at: '2025-07-01T00:00:00Z', expected: { invalid: ['unsupported_evidence'] }, signedRegion: [0, 432] },
  { name: 'tdx/dcapqvl_dstack_tappd (no collateral)', source: '3.6', load: tdx('dcapqvl_dstack_tappd_quote.bin'), at: '2025-07-01T00:00:00Z', expected: 'valid', production: { invalid: ['collateral_missing'] }, signedRegion: [0, 632] },
  { name: 'tdx/gtg_tdx_v4_spr_e4 (no collateral)', source: '3.7', load: tdx('gtg_tdx_v4_quote_spr_e4.dat'), at: '2023-07-01T01:00:00Z', expected: 'valid', production: { invalid: ['collateral_missing'] }, signedRegion: [0, 632] },
  { name: 'tdx/gtg_tdx_v4_spr_e4 + gtg_collateral', source: '3.7', load: tdx('gtg_tdx_v4_quote_spr_e4.dat', gtgCollateral), at: '2023-07-01T01:00:00Z', expected: { invalid: ['tcb_level_unsupported'] }, signedRegion: [0, 632] },
  { name: 'tdx/nearai_model + v5 collateral', source: '3.8', load: tdx('nearai_model_quote.bin', () => dcapQvlCollateral('dcapqvl_tdx_v5_outdated_collateral.json')), at: '2026-03-15T00:00:00Z', expected: 'valid', production: 'valid', today: ['collateral_expired'], signedRegion: [0, 632] },
  { name: 'tdx/nearai_gateway (no collateral)', source: '3.8', load: tdx('nearai_gateway_quote.bin'), at: '2026-03-15T00:00:00Z', expected: 'valid', production: { invalid: ['collateral_missing'] }, signedRegion: [0, 632] },
];
