import fs from 'node:fs';
import path from 'node:path';
import { parseLabelledCsv } from './parse-labelled-csv';
import { splitDataset } from './split-dataset';
import type { Dataset, DatasetSplit } from './dataset';
import type { SplitDatasetOptions } from './split-dataset';

export const BREAST_CANCER_CSV = path.join(__dirname, 'data', 'breast_cancer.csv');

/** The split every consumer shares: stratified 80/20, fixed seed (456 train / 113 test rows). */
export const BREAST_CANCER_SPLIT: Readonly<SplitDatasetOptions> = Object.freeze({ testFraction: 0.2, seed: 20_251_125 });

const MEASURES = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension'];

/** Column names in file order, as scikit-learn names them: 10 means, 10 standard errors, 10 "worst" values. */
export const BREAST_CANCER_FEATURE_NAMES: readonly string[] = Object.freeze([
  ...MEASURES.map((m) => `mean ${m}`),
  ...MEASURES.map((m) => `${m} error`),
  ...MEASURES.map((m) => `worst ${m}`),
]);

/**
 * Reads all 569 rows of the Wisconsin diagnostic breast cancer data (30 features; label 0 = malignant, 1 = benign).
 *
 * @throws {DatasetError} `dataset_malformed` if the bundled file was altered.
 */
export function readBreastCancer(): Dataset {
  return parseLabelledCsv({
    source: 'breast_cancer.csv',
    text: fs.readFileSync(BREAST_CANCER_CSV, 'utf8'),
    name: 'breast-cancer',
    featureCount: 30,
    classNames: ['malignant', 'benign'],
    header: 'sklearn',
    featureNames: [...BREAST_CANCER_FEATURE_NAMES],
  });
}

/**
 * The breast cancer data split with {@link BREAST_CANCER_SPLIT}; the model was trained on `train` and its reported
 * accuracy is on `test`.
 *
 * @example
 * const { test } = loadBreastCancer();
 * test.features.length; // 113
 */
export function loadBreastCancer(): DatasetSplit {
  return splitDataset(readBreastCancer(), BREAST_CANCER_SPLIT);
}
