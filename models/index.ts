// Public face of models/: bundled data sets with their fixed splits, the bundled ONNX models, and their builders.
export type { Dataset, DatasetSplit } from './dataset';
export { DatasetError } from './dataset-error';
export type { DatasetErrorCode } from './dataset-error';
export { parseLabelledCsv } from './parse-labelled-csv';
export type { ParseLabelledCsvParameters } from './parse-labelled-csv';
export { splitDataset } from './split-dataset';
export type { SplitDatasetOptions } from './split-dataset';
export { createPrng, shuffleInPlace } from './create-prng';
export type { Prng } from './create-prng';
export { BREAST_CANCER_CSV, BREAST_CANCER_FEATURE_NAMES, BREAST_CANCER_SPLIT, loadBreastCancer, readBreastCancer } from './load-breast-cancer';
export { DIGITS_CSV, DIGITS_FEATURE_NAMES, DIGITS_SPLIT, loadDigits, readDigits } from './load-digits';
export { loadDataset } from './load-dataset';
export type { DatasetId } from './load-dataset';
export { BUNDLED_MODELS, MODELS_DIR, isBundledModelId } from './bundled-models';
export type { BundledModel, BundledModelId, BundledModelMode, BundledModelTask } from './bundled-models';
export { buildBreastCancerLr, BREAST_CANCER_LR_L2 } from './build-breast-cancer-lr';
export type { BreastCancerLrBuild, BreastCancerLrReport } from './build-breast-cancer-lr';
export { argmax, runOnnxModel } from './run-onnx-model';
