import fc from 'fast-check';

/** One edit of a byte string; positions are taken modulo the length, so every mutation applies to any input. */
export type BytesMutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; keep: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number };

export function applyMutations(input: Uint8Array, mutations: readonly BytesMutation[]): Uint8Array {
  let bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  for (const m of mutations) {
    const n = bytes.byteLength;
    switch (m.op) {
      case 'flip':
      case 'set': {
        if (n === 0) break;
        const copy = Buffer.from(bytes);
        const at = m.at % n;
        copy[at] = m.op === 'flip' ? copy[at]! ^ (1 << (m.bit % 8)) : m.value & 0xff;
        bytes = copy;
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, m.keep % (n + 1));
        break;
      case 'append':
        bytes = Buffer.concat([bytes, m.bytes]);
        break;
      case 'insert': {
        const at = n === 0 ? 0 : m.at % (n + 1);
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = m.at % n;
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
        break;
      }
    }
  }
  return bytes;
}

/** Random mutations that shrink towards "no mutation" and small positions. */
export function bytesMutationArbitrary(maxInsert = 64): fc.Arbitrary<BytesMutation> {
  const at = fc.nat({ max: 1 << 24 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat({ max: 7 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at, value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x01) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: at }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: maxInsert }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: maxInsert }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 64 }) }) },
  );
}

/** Mostly no mutation (the message as built), sometimes a few edits of its encoded bytes. */
export function wireMutationsArbitrary(): fc.Arbitrary<BytesMutation[]> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant([] as BytesMutation[]) }, { weight: 1, arbitrary: fc.array(bytesMutationArbitrary(), { minLength: 1, maxLength: 4 }) });
}
