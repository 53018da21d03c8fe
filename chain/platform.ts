import { hexToString, stringToHex, type Hex } from 'viem';

/** TEE platforms the registry accepts. Must match the PLATFORM_* constants in contracts/VeilRegistry.sol. */
export const PLATFORMS = ['sev-snp', 'tdx', 'nitro', 'simulated'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Expected measurement length in bytes, where the platform fixes it: SNP MEASUREMENT is SHA-384 (48 bytes); Nitro is
 * PCR0‖PCR1‖PCR2, three SHA-384 values (144 bytes). TDX workload ids and simulated measurements vary, so only non-empty
 * is required.
 */
export const MEASUREMENT_BYTES: Readonly<Record<Platform, number | undefined>> = {
  'sev-snp': 48,
  tdx: undefined,
  nitro: 144,
  simulated: undefined,
};

export function isPlatform(value: unknown): value is Platform {
  return typeof value === 'string' && (PLATFORMS as readonly string[]).includes(value);
}

/** The on-chain tag: the ASCII name right-padded with zeros to 32 bytes (Solidity `bytes32 x = "sev-snp"`). */
export function platformTag(platform: Platform): Hex {
  return stringToHex(platform, { size: 32 });
}

/** Inverse of `platformTag`; undefined for a tag this build does not know. */
export function platformFromTag(tag: Hex): Platform | undefined {
  const name = hexToString(tag, { size: 32 }).replace(/\0+$/, '');
  return isPlatform(name) ? name : undefined;
}
