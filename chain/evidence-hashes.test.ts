import { keccak256 } from 'viem';
import { evidenceHash, hpkeKeyHash } from './evidence-hashes';

test('evidence and HPKE key hashes are keccak256 of the raw bytes', () => {
  expect(evidenceHash(new Uint8Array([1, 2, 3]))).toBe(keccak256(new Uint8Array([1, 2, 3])));
  expect(hpkeKeyHash(new Uint8Array(32))).toBe(keccak256(new Uint8Array(32)));
  expect(evidenceHash(new Uint8Array([1]))).not.toBe(evidenceHash(new Uint8Array([2])));
});
