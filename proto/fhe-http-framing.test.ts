import fc from 'fast-check';
import { decodeCiphertextGroups, encodeCiphertextGroups, FheFramingError } from './fhe-http-framing';

const bytes = (...values: number[]) => Uint8Array.from(values);
const framed = (...u32s: number[]) => {
  const out = new Uint8Array(4 + 4 * u32s.length);
  out.set(new TextEncoder().encode('VFG1'));
  u32s.forEach((v, i) => new DataView(out.buffer).setUint32(4 + 4 * i, v));
  return out;
};

describe('FHE predict framing', () => {
  test('round-trips any groups, and the layout is the documented big-endian one', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }), { maxLength: 5 }), (raw) => {
      const groups = raw.map((ciphertexts) => ({ ciphertexts }));
      expect(decodeCiphertextGroups(encodeCiphertextGroups(groups))).toEqual(groups);
    }));
    const one = encodeCiphertextGroups([{ ciphertexts: [bytes(7, 8, 9)] }]);
    expect([...one]).toEqual([0x56, 0x46, 0x47, 0x31, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 7, 8, 9]);
  });

  test.each([
    ['no magic', bytes(1, 2, 3, 4, 0, 0, 0, 0), 'body'],
    ['a body ending inside the group count', framed().subarray(0, 6), 'group_count'],
    ['a group count the body cannot hold', framed(1_000_000_000), 'group_count'],
    ['a ciphertext count the body cannot hold', framed(1, 0xffffffff), 'groups[0].ciphertext_count'],
    ['a ciphertext longer than what remains', framed(1, 1, 100), 'groups[0].ciphertexts[0]'],
    ['bytes after the last group', new Uint8Array([...framed(1, 1, 1), 5, 6]), 'body'],
  ])('error: %s is refused naming the field', (_what, body, param) => {
    const err = (() => { try { decodeCiphertextGroups(body); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(FheFramingError);
    expect(err).toMatchObject({ code: 'invalid_argument', param });
  });

  test('any byte string either decodes or is refused as FheFramingError (never another exception)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (tail, magic) => {
      const body = magic ? new Uint8Array([0x56, 0x46, 0x47, 0x31, ...tail]) : tail;
      try {
        decodeCiphertextGroups(body);
      } catch (e) {
        expect(e).toBeInstanceOf(FheFramingError);
      }
    }));
  });
});
