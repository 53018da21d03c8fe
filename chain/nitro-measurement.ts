import type { Hex } from 'viem';
import { ChainError } from './errors';
import { toHexBytes } from './validate';

/**
 * The registry's Nitro measurement bytes: PCR0 ‖ PCR1 ‖ PCR2 (enclave image, kernel+boot, application), 3 × 48 bytes.
 *
 * Why not just PCR0: PCR1 and PCR2 pin the kernel and the application separately, and the registry's id must name the
 * whole enclave. Note that `AttestationClaims.measurement` from `attestation/` is PCR0 alone for Nitro; pass the PCRs
 * from `claims.details.pcrs` through this helper instead (the 144-byte length check in `measurementId` catches the mix-up).
 *
 * @example
 * measurementId('nitro', nitroMeasurementHex(claims.details.pcrs))
 * @throws {ChainError} `invalid_hex` when a PCR is missing or not 48 bytes
 */
export function nitroMeasurementHex(pcrs: Readonly<Record<string, string | undefined>>): Hex {
  const parts = (['0', '1', '2'] as const).map((index) => {
    const value = pcrs[index];
    if (value === undefined) throw new ChainError('invalid_hex', `pcrs: PCR${index} is missing`, { details: { index } });
    return toHexBytes(`PCR${index}`, value, { size: 48 }).slice(2);
  });
  return `0x${parts.join('')}`;
}
