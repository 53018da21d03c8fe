import { loadBreastCancer } from './load-breast-cancer';
import { loadDigits } from './load-digits';
import type { DatasetSplit } from './dataset';

export type DatasetId = 'breast-cancer' | 'digits';

const LOADERS = { 'breast-cancer': loadBreastCancer, digits: loadDigits } as const satisfies Record<DatasetId, () => DatasetSplit>;

/**
 * The fixed train/test split of a bundled data set by id (the `dataset` field of a `BUNDLED_MODELS` entry).
 *
 * @example
 * const { test } = loadDataset(BUNDLED_MODELS['breast-cancer-lr'].dataset);
 */
export function loadDataset(id: DatasetId): DatasetSplit {
  return LOADERS[id]();
}
