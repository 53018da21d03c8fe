import { DatasetError } from './dataset-error';

/*
 * Veil's one CSV rule. Every CSV Veil reads is a plain table of numbers (the bundled data sets, `veil fhe check
 * --input`, `veil demo --mode tee --input`), and no CSV parser is installed, so this is a small strict reader for
 * exactly that, not a general RFC 4180 parser:
 *
 * - records end with LF or CRLF; a leading UTF-8 byte-order mark and trailing blank lines are ignored;
 * - cells are separated by commas and trimmed of spaces and tabs; there is no quoting (a `"` anywhere is refused:
 *   numbers never need quotes, and half-supporting them would split `"a,b"` wrongly);
 * - a data cell is a decimal number (`-1`, `2.5`, `.5`, `3e-4`; no hex, `NaN`, `Infinity` or empty cell) that is
 *   finite as a double;
 * - every data row has the same number of cells; a blank line inside the table is refused (it is a missing row);
 * - an optional header: with `auto`, the first line is a header when every cell in it is a name (non-empty, not a
 *   number). A first line that mixes names and numbers is refused rather than guessed at, so a typo in the first
 *   data row is never silently dropped as a "header".
 *
 * Feature files are user data and may be private: messages name the file, line and column, never a cell's content.
 */

/** The decimal notation a data cell must have; `Number()` alone would also accept '', '0x1f', 'Infinity', '1_0'. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const columns = (n: number) => `${n} column${n === 1 ? '' : 's'}`;

export type ReadNumericCsvParameters = {
  /** Names the input in error messages (a file name). */
  source: string;
  text: string;
  /**
   * `auto`: the first line is a header when every cell in it is a name; `required`: the first line is a header
   * whatever it holds (its cells are returned as text); `none`: every line is a data row.
   */
  header: 'auto' | 'required' | 'none';
  /** Cells every data row must have; default: as many as the first data row. */
  columns?: number;
  /** Cells the header must have: a number, or `any` for a header that is not column names; default: the rows' width. */
  headerColumns?: number | 'any';
};

export type NumericCsv = {
  /** The header's cells (trimmed), when the file has one. */
  header?: string[];
  rows: number[][];
  /** The 1-based file line of each row, for callers that check cells further (e.g. a label column). */
  lines: number[];
};

/**
 * Reads a plain numeric CSV table by the rule above.
 *
 * @throws {DatasetError} `dataset_malformed` with `details` `{ source, line, column }`: an empty or non-numeric cell,
 * a quoted field, a row (or header) with the wrong number of cells, a blank line inside the table, or no data rows.
 * @example
 * readNumericCsv({ source: 'in.csv', text: 'x,y\r\n1,2\r\n3,4\r\n', header: 'auto' });
 * // { header: ['x', 'y'], rows: [[1, 2], [3, 4]], lines: [2, 3] }
 */
export function readNumericCsv(params: ReadNumericCsvParameters): NumericCsv {
  const { source } = params;
  const malformed = (message: string, line?: number, column?: number): DatasetError => {
    const where = line === undefined ? '' : column === undefined ? ` line ${line}` : ` line ${line}, column ${column}`;
    return new DatasetError('dataset_malformed', `${source}${where}: ${message}`, { source, line, column });
  };

  const text = params.text.charCodeAt(0) === 0xfeff ? params.text.slice(1) : params.text;
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();

  const cellsOf = (index: number): string[] => {
    const line = lines[index]!;
    if (line.trim() === '') throw malformed('blank line inside the table (a missing row?)', index + 1);
    const cells = line.split(',').map((c) => c.trim());
    const quoted = cells.findIndex((c) => c.includes('"'));
    if (quoted >= 0) throw malformed('quoted field: only plain numeric CSV is read (export without quotes)', index + 1, quoted + 1);
    return cells;
  };

  let header: string[] | undefined;
  let first = 0;
  if (params.header !== 'none' && lines.length > 0) {
    const cells = cellsOf(0);
    const empty = cells.findIndex((c) => c === '');
    const isName = (c: string) => c !== '' && !DECIMAL.test(c);
    if (params.header === 'required' || cells.every(isName)) {
      if (empty >= 0) throw malformed('empty header cell', 1, empty + 1);
      header = cells;
      first = 1;
    } else if (cells.some(isName) && cells.some((c) => DECIMAL.test(c))) {
      throw malformed(`mixes names and numbers (column ${cells.findIndex(isName) + 1} is not a number): a header needs a name in every column, a data row a number in every column`, 1);
    }
  }

  const width = params.columns ?? (first < lines.length ? cellsOf(first).length : 0);
  const rows: number[][] = [];
  const rowLines: number[] = [];
  for (let i = first; i < lines.length; i++) {
    const cells = cellsOf(i);
    if (cells.length !== width) throw malformed(`${columns(cells.length)}, expected ${width}`, i + 1);
    rows.push(cells.map((cell, j) => {
      if (cell === '') throw malformed('empty cell', i + 1, j + 1);
      const value = Number(cell);
      if (!DECIMAL.test(cell) || !Number.isFinite(value)) throw malformed('not a finite number', i + 1, j + 1);
      return value;
    }));
    rowLines.push(i + 1);
  }
  if (rows.length === 0) throw malformed('no data rows');
  const headerWidth = params.headerColumns ?? width;
  if (header && headerWidth !== 'any' && header.length !== headerWidth) {
    throw malformed(`header has ${columns(header.length)}, expected ${headerWidth}`, 1);
  }
  return header ? { header, rows, lines: rowLines } : { rows, lines: rowLines };
}
