import { DatasetError } from './dataset-error';
import { parseLabelledCsv } from './parse-labelled-csv';
import type { ParseLabelledCsvParameters } from './parse-labelled-csv';

const base: ParseLabelledCsvParameters = { source: 'tiny.csv', text: '', name: 'tiny', featureCount: 2, classNames: ['a', 'b'], header: 'sklearn' };
const parse = (text: string, extra: Partial<ParseLabelledCsvParameters> = {}) => parseLabelledCsv({ ...base, text, ...extra });

describe('parseLabelledCsv', () => {
  test('parses a scikit-learn style file', () => {
    const ds = parse('2,2,a,b\n1.5,2,0\r\n3,-4e-1,1\n');
    expect(ds.features.map((r) => Array.from(r))).toEqual([[1.5, 2], [3, -0.4]]);
    expect(ds.labels).toEqual([0, 1]);
    expect(ds.classNames).toEqual(['a', 'b']);
  });

  test('parses a headerless file with an expected row count', () => {
    expect(parse('1,2,1\n', { header: 'none', expectedRows: 1 }).labels).toEqual([1]);
  });

  test.each([
    ['wrong header', '2,3,a,b\n1,2,0\n3,4,1\n', /^tiny.csv line 1: header must be "<rows>,2,a,b"$/],
    ['header row count not an integer', '2.5,2,a,b\n1,2,0\n3,4,1\n', /^tiny.csv line 1: header must be/],
    ['short row', '2,2,a,b\n1,2,0\n3,1\n', /^tiny.csv line 3: 2 columns, expected 3$/],
    ['not a number', '2,2,a,b\n1,x,0\n3,4,1\n', /^tiny.csv line 2, column 2: not a finite number$/],
    ['empty cell', '2,2,a,b\n1,,0\n3,4,1\n', /^tiny.csv line 2, column 2: empty cell$/],
    ['quoted cell', '2,2,a,b\n1,"2",0\n3,4,1\n', /^tiny.csv line 2, column 2: quoted field/],
    ['blank line inside', '2,2,a,b\n1,2,0\n\n3,4,1\n', /^tiny.csv line 3: blank line inside the table/],
    ['label out of range', '2,2,a,b\n1,2,2\n3,4,1\n', /^tiny.csv line 2, column 3: label must be an integer in \[0, 1\]$/],
    ['fractional label', '2,2,a,b\n1,2,0.5\n3,4,1\n', /^tiny.csv line 2, column 3: label must be an integer/],
    ['row count disagrees with header', '3,2,a,b\n1,2,0\n3,4,1\n', /^tiny.csv: expected 3 rows, got 2$/],
  ])('error: %s', (_, text, message) => {
    let error: unknown;
    try { parse(text); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).code).toBe('dataset_malformed');
    expect((error as DatasetError).message).toMatch(message);
  });
});
