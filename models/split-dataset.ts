import { createPrng, shuffleInPlace } from './create-prng';
import { DatasetError } from './dataset-error';
import type { Dataset, DatasetSplit } from './dataset';

export type SplitDatasetOptions = {
  /** Fraction of each class that goes to the test set, in (0, 1). */
  testFraction: number;
  seed: number;
};

/**
 * Deterministic stratified split: each class's row indices are shuffled with a seeded PRNG (classes in label
 * order, one PRNG for all) and the first `round(count × testFraction)` go to the test set. Both halves keep the
 * file's row order, so the split is a pure function of (dataset, options) and never depends on the caller.
 *
 * @throws {DatasetError} `dataset_invalid_split` if the fraction is outside (0, 1) or a class would end up empty on one side.
 * @example
 * const { train, test } = splitDataset(dataset, { testFraction: 0.2, seed: 1 });
 */
export function splitDataset(dataset: Dataset, options: SplitDatasetOptions): DatasetSplit {
  const { testFraction, seed } = options;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new DatasetError('dataset_invalid_split', `testFraction must be in (0, 1), got ${testFraction}`);
  }
  const prng = createPrng(seed);
  const isTest = new Uint8Array(dataset.labels.length);
  for (let c = 0; c < dataset.classNames.length; c++) {
    const rows: number[] = [];
    dataset.labels.forEach((label, i) => { if (label === c) rows.push(i); });
    const testCount = Math.round(rows.length * testFraction);
    if (testCount === 0 || testCount === rows.length) {
      throw new DatasetError('dataset_invalid_split', `${dataset.name}: class ${c} (${rows.length} rows) cannot be split ${testFraction}`, { dataset: dataset.name, class: c });
    }
    for (const i of shuffleInPlace(rows, prng).slice(0, testCount)) isTest[i] = 1;
  }
  const pick = (want: number): Dataset => {
    const rows = dataset.labels.map((_, i) => i).filter((i) => isTest[i] === want);
    const subset: Dataset = {
      name: dataset.name,
      features: rows.map((i) => dataset.features[i]!),
      labels: rows.map((i) => dataset.labels[i]!),
      classNames: dataset.classNames,
    };
    if (dataset.featureNames) subset.featureNames = dataset.featureNames;
    return subset;
  };
  return { train: pick(0), test: pick(1) };
}
