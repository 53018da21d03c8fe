import type { CiphertextGroup } from './messages';

/**
 * The binary body of FHE predictions over HTTP (`application/octet-stream`, gateway/http/FHE-HTTP.md), both ways:
 *
 *     body  = magic "VFG1" ‖ u32 group_count ‖ group*
 *     group = u32 ciphertext_count ‖ (u32 byte_length ‖ ciphertext)*
 *
 * All integers unsigned 32-bit big-endian; nothing may follow the last group. Ciphertexts are SEAL's own
 * serialisation, carried as opaque bytes exactly as in `veil.v1.Fhe.Predict`.
 */
export const FHE_GROUPS_MAGIC = 'VFG1';

/** A body that does not follow the framing: the code is the public `invalid_argument`, `param` names the place. */
export class FheFramingError extends Error {
  override name = 'FheFramingError' as const;
  readonly code = 'invalid_argument' as const;
  constructor(message: string, readonly param: string) {
    super(message);
  }
}

const MAGIC = new TextEncoder().encode(FHE_GROUPS_MAGIC);

/** Frames ciphertext groups into one buffer (one allocation, one copy of each ciphertext). */
export function encodeCiphertextGroups(groups: readonly CiphertextGroup[]): Uint8Array {
  let total = MAGIC.byteLength + 4;
  for (const g of groups) {
    total += 4;
    for (const c of g.ciphertexts) total += 4 + c.byteLength;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let offset = MAGIC.byteLength;
  view.setUint32(offset, groups.length);
  offset += 4;
  for (const g of groups) {
    view.setUint32(offset, g.ciphertexts.length);
    offset += 4;
    for (const c of g.ciphertexts) {
      view.setUint32(offset, c.byteLength);
      out.set(c, offset + 4);
      offset += 4 + c.byteLength;
    }
  }
  return out;
}

/**
 * Reads a framed body. The ciphertexts are views into `bytes` (no copy). Every count and length is checked against
 * the bytes that remain before anything is allocated, so a forged count cannot make the reader allocate more than
 * the body's own size. @throws {FheFramingError} naming the first malformed field.
 */
export function decodeCiphertextGroups(bytes: Uint8Array): CiphertextGroup[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const u32 = (param: string): number => {
    if (bytes.byteLength - offset < 4) throw new FheFramingError(`the body ends inside ${param} (${bytes.byteLength} bytes)`, param);
    const value = view.getUint32(offset);
    offset += 4;
    return value;
  };
  for (let i = 0; i < MAGIC.byteLength; i++) {
    if (bytes[i] !== MAGIC[i]) throw new FheFramingError(`a binary predict body starts with "${FHE_GROUPS_MAGIC}" (gateway/http/FHE-HTTP.md)`, 'body');
  }
  offset = MAGIC.byteLength;
  const groupCount = u32('group_count');
  // Each group takes at least its own 4-byte count.
  if (groupCount > (bytes.byteLength - offset) / 4) throw new FheFramingError(`group_count ${groupCount} exceeds what the body can hold`, 'group_count');
  const groups: CiphertextGroup[] = [];
  for (let i = 0; i < groupCount; i++) {
    const count = u32(`groups[${i}].ciphertext_count`);
    if (count > (bytes.byteLength - offset) / 4) {
      throw new FheFramingError(`groups[${i}] declares ${count} ciphertexts, more than the body can hold`, `groups[${i}].ciphertext_count`);
    }
    const ciphertexts: Uint8Array[] = [];
    for (let j = 0; j < count; j++) {
      const param = `groups[${i}].ciphertexts[${j}]`;
      const length = u32(`${param}.byte_length`);
      if (length > bytes.byteLength - offset) {
        throw new FheFramingError(`${param} declares ${length} bytes but only ${bytes.byteLength - offset} remain`, param);
      }
      ciphertexts.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    groups.push({ ciphertexts });
  }
  if (offset !== bytes.byteLength) throw new FheFramingError(`${bytes.byteLength - offset} bytes follow the last group`, 'body');
  return groups;
}
