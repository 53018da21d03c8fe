import { DEFAULT_OUTPUT_PRECISION, protectDecryptedOutputs } from './protect-decrypted-outputs';

const raw = () => Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 + 1e-7 * i);

test('by default every value lands on the 2^-12 grid, within 5e-4 of the raw value', () => {
  const before = raw();
  const after = protectDecryptedOutputs(raw());
  const grid = 2 ** -DEFAULT_OUTPUT_PRECISION.gridBits;
  let maxShift = 0;
  after.forEach((v, i) => {
    expect(Number.isInteger(v / grid)).toBe(true);
    maxShift = Math.max(maxShift, Math.abs(v - before[i]!));
  });
  expect(maxShift).toBeLessThan(5e-4);
  expect(maxShift).toBeGreaterThan(0);
});

test('the flooding noise is random: the same input does not always round the same way near a grid boundary', () => {
  const boundary = 2 ** -13; // exactly half a grid step
  const outcomes = new Set(Array.from({ length: 64 }, () => protectDecryptedOutputs(Float64Array.of(boundary))[0]));
  expect(outcomes.size).toBeGreaterThan(1);
});

test('"full" opts out: values come back bit for bit', () => {
  const before = raw();
  expect(Array.from(protectDecryptedOutputs(raw(), 'full'))).toEqual(Array.from(before));
});

test('error: bits outside 1–52 are refused', () => {
  expect(() => protectDecryptedOutputs(raw(), { gridBits: 0, noiseBits: 14 })).toThrow(RangeError);
  expect(() => protectDecryptedOutputs(raw(), { gridBits: 12, noiseBits: 60 })).toThrow(RangeError);
});
