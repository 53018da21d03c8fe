import { DatasetError } from './dataset-error';
import type { Dataset } from './dataset';
import { readNumericCsv } from './read-numeric-csv';

export type ParseLabelledCsvParameters = {
  /** File name used in error messages. */
  source: string;
  text: string;
  name: string;
  featureCount: number;
  classNames: string[];
  /**
   * `sklearn`: first line is `n_samples,n_features,class names...` (scikit-learn's bundled CSV format), checked
   * against the parameters and the rows that follow. `none`: every line is a data row.
   */
  header: 'sklearn' | 'none';
  /** Rows the file must contain (guards against a truncated copy when there is no header). */
  expectedRows?: number;
  featureNames?: string[];
};

/**
 * Parses a CSV whose rows are `featureCount` numbers followed by an integer class label, by Veil's one CSV rule
 * ({@link readNumericCsv}: empty, quoted or non-numeric cells, ragged rows and blank lines inside are refused).
 *
 * @throws {DatasetError} `dataset_malformed`, naming the file, line and column (never a cell's content), for a wrong
 * header, a malformed cell or row, a label outside the class list, or a row count other than the expected one.
 * @example
 * parseLabelledCsv({ source: 'tiny.csv', text: '1,2,0\n3,4,1\n', name: 'tiny', featureCount: 2, classNames: ['a', 'b'], header: 'none' });
 */
export function parseLabelledCsv(params: ParseLabelledCsvParameters): Dataset {
  const { source, featureCount, classNames } = params;
  const csv = readNumericCsv({
    source, text: params.text, header: params.header === 'sklearn' ? 'required' : 'none', columns: featureCount + 1, headerColumns: 'any',
  });

  let declaredRows: number | undefined = params.expectedRows;
  if (params.header === 'sklearn') {
    const [rows, cols, ...names] = csv.header!;
    if (Number(cols) !== featureCount || names.join(',') !== classNames.join(',') || !/^\d+$/.test(rows ?? '')) {
      throw new DatasetError('dataset_malformed', `${source} line 1: header must be "<rows>,${featureCount},${classNames.join(',')}"`, { source, line: 1 });
    }
    declaredRows = Number(rows);
  }

  const features: Float64Array[] = [];
  const labels: number[] = [];
  csv.rows.forEach((cells, i) => {
    const label = cells[featureCount]!;
    if (!Number.isInteger(label) || label < 0 || label >= classNames.length) {
      const line = csv.lines[i]!;
      throw new DatasetError('dataset_malformed', `${source} line ${line}, column ${featureCount + 1}: label must be an integer in [0, ${classNames.length - 1}]`, { source, line, column: featureCount + 1 });
    }
    features.push(Float64Array.from(cells.slice(0, featureCount)));
    labels.push(label);
  });
  if (declaredRows !== undefined && features.length !== declaredRows) {
    throw new DatasetError('dataset_malformed', `${source}: expected ${declaredRows} rows, got ${features.length}`, { source });
  }
  const dataset: Dataset = { name: params.name, features, labels, classNames: [...classNames] };
  if (params.featureNames) dataset.featureNames = [...params.featureNames];
  return dataset;
}
