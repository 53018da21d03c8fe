/**
 * Input checks shared by actions and the CLI. Each names the offending field so a CLI user knows which flag is wrong.
 * @internal
 */
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { ChainError } from './errors';

export function toAddress(field: string, value: unknown): Address {
  if (typeof value !== 'string' || !isAddress(value, { strict: false })) {
    throw new ChainError('invalid_address', `${field}: not an EVM address (expected 0x followed by 40 hex digits)`, {
      details: { field, value: typeof value === 'string' ? value.slice(0, 64) : typeof value },
    });
  }
  return getAddress(value);
}

/** Accepts hex with or without 0x (attestation claims are often bare hex); returns lower-case 0x-prefixed hex. */
export function toHexBytes(field: string, value: unknown, { size }: { size?: number } = {}): Hex {
  const raw = typeof value === 'string' ? value.trim().replace(/^0x/i, '') : undefined;
  if (raw === undefined || raw.length === 0 || raw.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(raw)) {
    throw new ChainError('invalid_hex', `${field}: not a non-empty, even-length hex string`, {
      details: { field, length: typeof value === 'string' ? value.length : undefined },
    });
  }
  if (size !== undefined && raw.length !== size * 2) {
    throw new ChainError('invalid_hex', `${field}: expected ${size} bytes, got ${raw.length / 2}`, {
      details: { field, expectedBytes: size, actualBytes: raw.length / 2 },
    });
  }
  return `0x${raw.toLowerCase()}`;
}

export function toBytes32(field: string, value: unknown): Hex {
  return toHexBytes(field, value, { size: 32 });
}

/** Unix seconds as uint64; accepts a Date, a number of seconds or a bigint. */
export function toUnixSeconds(field: string, value: Date | number | bigint): bigint {
  const seconds =
    value instanceof Date ? BigInt(Math.floor(value.getTime() / 1000)) : typeof value === 'number' ? (Number.isSafeInteger(value) ? BigInt(value) : -1n) : value;
  if (seconds < 0n || seconds >= 2n ** 64n) {
    throw new ChainError('invalid_argument', `${field}: expected unix seconds as a non-negative integer`, { details: { field } });
  }
  return seconds;
}
