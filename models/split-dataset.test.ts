import { createPrng } from './create-prng';
import { DatasetError } from './dataset-error';
import { BREAST_CANCER_SPLIT, loadBreastCancer, readBreastCancer } from './load-breast-cancer';
import { DIGITS_SPLIT, loadDigits, readDigits } from './load-digits';
import { splitDataset } from './split-dataset';
import type { Dataset } from './dataset';

const fingerprint = (ds: Dataset) => ds.features.map((r) => r.join(',')).join(';') + '|' + ds.labels.join(',');

describe('splitDataset', () => {
  test('breast cancer: 569 rows split 456/113, stratified, same on every call', () => {
    const all = readBreastCancer();
    expect(all.features).toHaveLength(569);
    expect(all.featureNames).toHaveLength(30);
    expect(all.labels.filter((l) => l === 0)).toHaveLength(212);
    const a = loadBreastCancer();
    const b = splitDataset(readBreastCancer(), BREAST_CANCER_SPLIT);
    expect(a.train.features).toHaveLength(456);
    expect(a.test.features).toHaveLength(113);
    expect(a.test.labels.filter((l) => l === 0)).toHaveLength(42);
    expect(fingerprint(a.test)).toBe(fingerprint(b.test));
    expect(fingerprint(a.train)).toBe(fingerprint(b.train));
  });

  test('digits: 1,797 rows split 1,438/359 with every digit in both halves', () => {
    const all = readDigits();
    expect(all.features).toHaveLength(1797);
    const { train, test } = loadDigits();
    expect(train.features).toHaveLength(1438);
    expect(test.features).toHaveLength(359);
    for (let c = 0; c < 10; c++) expect(test.labels.filter((l) => l === c).length).toBeGreaterThan(30);
    expect(fingerprint(splitDataset(all, DIGITS_SPLIT).test)).toBe(fingerprint(test));
  });

  test('a different seed gives a different partition', () => {
    const all = readBreastCancer();
    expect(fingerprint(splitDataset(all, { testFraction: 0.2, seed: 1 }).test)).not.toBe(fingerprint(loadBreastCancer().test));
  });

  test('error: fraction outside (0, 1) and classes too small to split', () => {
    const tiny: Dataset = { name: 'tiny', features: [new Float64Array(1), new Float64Array(1)], labels: [0, 1], classNames: ['a', 'b'] };
    expect(() => splitDataset(tiny, { testFraction: 1, seed: 1 })).toThrow(new DatasetError('dataset_invalid_split', 'testFraction must be in (0, 1), got 1'));
    expect(() => splitDataset(tiny, { testFraction: 0.2, seed: 1 })).toThrow(/tiny: class 0 \(1 rows\) cannot be split 0.2/);
  });
});

describe('createPrng', () => {
  test('is a pure function of the seed, uniform in [0, 1)', () => {
    const a = createPrng(7);
    const b = createPrng(7);
    const draws = Array.from({ length: 1000 }, () => a.next());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(Math.abs(draws.reduce((s, v) => s + v, 0) / 1000 - 0.5)).toBeLessThan(0.05);
  });

  test('error: non-integer seed', () => {
    expect(() => createPrng(0.5)).toThrow('PRNG seed must be an integer, got 0.5');
  });
});
