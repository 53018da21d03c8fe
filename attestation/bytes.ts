/**
 * Small byte helpers shared by the parsers. Kept free of crypto: hashing and signatures live in
 * node:crypto, this file only moves bytes around.
 * @internal
 */
import { AttestationError } from './errors';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Lowercase hex (optionally `0x`-prefixed) to bytes; throws `invalid_argument` naming `what`. */
export function fromHex(text: string, what: string): Uint8Array {
  const body = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new AttestationError('invalid_argument', `${what} is not valid hex`);
  }
  return new Uint8Array(Buffer.from(body, 'hex'));
}

/** Strict base64 (standard alphabet, optional padding) to bytes. */
export function fromBase64(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new AttestationError('invalid_argument', `${what} is not valid base64`);
  }
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function isAllZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * Bounds-checked little-endian reader over a fixed binary layout. Every read past the end throws a
 * typed `malformed_evidence` error, so parsers never leak a RangeError on truncated input.
 */
export class ByteReader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  private need(offset: number, size: number, field: string): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.bytes.length) {
      throw new AttestationError('malformed_evidence', `${this.what} is truncated (field ${field})`, {
        offset,
        size,
        length: this.bytes.length,
      });
    }
  }

  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.view.getUint8(offset);
  }
  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.view.getUint32(offset, true);
  }
  u64(offset: number, field: string): bigint {
    this.need(offset, 8, field);
    return this.view.getBigUint64(offset, true);
  }
  /** A copy, so callers can keep it after the input buffer is reused. */
  slice(offset: number, size: number, field: string): Uint8Array {
    this.need(offset, size, field);
    return this.bytes.slice(offset, offset + size);
  }
}
