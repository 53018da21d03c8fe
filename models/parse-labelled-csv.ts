import { DatasetError } from './dataset-error';
import type { Dataset } from './dataset';

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
 * Parses a CSV whose rows are `featureCount` numbers followed by an integer class label.
 *
 * @throws {DatasetError} `dataset_malformed`, naming the file and line, for a wrong header, a row with the wrong
 * number of values, a non-finite number or a label outside the class list.
 * @example
 * parseLabelledCsv({ source: 'tiny.csv', text: '1,2,0\n3,4,1\n', name: 'tiny', featureCount: 2, classNames: ['a', 'b'], header: 'none' });
 */
export function parseLabelledCsv(params: ParseLabelledCsvParameters): Dataset {
  const { source, featureCount, classNames } = params;
  const lines = params.text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const malformed = (line: number, message: string): DatasetError =>
    new DatasetError('dataset_malformed', `${source} line ${line}: ${message}`, { source, line });

  let first = 0;
  let declaredRows: number | undefined = params.expectedRows;
  if (params.header === 'sklearn') {
    const header = (lines[0] ?? '').split(',');
    const [rows, cols, ...names] = header;
    if (Number(cols) !== featureCount || names.join(',') !== classNames.join(',') || !Number.isInteger(Number(rows))) {
      throw malformed(1, `header must be "<rows>,${featureCount},${classNames.join(',')}", got "${lines[0] ?? ''}"`);
    }
    declaredRows = Number(rows);
    first = 1;
  }

  const features: Float64Array[] = [];
  const labels: number[] = [];
  for (let i = first; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    if (cells.length !== featureCount + 1) throw malformed(i + 1, `expected ${featureCount + 1} values, got ${cells.length}`);
    const row = new Float64Array(featureCount);
    for (let j = 0; j < featureCount; j++) {
      const cell = cells[j]!.trim();
      const value = Number(cell);
      if (cell === '' || !Number.isFinite(value)) throw malformed(i + 1, `column ${j + 1} is not a finite number`);
      row[j] = value;
    }
    const labelCell = cells[featureCount]!.trim();
    const label = Number(labelCell);
    if (labelCell === '' || !Number.isInteger(label) || label < 0 || label >= classNames.length) {
      throw malformed(i + 1, `label must be an integer in [0, ${classNames.length - 1}], got "${labelCell}"`);
    }
    features.push(row);
    labels.push(label);
  }
  if (declaredRows !== undefined && features.length !== declaredRows) {
    throw new DatasetError('dataset_malformed', `${source}: expected ${declaredRows} rows, got ${features.length}`, { source });
  }
  const dataset: Dataset = { name: params.name, features, labels, classNames: [...classNames] };
  if (params.featureNames) dataset.featureNames = [...params.featureNames];
  return dataset;
}
