/** The evidence platforms Veil understands. `simulated` is a development stand-in, never hardware. */
export const PLATFORMS = ['sev-snp', 'tdx', 'nitro', 'simulated'] as const;
export type Platform = (typeof PLATFORMS)[number];

export function isPlatform(value: unknown): value is Platform {
  return typeof value === 'string' && (PLATFORMS as readonly string[]).includes(value);
}
