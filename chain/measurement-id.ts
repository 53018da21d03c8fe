import { concat, keccak256, type Hex } from 'viem';
import { ChainError } from './errors';
import { MEASUREMENT_BYTES, isPlatform, platformTag, type Platform } from './platform';
import { toHexBytes } from './validate';

/**
 * The registry's measurement identity: `keccak256(platformTag ‖ measurementBytes)`, i.e. Solidity
 * `keccak256(abi.encodePacked(bytes32 platform, bytes measurement))` (the contract's `measurementIdOf`).
 *
 * `measurementHex` comes from the verified attestation claims: the SNP MEASUREMENT (48 bytes), the TDX workload id,
 * or Nitro PCR0‖PCR1‖PCR2 (3 × 48 bytes). Binding the platform into the id means the same bytes on two platforms are
 * two different approvals.
 *
 * @example
 * measurementId('sev-snp', claims.measurement) // 0x5e…(32 bytes)
 * @throws {ChainError} `unknown_platform`, `invalid_hex` (bad hex or wrong length for the platform)
 */
export function measurementId(platform: Platform, measurementHex: string): Hex {
  return keccak256(concat([platformTag(platform), normalizeMeasurement(platform, measurementHex)]));
}

/** Validates and normalises measurement bytes for a platform (lower-case, 0x-prefixed). */
export function normalizeMeasurement(platform: Platform, measurementHex: string): Hex {
  if (!isPlatform(platform)) {
    throw new ChainError('unknown_platform', `platform: expected one of sev-snp, tdx, nitro, simulated`, {
      details: { platform: String(platform).slice(0, 32) },
    });
  }
  return toHexBytes('measurement', measurementHex, { size: MEASUREMENT_BYTES[platform] });
}
