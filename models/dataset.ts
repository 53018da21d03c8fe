/**
 * A labelled tabular data set held in memory. Rows are Float64Array so training runs in double precision;
 * exported models are float32, and evaluations round weights to float32 first so they match onnxruntime.
 */
export type Dataset = {
  /** Registry id of the data set, e.g. `breast-cancer`. */
  name: string;
  features: Float64Array[];
  /** Class index per row, 0 ≤ label < classNames.length. */
  labels: number[];
  classNames: string[];
  featureNames?: string[];
};

/** The fixed train/test partition every consumer (training scripts, tests, CLI demo, benches) must share. */
export type DatasetSplit = { train: Dataset; test: Dataset };
