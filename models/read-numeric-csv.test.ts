import fc from 'fast-check';
import { DatasetError } from './dataset-error';
import { readNumericCsv } from './read-numeric-csv';
import type { ReadNumericCsvParameters } from './read-numeric-csv';

const read = (text: string, extra: Partial<ReadNumericCsvParameters> = {}) => readNumericCsv({ source: 'in.csv', text, header: 'auto', ...extra });

function failure(text: string, extra: Partial<ReadNumericCsvParameters> = {}): DatasetError {
  try {
    read(text, extra);
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('readNumericCsv', () => {
  test('reads rows with LF, CRLF, no final newline, trailing blank lines, a byte-order mark and padded cells', () => {
    const want = { rows: [[1, -2.5], [0.5, 3e-4]], lines: [1, 2] };
    expect(read('1,-2.5\n.5,3e-4\n')).toEqual(want);
    expect(read('1,-2.5\r\n.5,3e-4\r\n')).toEqual(want);
    expect(read('1,-2.5\n.5,3e-4')).toEqual(want);
    expect(read('1,-2.5\n.5,3e-4\n\n \r\n')).toEqual(want);
    expect(read('\ufeff1,-2.5\n.5,3e-4\n')).toEqual(want);
    expect(read(' 1 ,\t-2.5\n+.5 , 3E-4\n')).toEqual(want);
  });

  test('auto: a first line of names is a header, returned apart from the rows; lines count from the file', () => {
    expect(read('mean radius,texture\r\n1,2\r\n3,4\r\n')).toEqual({ header: ['mean radius', 'texture'], rows: [[1, 2], [3, 4]], lines: [2, 3] });
  });

  test('required: the first line is a header whatever it holds; headerColumns any lets it differ from the rows', () => {
    expect(read('2,2,a,b\n1,2,0\n3,4,1\n', { header: 'required', headerColumns: 'any' })).toEqual({
      header: ['2', '2', 'a', 'b'], rows: [[1, 2, 0], [3, 4, 1]], lines: [2, 3],
    });
  });

  test('none: every line is a data row, so a line of names is refused', () => {
    expect(failure('a,b\n1,2\n', { header: 'none' }).message).toBe('in.csv line 1, column 1: not a finite number');
  });

  test('columns: the first row must have that many cells too', () => {
    expect(read('1,2,3\n', { columns: 3 }).rows).toEqual([[1, 2, 3]]);
    expect(failure('1,2,3\n', { columns: 30 }).message).toBe('in.csv line 1: 3 columns, expected 30');
    expect(failure('a,b\n1,2\n', { columns: 2, headerColumns: 3 }).message).toBe('in.csv line 1: header has 2 columns, expected 3');
  });

  // Feature files are user data: every message names the position, never the content (4711 is in every bad cell).
  test.each([
    ['empty cell', '1,2\n3,\n', 'in.csv line 2, column 2: empty cell'],
    ['empty first cell of the first row', ',4711\n1,2\n', 'in.csv line 1, column 1: empty cell'],
    ['a word', '1,2\n3,x4711\n', 'in.csv line 2, column 2: not a finite number'],
    ['NaN', '1,2\nNaN,4711\n', 'in.csv line 2, column 1: not a finite number'],
    ['Infinity', '1,2\n4711,-Infinity\n', 'in.csv line 2, column 2: not a finite number'],
    ['hex', '1,2\n0x4711,1\n', 'in.csv line 2, column 1: not a finite number'],
    ['digit separator', '1,2\n4_711,1\n', 'in.csv line 2, column 1: not a finite number'],
    ['two numbers in a cell', '1,2\n47 11,1\n', 'in.csv line 2, column 1: not a finite number'],
    ['beyond double range', '1,2\n4711e400,1\n', 'in.csv line 2, column 1: not a finite number'],
    ['short row', '1,2\n4711\n', 'in.csv line 2: 1 column, expected 2'],
    ['long row', '1,2\n3,4,4711\n', 'in.csv line 2: 3 columns, expected 2'],
    ['blank line inside the table', '1,2\n\n3,4711\n', 'in.csv line 2: blank line inside the table (a missing row?)'],
    ['quoted data cell', '1,2\n3,"4711"\n', 'in.csv line 2, column 2: quoted field: only plain numeric CSV is read (export without quotes)'],
    ['quoted header cell', 'a,"b,4711"\n1,2\n', 'in.csv line 1, column 2: quoted field: only plain numeric CSV is read (export without quotes)'],
    ['first line mixing names and numbers', '1,x4711\n1,2\n', 'in.csv line 1: mixes names and numbers (column 2 is not a number): a header needs a name in every column, a data row a number in every column'],
    ['header narrower than the rows', 'a\n1,4711\n', 'in.csv line 1: header has 1 column, expected 2'],
    ['empty header cell (required header)', 'a,,b\n1,2,4711\n', 'in.csv line 1, column 2: empty header cell'],
    ['no rows at all', '', 'in.csv: no data rows'],
    ['only blank lines', '\r\n\n  \n', 'in.csv: no data rows'],
    ['a header and no rows', 'a4711,b\n', 'in.csv: no data rows'],
  ])('error: %s', (name, text, message) => {
    const err = failure(text, name.includes('required') ? { header: 'required' } : {});
    expect(err.code).toBe('dataset_malformed');
    expect(err.message).toBe(message);
    expect(err.message).not.toContain('4711');
    const match = /line (\d+)(?:, column (\d+))?/.exec(message);
    expect(err.details).toEqual({ source: 'in.csv', line: match ? Number(match[1]) : undefined, column: match?.[2] ? Number(match[2]) : undefined });
  });

  test('any table of finite doubles round-trips, with either line ending and an optional header', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));
    const table = fc.integer({ min: 1, max: 6 }).chain((width) => fc.array(fc.array(finite, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 }));
    fc.assert(fc.property(table, fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.boolean(), (rows, eol, withHeader, finalEol) => {
      const header = withHeader ? [rows[0]!.map((_, j) => `feature ${j}`).join(',')] : [];
      const text = [...header, ...rows.map((r) => r.join(','))].join(eol) + (finalEol ? eol : '');
      const csv = read(text);
      expect(csv.rows).toEqual(rows);
      expect(csv.header !== undefined).toBe(withHeader);
      expect(csv.lines[0]).toBe(withHeader ? 2 : 1);
    }), { seed: 9, numRuns: 200 });
  });

  // At least two columns: a lone empty cell would be a blank line, refused as such (tested above).
  test('one bad cell anywhere is refused at its line and column', () => {
    const shape = fc.record({ width: fc.integer({ min: 2, max: 5 }), height: fc.integer({ min: 1, max: 6 }) })
      .chain(({ width, height }) => fc.record({ width: fc.constant(width), height: fc.constant(height), row: fc.nat(height - 1), column: fc.nat(width - 1), bad: fc.constantFrom('', 'x', 'NaN', '1..2', '--1', '1e', 'e1', '.') }));
    fc.assert(fc.property(shape, ({ width, height, row, column, bad }) => {
      const rows = Array.from({ length: height }, (_, i) => Array.from({ length: width }, (_, j) => String(i * width + j)));
      rows[row]![column] = bad;
      const err = failure(rows.map((r) => r.join(',')).join('\n'), { header: 'none' });
      expect(err.details).toEqual({ source: 'in.csv', line: row + 1, column: column + 1 });
    }), { seed: 9, numRuns: 200 });
  });
});
