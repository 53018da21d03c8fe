import fs from 'node:fs';
import path from 'node:path';
import { parseLabelledCsv } from './parse-labelled-csv';
import { splitDataset } from './split-dataset';
import type { Dataset, DatasetSplit } from './dataset';
import type { SplitDatasetOptions } from './split-dataset';

export const DIGITS_CSV = path.join(__dirname, 'data', 'digits.csv');

/** The split every consumer shares: stratified 80/20, fixed seed (1,438 train / 359 test rows). */
export const DIGITS_SPLIT: Readonly<SplitDatasetOptions> = Object.freeze({ testFraction: 0.2, seed: 20_251_125 });

/** Pixel names in file order: row-major 8×8, `pixel_<row>_<col>` as scikit-learn names them. */
export const DIGITS_FEATURE_NAMES: readonly string[] = Object.freeze(
  Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`),
);

/**
 * Reads all 1,797 8×8 handwritten digits (64 pixel counts in 0..16, row-major; label = the digit 0–9).
 *
 * @throws {DatasetError} `dataset_malformed` if the bundled file was altered.
 */
export function readDigits(): Dataset {
  return parseLabelledCsv({
    source: 'digits.csv',
    text: fs.readFileSync(DIGITS_CSV, 'utf8'),
    name: 'digits',
    featureCount: 64,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    header: 'none',
    expectedRows: 1797,
    featureNames: [...DIGITS_FEATURE_NAMES],
  });
}

/**
 * The digits data split with {@link DIGITS_SPLIT}; the models were trained on `train` and their reported accuracy is on `test`.
 *
 * @example
 * const { test } = loadDigits();
 * test.features[0]!.length; // 64
 */
export function loadDigits(): DatasetSplit {
  return splitDataset(readDigits(), DIGITS_SPLIT);
}
