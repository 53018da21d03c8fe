/**
 * TCB_VERSION (u64) → named security patch levels. The byte layout differs by product:
 * Milan/Genoa [0]=bootloader [1]=tee [6]=snp [7]=microcode; Turin [0]=fmc [1]=bootloader [2]=tee
 * [3]=snp [7]=microcode (SEV-SNP ABI 1.58, TCB_VERSION).
 */
import type { SnpTcbVersion } from '../claims';
import type { SnpProduct } from '../trust-roots';

export function decodeSnpTcb(raw: bigint, product: SnpProduct | undefined): SnpTcbVersion {
  const byte = (i: number) => Number((raw >> BigInt(8 * i)) & 0xffn);
  if (product === 'Turin') {
    return { fmc: byte(0), bootloader: byte(1), tee: byte(2), snp: byte(3), microcode: byte(7) };
  }
  return { bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7) };
}
