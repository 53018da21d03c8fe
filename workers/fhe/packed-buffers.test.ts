import { packGroups, unpackGroups } from './packed-buffers';

test('packGroups copies views of shared buffers into one transferable buffer and unpacks them in order', () => {
  const shared = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const groups = [[shared.subarray(0, 2), shared.subarray(2, 5)], [shared.subarray(5, 6), shared.subarray(6, 9)]];
  const packed = packGroups(groups);
  expect(packed.buffer.byteLength).toBe(9);
  expect(packed.buffer).not.toBe(shared.buffer);
  expect(unpackGroups(packed).map((g) => g.map((c) => Array.from(c)))).toEqual([[[1, 2], [3, 4, 5]], [[6], [7, 8, 9]]]);
  expect(unpackGroups(packGroups([]))).toEqual([]);
});
