/**
 * Opens a data file as a {@link TableReader}: checks the file, picks the format from the
 * extension (or the `format` option) and hands over to the CSV, JSONL or Parquet reader.
 * Gzip is recognised by its magic bytes, so `data.csv` that is really gzip reads fine too.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ConfigurationError, InputError } from '../errors.ts';
import { type ReadOptions, TABLE_FORMATS, type TableFormat, type TableReader } from './batch.ts';
import { isGzipMagic, readFileHead } from './read-bytes.ts';
import { openCsv } from './read-csv.ts';
import { openJsonl } from './read-jsonl.ts';

/** {@link ReadOptions} plus internal knobs that tests use. */
export interface OpenTableOptions extends ReadOptions {
  /** Bytes per read of CSV and JSONL files (internal: tests use tiny chunks to hit chunk boundaries). */
  chunkSize?: number;
}

/** File name endings the readers recognise (each may be followed by `.gz`, except Parquet's). */
export const TABLE_EXTENSIONS: Readonly<Record<string, TableFormat>> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

const SUPPORTED =
  '.csv, .tsv, .txt, .jsonl, .ndjson, .parquet, .pq (CSV and JSONL optionally gzip-compressed: .csv.gz, .jsonl.gz, …)';

/** What a file name says about its content. */
export interface InferredFormat {
  format: TableFormat;
  /** Default CSV delimiter for the extension (tab for `.tsv`). */
  delimiter?: string;
  /** True when the name ends with `.gz`. */
  gzipName: boolean;
}

/**
 * Infers the format from a file name (`.csv`, `.tsv`, `.txt`, `.jsonl`, `.ndjson`, `.parquet`,
 * `.pq`, each optionally followed by `.gz`). Throws `InputError` for `.json` (suggesting JSONL)
 * and for unknown extensions (listing the supported ones and the `format` option).
 */
export function inferTableFormat(path: string): InferredFormat {
  const name = basename(path).toLowerCase();
  const gzipName = name.endsWith('.gz');
  const stem = gzipName ? name.slice(0, -3) : name;
  const dot = stem.lastIndexOf('.');
  const extension = dot > 0 ? stem.slice(dot) : '';
  const format = TABLE_EXTENSIONS[extension];
  if (format !== undefined) return { format, delimiter: extension === '.tsv' ? '\t' : undefined, gzipName };
  if (extension === '.json') {
    throw new InputError(
      `${path}: JSON files are not supported as tables; expected JSON Lines (one JSON object per line). ` +
        'If the file already has one object per line, rename it to .jsonl (or set the format option: format: jsonl); ' +
        `if it is one JSON array, convert it, e.g. \`jq -c '.[]' ${basename(path)} > data.jsonl\`.`,
      { file: path },
    );
  }
  const found = extension === '' ? 'it has no extension' : `"${extension}" is not a known extension`;
  throw new InputError(
    `Cannot tell the format of ${path}: ${found}. Supported: ${SUPPORTED}. ` +
      `Rename the file, or set the format option (format: ${TABLE_FORMATS.join(' | ')}).`,
    { file: path },
  );
}

/**
 * Opens a table for streaming. Checks that `path` is an existing file, infers the format from its
 * extension unless `options.format` is set, detects gzip by its magic bytes, and reads what the
 * format needs up front (the CSV header, the first JSONL batch, the Parquet footer) so that
 * `columns` is filled. Zero data rows is not an error here; an empty CSV file (no header) is.
 * Throws `InputError` (naming the file) for a missing file, an unknown format or unreadable data.
 */
export async function openTable(path: string, options: OpenTableOptions = {}): Promise<TableReader> {
  const resolved = resolve(path);
  await checkFile(path, resolved);
  let format: TableFormat;
  let delimiter = options.delimiter;
  if (options.format !== undefined) {
    if (!TABLE_FORMATS.includes(options.format)) {
      throw new ConfigurationError(
        `Unknown table format ${JSON.stringify(options.format)}: expected one of ${TABLE_FORMATS.join(', ')}.`,
        { key: 'format' },
      );
    }
    format = options.format;
    try {
      delimiter ??= inferTableFormat(path).delimiter;
    } catch {
      // The format option overrides whatever the name says.
    }
  } else {
    const inferred = inferTableFormat(path);
    format = inferred.format;
    delimiter ??= inferred.delimiter;
  }
  const batchRows = options.batchRows;
  if (batchRows !== undefined && !(Number.isInteger(batchRows) && batchRows > 0)) {
    throw new ConfigurationError(`batchRows must be a positive integer, got ${batchRows}.`, {
      key: 'batchRows',
    });
  }
  if (format === 'parquet') {
    if (isGzipMagic(await readFileHead(resolved, 2))) {
      throw new InputError(
        `${path} is gzip-compressed, which Parquet files never are: Parquet compresses its pages inside the file ` +
          '(snappy, gzip, zstd, …). Decompress it first (`gunzip`); to make Parquet files smaller, pick a codec ' +
          "when writing them (e.g. pandas `to_parquet(..., compression='zstd')`).",
        { file: path },
      );
    }
    // Loaded on demand: the Parquet decoders are a third of the bundle and most runs read CSV.
    const { openParquet } = await import('./read-parquet.ts');
    return openParquet(resolved, path, { batchRows });
  }
  if (format === 'jsonl') return openJsonl(resolved, path, { batchRows, chunkSize: options.chunkSize });
  return openCsv(resolved, path, { delimiter, batchRows, chunkSize: options.chunkSize });
}

async function checkFile(path: string, resolved: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(resolved);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new InputError(
        `Data file ${path} not found (looked for ${resolved}). Check the path and the working directory.`,
        {
          file: path,
        },
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new InputError(`Data file ${path} cannot be read: permission denied (${resolved}).`, {
        file: path,
      });
    }
    throw error;
  }
  if (!info.isFile()) {
    throw new InputError(
      `Data file ${path} is ${info.isDirectory() ? 'a directory' : 'not a regular file'} (${resolved}); expected a CSV, JSONL or Parquet file.`,
      { file: path },
    );
  }
}
