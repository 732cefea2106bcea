/**
 * The feature code: reading a numeric CSV, splitting off the label, and standardizing columns.
 * Pure functions (no file access), so the unit tests exercise exactly what training runs.
 */

/** A numeric table read from CSV: column names and rows of numbers, in file order. */
export interface NumericTable {
  columns: string[];
  rows: number[][];
}

/** Features and labels ready for training. */
export interface Dataset {
  /** Feature column names, in the order of `features` rows (and of the model input). */
  featureNames: string[];
  features: number[][];
  /** 0 or 1 per row. */
  labels: number[];
}

/** Per-column statistics of the training features, baked into the model as its standardization. */
export interface ColumnStatistics {
  mean: number[];
  /** Population standard deviation (divides by n, as scikit-learn's StandardScaler does); 1 for a constant column. */
  std: number[];
}

/** A mistake in the input data, with where it is: `source` (file name), 1-based `line` and the column. */
export class DataError extends Error {
  override name = 'DataError';
  readonly source: string;
  readonly line: number | undefined;
  readonly column: string | undefined;

  constructor(message: string, where: { source: string; line?: number; column?: string }) {
    const location = [
      where.source,
      where.line === undefined ? undefined : `line ${where.line}`,
      where.column === undefined ? undefined : `column "${where.column}"`,
    ]
      .filter(Boolean)
      .join(', ');
    super(`${location}: ${message}`);
    this.source = where.source;
    this.line = where.line;
    this.column = where.column;
  }
}

/**
 * Parses a CSV of numbers with a header line. Accepts LF or CRLF line ends, a UTF-8 byte order
 * mark and a final newline. Fields are not quoted (the data has no commas inside values); every
 * cell must be a finite number. Throws `DataError` naming the line and column of the first bad cell.
 */
export function parseNumericCsv(text: string, source = 'data'): NumericTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0 || lines[0].trim() === '') {
    throw new DataError('the file is empty; expected a header line with the column names.', {
      source,
      line: 1,
    });
  }
  const columns = lines[0].split(',').map((name) => name.trim());
  const seen = new Set<string>();
  columns.forEach((name, index) => {
    if (name === '')
      throw new DataError(`header field ${index + 1} is empty; name every column.`, { source, line: 1 });
    if (name.includes('"')) {
      throw new DataError(`quoted fields are not supported (column ${index + 1}: ${name}).`, {
        source,
        line: 1,
      });
    }
    if (seen.has(name))
      throw new DataError(`column "${name}" appears twice in the header.`, { source, line: 1 });
    seen.add(name);
  });
  const rows: number[][] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = index + 1;
    const cells = lines[index].split(',');
    if (cells.length !== columns.length) {
      throw new DataError(
        `${cells.length} fields, but the header has ${columns.length}${lines[index] === '' ? ' (an empty line)' : ''}.`,
        { source, line },
      );
    }
    const row = new Array<number>(cells.length);
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c].trim();
      // Number('') is 0: an empty cell must not silently become a measurement of zero.
      const value = cell === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(value)) {
        throw new DataError(
          cell === ''
            ? 'the value is missing; this trainer needs complete rows (impute or drop the row first).'
            : `"${cell}" is not a finite number.`,
          { source, line, column: columns[c] },
        );
      }
      row[c] = value;
    }
    rows.push(row);
  }
  if (rows.length === 0) throw new DataError('the file has a header but no rows.', { source, line: 2 });
  return { columns, rows };
}

/**
 * Splits a table into features (every column but `target`, in file order: the order the model
 * gate feeds them) and 0/1 labels. Throws `DataError` for a missing target column or a label
 * other than 0 or 1.
 */
export function splitTarget(table: NumericTable, target: string, source = 'data'): Dataset {
  const targetIndex = table.columns.indexOf(target);
  if (targetIndex === -1) {
    throw new DataError(
      `there is no target column "${target}"; columns: ${table.columns.join(', ')}. Pass the label column with --target.`,
      { source, line: 1 },
    );
  }
  if (table.columns.length < 2) {
    throw new DataError('there are no feature columns besides the target.', { source, line: 1 });
  }
  const featureNames = table.columns.filter((_, index) => index !== targetIndex);
  const features: number[][] = [];
  const labels: number[] = [];
  table.rows.forEach((row, index) => {
    const label = row[targetIndex];
    if (label !== 0 && label !== 1) {
      // Line numbers count the header: row 0 is on line 2.
      throw new DataError(`the label is ${label}; binary classification needs 0 or 1.`, {
        source,
        line: index + 2,
        column: target,
      });
    }
    labels.push(label);
    features.push(row.filter((_, column) => column !== targetIndex));
  });
  return { featureNames, features, labels };
}

/**
 * Mean and population standard deviation of every column (two passes, for accuracy). A constant
 * column gets std 1, so standardizing maps it to 0 instead of dividing by zero.
 */
export function columnStatistics(rows: readonly (readonly number[])[]): ColumnStatistics {
  if (rows.length === 0) throw new Error('columnStatistics: no rows.');
  const width = rows[0].length;
  const mean = new Array<number>(width).fill(0);
  for (const row of rows) for (let c = 0; c < width; c++) mean[c] += row[c];
  for (let c = 0; c < width; c++) mean[c] /= rows.length;
  const variance = new Array<number>(width).fill(0);
  for (const row of rows) {
    for (let c = 0; c < width; c++) variance[c] += (row[c] - mean[c]) ** 2;
  }
  const std = variance.map((sum) => {
    const value = Math.sqrt(sum / rows.length);
    return value > 0 ? value : 1;
  });
  return { mean, std };
}

/** (x − mean) / std per column: the same arithmetic the ONNX graph's Sub and Div nodes do. */
export function standardize(rows: readonly (readonly number[])[], statistics: ColumnStatistics): number[][] {
  return rows.map((row) => {
    if (row.length !== statistics.mean.length) {
      throw new Error(
        `standardize: a row has ${row.length} values, the statistics ${statistics.mean.length}.`,
      );
    }
    return row.map((value, c) => (value - statistics.mean[c]) / statistics.std[c]);
  });
}
