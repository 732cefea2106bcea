/**
 * Streaming CSV reader (RFC 4180) producing `TextColumn` batches.
 *
 * The file is read in large chunks into one growable byte buffer and tokenized at byte level:
 * a cell is a `[start, end)` pair into that buffer, so no string and no object is made per cell.
 * Memory is constant in the number of rows: the buffer holds one batch of records (capped by
 * `batchRows` and a byte budget) plus one chunk, and the offset arrays are reused between batches.
 * A batch's cells are valid until the next batch is requested (consumers read batches
 * synchronously); the bytes are then compacted and overwritten.
 *
 * Dialect, as in Python's `csv` module with its defaults:
 * - fields are separated by one single-byte delimiter and records end with LF or CRLF;
 * - a field that starts with `"` is quoted: it may hold delimiters, line breaks and doubled quotes
 *   (`""`), and must be followed by a delimiter or the end of the record (`"ab"c` is an error,
 *   where Python would silently glue `c` on);
 * - a `"` inside an unquoted field is ordinary data (`ab"c` is the text `ab"c`), like Python's csv
 *   with `strict=False`, because such files are common and the intent is unambiguous;
 * - completely empty lines are skipped; the last record may lack its line break; a UTF-8 BOM is
 *   dropped; the first record is the header.
 * Every record must have as many fields as the header, and the text must be valid UTF-8: both are
 * checked, and reported with the file and line.
 */
import { ConfigurationError, InputError } from '../errors.ts';
import type { RowBatch, TableReader, TextColumn } from './batch.ts';
import { MAX_COLUMNS, tooManyColumnsError } from './limits.ts';
import { assertUtf8, type ByteSource, DEFAULT_CHUNK_SIZE, openByteSource } from './read-bytes.ts';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Scanner results. */
const BATCH_FULL = 0;
const NEED_DATA = 1;
const TOO_MANY_FIELDS = 2;
const TOO_FEW_FIELDS = 3;
const TEXT_AFTER_QUOTE = 4;
const UNTERMINATED_QUOTE = 5;

/** Default rows per batch. */
export const DEFAULT_BATCH_ROWS = 8192;
/** A batch also ends once its records take this many bytes, so very wide rows keep memory bounded. */
const DEFAULT_BATCH_BYTES = 16 << 20;
/** Cells per batch at most (offset arrays are batchRows × columns): bounds memory for very wide tables. */
const MAX_BATCH_CELLS = 1 << 21;
/** A record longer than this is almost always an unclosed quote swallowing the rest of the file. */
const MAX_RECORD_BYTES = 64 << 20;

/** Options of {@link openCsv}. */
export interface CsvReaderOptions {
  /** Field delimiter: one single-byte (ASCII) character. Default `,`. */
  delimiter?: string;
  /** Target rows per batch. Default 8192. */
  batchRows?: number;
  /** Bytes per read (internal; tests use tiny chunks to exercise chunk boundaries). */
  chunkSize?: number;
  /** Byte budget of one batch (internal; see `DEFAULT_BATCH_BYTES`). */
  batchBytes?: number;
}

/**
 * Opens a CSV (or TSV) file and reads its header. `filePath` is the path to open, `displayPath`
 * the path as the user gave it (used in messages). The file is released after the header is read
 * and reopened when the rows are streamed, so a reader that is never iterated holds no file.
 */
export async function openCsv(
  filePath: string,
  displayPath: string,
  options: CsvReaderOptions = {},
): Promise<TableReader> {
  const reader = new CsvReader(filePath, displayPath, options);
  await reader.readHeader();
  return reader;
}

/** Checks the `delimiter` option and returns its byte. */
export function parseDelimiter(delimiter: string | undefined): number {
  if (delimiter === undefined) return 0x2c;
  const code = delimiter.length === 1 ? delimiter.charCodeAt(0) : -1;
  if (code < 0 || code >= 0x80 || code === QUOTE || code === LF || code === CR) {
    throw new ConfigurationError(
      `The CSV delimiter ${JSON.stringify(delimiter)} is not supported: use one single-byte character ` +
        `other than a quote or a line break, e.g. delimiter: ',' or ';' or '\\t' or '|'.`,
      { key: 'delimiter' },
    );
  }
  return code;
}

class CsvReader implements TableReader {
  readonly path: string;
  readonly format = 'csv' as const;
  compressed = false;
  columns: readonly string[] = [];
  readonly rowCount = undefined;

  private readonly filePath: string;
  private readonly chunkSize: number;
  private readonly batchBytes: number;
  private readonly batchRows: number;
  private readonly delimiter: number;
  private readonly state: ScanState;
  /** Decompressed bytes already taken from the file at open time (skipped when reopening it). */
  private consumed = 0;
  private iterated = false;

  constructor(filePath: string, displayPath: string, options: CsvReaderOptions) {
    this.path = displayPath;
    this.filePath = filePath;
    this.delimiter = parseDelimiter(options.delimiter);
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.batchBytes = Math.max(1, options.batchBytes ?? DEFAULT_BATCH_BYTES);
    this.batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.state = new ScanState(this.delimiter, Math.min(this.chunkSize * 2 + 1, 1 << 24));
  }

  /** Reads up to the end of the header record, then releases the file. */
  async readHeader(): Promise<void> {
    const s = this.state;
    const source = await openByteSource(this.filePath, this.path);
    this.compressed = source.compressed;
    try {
      let header: SlowRecord | null = null;
      for (;;) {
        if (s.dataEnd >= 3 || s.eof) {
          skipByteOrderMark(s, this.path);
          skipBlankLines(s);
          if (s.pos < s.dataEnd || s.eof) {
            header = parseRecordSlow(s.buf, s.pos, s.dataEnd, this.delimiter, s.eof);
            if (header.complete || s.eof) break;
          }
        }
        if (s.dataEnd - s.pos > MAX_RECORD_BYTES) break;
        this.consumed += await fill(s, source, this.chunkSize, true);
      }
      this.columns = checkHeader(s, header, this.path, this.delimiter);
      if (s.eof && s.dataEnd > s.pos && s.buf[s.dataEnd - 1] !== LF) {
        // The whole file was read with the header: end its last record like `fill` does.
        s.reserve(1);
        s.buf[s.dataEnd++] = LF;
      }
    } finally {
      await source.close();
    }
  }

  async *batches(): AsyncGenerator<RowBatch> {
    if (this.iterated) throw new Error(`The rows of ${this.path} can be iterated only once`);
    this.iterated = true;
    const s = this.state;
    s.allocate(this.columns.length, this.batchRows);
    let source: ByteSource | null = s.eof
      ? null
      : await openByteSource(this.filePath, this.path, this.consumed);
    try {
      let done = false;
      while (!done) {
        s.startBatch();
        let batchStartLine = s.line;
        for (;;) {
          const status = scan(s);
          if (status === BATCH_FULL) break;
          if (status !== NEED_DATA) {
            // An encoding problem earlier in the batch is the better first message.
            assertUtf8(s.buf, 0, Math.min(s.errorPos, s.pos), batchStartLine, this.path);
            if (source !== null) await this.completeBadRecord(source);
            throw this.recordError(status);
          }
          if (s.eof) {
            // With the final line break added, a record can only be pending inside an open quote,
            // which `scan` reports: everything has been consumed.
            done = true;
            break;
          }
          if (s.rows > 0 && s.pos > this.batchBytes) break;
          if (s.rows === 0 && s.pos > 0) {
            // Only skipped blank lines precede the pending record: drop them to make room.
            s.compact();
            batchStartLine = s.line;
          }
          if (s.dataEnd - s.pos > MAX_RECORD_BYTES) throw this.longRecordError();
          await fill(s, source!, this.chunkSize, false);
          if (s.eof && source !== null) {
            await source.close();
            source = null;
          }
        }
        if (s.rows > 0) {
          assertUtf8(s.buf, 0, s.pos, batchStartLine, this.path);
          yield s.makeBatch();
        }
      }
    } finally {
      await source?.close();
    }
  }

  /** Reads on until the record that failed is complete, so the message can show all of it. */
  private async completeBadRecord(source: ByteSource): Promise<void> {
    const s = this.state;
    while (!s.eof && s.dataEnd - s.errorPos < MAX_RECORD_BYTES) {
      if (parseRecordSlow(s.buf, s.errorPos, s.dataEnd, this.delimiter, false).complete) return;
      await fill(s, source, this.chunkSize, false);
    }
  }

  private recordError(status: number): InputError {
    const s = this.state;
    const file = this.path;
    const expected = this.columns.length;
    if (status === UNTERMINATED_QUOTE) {
      return new InputError(
        `${file} line ${s.errorLine}: a quoted field opened on this line is never closed (the file ends inside the quotes). ` +
          'Close the quote, or double a quote that is part of the value ("" inside a quoted field).',
        { file, line: s.errorLine },
      );
    }
    if (status === TEXT_AFTER_QUOTE) {
      const found = describeByte(s.buf[s.errorPos]);
      return new InputError(
        `${file} line ${s.errorLine}: unexpected ${found} after the closing quote of a quoted field; ` +
          `expected ${describeByte(this.delimiter)} or the end of the line. ` +
          'Inside a quoted field write a quote as "" (e.g. "say ""hi"""), or quote the whole field.',
        { file, line: s.errorLine },
      );
    }
    const record = parseRecordSlow(s.buf, s.errorPos, s.dataEnd, this.delimiter, s.eof);
    const count = record.fields.length;
    const excerpt = recordExcerpt(s.buf, s.errorPos, record.end);
    if (status === TOO_MANY_FIELDS) {
      const counted = record.complete ? `${count}` : `more than ${expected}`;
      return new InputError(
        `${file} line ${s.errorLine} has ${counted} fields, the header has ${expected}: ${excerpt}. ` +
          `A value probably contains the delimiter ${describeByte(this.delimiter)} without quotes: ` +
          'quote such values ("a,b"), or remove the extra fields.',
        { file, line: s.errorLine },
      );
    }
    return new InputError(
      `${file} line ${s.errorLine} has ${count} field${count === 1 ? '' : 's'}, the header has ${expected}: ${excerpt}. ` +
        'Add the missing values (an empty value is just nothing between two delimiters), ' +
        'or quote a value that contains a line break.',
      { file, line: s.errorLine },
    );
  }

  private longRecordError(): InputError {
    const s = this.state;
    return new InputError(
      `${this.path} line ${s.line}: a record is longer than ${MAX_RECORD_BYTES >> 20} MiB. This is almost always a ` +
        'quote that opens a field and is never closed; look for a stray " at the start of a field on or after this line.',
      { file: this.path, line: s.line },
    );
  }
}

/**
 * The tokenizer's state: the byte buffer, the position in it, and the reused cell arrays.
 * Cells of column `j`, row `r` live at index `j * stride + r` of the flat arrays.
 */
class ScanState {
  readonly delimiter: number;
  buf: Uint8Array;
  /** Next byte to scan. */
  pos = 0;
  /** End of the valid bytes in `buf`. */
  dataEnd = 0;
  /** True once the source is exhausted (a final line break has then been added if missing). */
  eof = false;
  /** 1-based line of the byte at `pos`. */
  line = 1;
  /** Rows in the current batch, and the most it may hold. */
  rows = 0;
  maxRows = 0;
  columns = 0;
  stride = 0;
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  quoted = new Uint8Array(0);
  escaped = new Uint8Array(0);
  lines = new Float64Array(0);
  /** Per column: 1 when a cell of the batch was flagged quoted / escaped (the column's flags need clearing). */
  anyQuoted = new Uint8Array(0);
  anyEscaped = new Uint8Array(0);
  /** Where the last error was found. */
  errorPos = 0;
  errorLine = 0;

  constructor(delimiter: number, capacity: number) {
    this.delimiter = delimiter;
    this.buf = new Uint8Array(capacity);
  }

  allocate(columns: number, batchRows: number): void {
    const rows = Math.max(1, Math.min(batchRows, Math.floor(MAX_BATCH_CELLS / Math.max(1, columns))));
    this.columns = columns;
    this.maxRows = rows;
    this.stride = rows;
    this.starts = new Int32Array(rows * columns);
    this.ends = new Int32Array(rows * columns);
    this.quoted = new Uint8Array(rows * columns);
    this.escaped = new Uint8Array(rows * columns);
    this.lines = new Float64Array(rows);
    this.anyQuoted = new Uint8Array(columns);
    this.anyEscaped = new Uint8Array(columns);
  }

  /** Starts a new batch: the previous batch's bytes and cells may now be overwritten. */
  startBatch(): void {
    this.compact();
    this.rows = 0;
    const stride = this.stride;
    for (let j = 0; j < this.columns; j++) {
      if (this.anyQuoted[j] === 1) this.quoted.fill(0, j * stride, (j + 1) * stride);
      if (this.anyEscaped[j] === 1) this.escaped.fill(0, j * stride, (j + 1) * stride);
    }
    this.anyQuoted.fill(0);
    this.anyEscaped.fill(0);
  }

  /** Moves the unscanned bytes to the front of the buffer. Only valid when no batch row points into it. */
  compact(): void {
    if (this.pos === 0) return;
    this.buf.copyWithin(0, this.pos, this.dataEnd);
    this.dataEnd -= this.pos;
    this.pos = 0;
  }

  /** Makes sure `extra` more bytes fit after `dataEnd`, growing the buffer (offsets stay valid). */
  reserve(extra: number): void {
    const needed = this.dataEnd + extra;
    if (needed <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.dataEnd));
    this.buf = grown;
  }

  makeBatch(): RowBatch {
    const rows = this.rows;
    const stride = this.stride;
    const columns: TextColumn[] = new Array(this.columns);
    for (let j = 0; j < this.columns; j++) {
      const from = j * stride;
      const to = from + rows;
      columns[j] = {
        kind: 'text',
        bytes: this.buf,
        start: this.starts.subarray(from, to),
        end: this.ends.subarray(from, to),
        escaped: this.anyEscaped[j] === 1 ? this.escaped.subarray(from, to) : null,
        quoted: this.anyQuoted[j] === 1 ? this.quoted.subarray(from, to) : null,
      };
    }
    return { length: rows, lines: this.lines.subarray(0, rows), columns };
  }
}

/**
 * Reads the next chunk after `dataEnd`. Reads at least as many bytes as are already pending,
 * so a record longer than a chunk is rescanned a logarithmic number of times, not once per chunk.
 * At the end of the data, adds a line break if the last record lacks one, so the scanner never
 * has to special-case the final record. Returns the number of bytes read from the source.
 */
async function fill(s: ScanState, source: ByteSource, chunkSize: number, header: boolean): Promise<number> {
  const want = Math.max(chunkSize, s.dataEnd - s.pos);
  s.reserve(want + 1);
  let count = 0;
  // A source may return less than asked (a plain file gives one read-ahead chunk at a time).
  while (count < want) {
    const n = await source.read(s.buf, s.dataEnd + count, want - count);
    if (n === 0) break;
    count += n;
  }
  if (count > 0) {
    s.dataEnd += count;
    return count;
  }
  s.eof = true;
  // The header reader looks at the raw end of the file (an empty file stays empty).
  if (!header && s.dataEnd > s.pos && s.buf[s.dataEnd - 1] !== LF) s.buf[s.dataEnd++] = LF;
  return 0;
}

/**
 * The hot loop: tokenizes complete records from `s.pos` into the batch arrays until the batch is
 * full, the data runs out (the partial record is left at `s.pos` to be rescanned once more data
 * has arrived), or a record is malformed. Bytes ≥ 0x80 are not looked at here: UTF-8 is
 * validated once per batch with `isUtf8`, which is much faster than checking in this loop.
 */
function scan(s: ScanState): number {
  const buf = s.buf;
  const end = s.dataEnd;
  const delimiter = s.delimiter;
  // Bytes above both LF and the delimiter are ordinary data: one comparison for most bytes.
  const high = Math.max(delimiter, LF);
  const last = s.columns - 1;
  const stride = s.stride;
  const maxRows = s.maxRows;
  const starts = s.starts;
  const ends = s.ends;
  const lines = s.lines;
  let i = s.pos;
  let line = s.line;
  let r = s.rows;
  let status = BATCH_FULL;
  records: while (r < maxRows) {
    const recordStart = i;
    const recordLine = line;
    if (i >= end) {
      status = NEED_DATA;
      break;
    }
    let c = buf[i];
    if (c === LF) {
      i++;
      line++;
      continue;
    }
    if (c === CR) {
      if (i + 1 >= end) {
        status = NEED_DATA;
        break;
      }
      if (buf[i + 1] === LF) {
        i += 2;
        line++;
        continue;
      }
    }
    let j = 0;
    let index = r;
    for (;;) {
      if (i < end && buf[i] === QUOTE) {
        const openLine = line;
        i++;
        const start = i;
        let escaped = 0;
        for (;;) {
          while (i < end) {
            c = buf[i];
            if (c <= QUOTE) {
              if (c === QUOTE) break;
              if (c === LF) line++;
            }
            i++;
          }
          if (i + 1 >= end) {
            // The closing quote (or the byte after it) is not here yet.
            if (s.eof) {
              s.errorPos = recordStart;
              s.errorLine = openLine;
              status = UNTERMINATED_QUOTE;
            } else status = NEED_DATA;
            i = recordStart;
            line = recordLine;
            break records;
          }
          if (buf[i + 1] === QUOTE) {
            escaped = 1;
            i += 2;
            continue;
          }
          break;
        }
        starts[index] = start;
        ends[index] = i;
        s.quoted[index] = 1;
        s.anyQuoted[j] = 1;
        if (escaped === 1) {
          s.escaped[index] = 1;
          s.anyEscaped[j] = 1;
        }
        i++;
        c = buf[i];
        if (c === delimiter) {
          i++;
          if (j === last) {
            s.errorPos = recordStart;
            s.errorLine = recordLine;
            status = TOO_MANY_FIELDS;
            break records;
          }
          j++;
          index += stride;
          continue;
        }
        if (c === CR) {
          if (i + 1 >= end) {
            status = NEED_DATA;
            i = recordStart;
            line = recordLine;
            break records;
          }
          if (buf[i + 1] === LF) {
            i++;
            c = LF;
          }
        }
        if (c !== LF) {
          s.errorPos = i;
          s.errorLine = line;
          status = TEXT_AFTER_QUOTE;
          break records;
        }
        i++;
        line++;
        if (j !== last) {
          s.errorPos = recordStart;
          s.errorLine = recordLine;
          status = TOO_FEW_FIELDS;
          break records;
        }
        lines[r] = recordLine;
        r++;
        continue records;
      }
      const start = i;
      while (i < end) {
        c = buf[i];
        if (c <= high && (c === delimiter || c === LF)) break;
        i++;
      }
      if (i >= end) {
        status = NEED_DATA;
        i = recordStart;
        line = recordLine;
        break records;
      }
      starts[index] = start;
      if (c === delimiter) {
        ends[index] = i;
        i++;
        if (j === last) {
          s.errorPos = recordStart;
          s.errorLine = recordLine;
          status = TOO_MANY_FIELDS;
          break records;
        }
        j++;
        index += stride;
        continue;
      }
      ends[index] = i > start && buf[i - 1] === CR ? i - 1 : i;
      i++;
      line++;
      if (j !== last) {
        s.errorPos = recordStart;
        s.errorLine = recordLine;
        status = TOO_FEW_FIELDS;
        break records;
      }
      lines[r] = recordLine;
      r++;
      continue records;
    }
  }
  s.pos = i;
  s.line = line;
  s.rows = r;
  return status;
}

// The paths below run once per file or on errors: they favour simplicity over speed.

/** A record parsed the slow, simple way: for the header and for error messages. */
interface SlowRecord {
  /** Field texts, quotes removed and `""` unescaped (decoded as UTF-8). */
  fields: string[];
  /** Whether field `i` was quoted. */
  quoted: boolean[];
  /** True when the record's line break (or the end of the data) was reached. */
  complete: boolean;
  /** Position just past the record's line break. */
  end: number;
  /** Line breaks inside the record (quoted line breaks) plus the one ending it. */
  lineBreaks: number;
  /** Position of a byte after a closing quote that is not a delimiter or line break, or -1. */
  textAfterQuote: number;
  /** Line breaks before the quote that was still open at the end of the data, or -1 when none was. */
  openQuoteLineBreaks: number;
}

const utf8 = new TextDecoder('utf-8');

/** Parses the record at `pos`. `atEnd`: `end` is the end of the file (the record may lack its line break). */
function parseRecordSlow(
  buf: Uint8Array,
  pos: number,
  end: number,
  delimiter: number,
  atEnd: boolean,
): SlowRecord {
  const record: SlowRecord = {
    fields: [],
    quoted: [],
    complete: false,
    end,
    lineBreaks: 0,
    textAfterQuote: -1,
    openQuoteLineBreaks: -1,
  };
  let i = pos;
  for (;;) {
    if (i < end && buf[i] === QUOTE) {
      const quoteLineBreaks = record.lineBreaks;
      const parts: number[] = [];
      i++;
      let start = i;
      let closed = false;
      while (i < end) {
        if (buf[i] === QUOTE) {
          if (i + 1 < end && buf[i + 1] === QUOTE) {
            parts.push(start, i + 1);
            i += 2;
            start = i;
            continue;
          }
          closed = true;
          break;
        }
        if (buf[i] === LF) record.lineBreaks++;
        i++;
      }
      parts.push(start, i);
      const chunks: Uint8Array[] = [];
      for (let k = 0; k < parts.length; k += 2) chunks.push(buf.subarray(parts[k], parts[k + 1]));
      record.fields.push(utf8.decode(Buffer.concat(chunks)));
      record.quoted.push(true);
      if (!closed) {
        record.openQuoteLineBreaks = quoteLineBreaks;
        return record;
      }
      i++;
      if (i >= end) {
        record.complete = atEnd;
        record.end = i;
        return record;
      }
      if (buf[i] === delimiter) {
        i++;
        continue;
      }
      if (buf[i] === CR && i + 1 < end && buf[i + 1] === LF) i++;
      if (buf[i] === LF) {
        record.lineBreaks++;
        record.complete = true;
        record.end = i + 1;
        return record;
      }
      record.textAfterQuote = i;
      return record;
    }
    const start = i;
    while (i < end && buf[i] !== delimiter && buf[i] !== LF) i++;
    const lineEnd = i < end ? buf[i] === LF : atEnd;
    const fieldEnd = lineEnd && i > start && buf[i - 1] === CR ? i - 1 : i;
    record.fields.push(utf8.decode(buf.subarray(start, fieldEnd)));
    record.quoted.push(false);
    if (i >= end) {
      record.complete = atEnd;
      record.end = i;
      return record;
    }
    if (buf[i] === delimiter) {
      i++;
      continue;
    }
    record.lineBreaks++;
    record.complete = true;
    record.end = i + 1;
    return record;
  }
}

/** Drops a UTF-8 byte order mark; rejects UTF-16 files, which would otherwise read as garbage. */
function skipByteOrderMark(s: ScanState, file: string): void {
  if (s.line !== 1 || s.pos !== 0) return;
  const b = s.buf;
  if (s.dataEnd >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    s.pos = 3;
    return;
  }
  if (s.dataEnd >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
    throw new InputError(
      `${file} is encoded as UTF-16 (it starts with a UTF-16 byte order mark); expected UTF-8. ` +
        'Re-encode it as UTF-8, e.g. `iconv -f UTF-16 -t UTF-8 in.csv > out.csv`, or save it as "CSV UTF-8".',
      { file, line: 1 },
    );
  }
}

/**
 * Skips blank lines before the header (whitespace-only ones too: there is nothing to name yet).
 * Stops at the start of the first line with content; a blank-so-far line at the end of the data
 * read so far is kept until more data shows what it holds.
 */
function skipBlankLines(s: ScanState): void {
  let i = s.pos;
  let line = s.line;
  let lineStart = i;
  while (i < s.dataEnd) {
    const c = s.buf[i];
    if (c === LF) {
      i++;
      line++;
      lineStart = i;
    } else if (c === CR || c === 0x20 || c === 0x09) i++;
    else break;
  }
  s.pos = i >= s.dataEnd && s.eof ? s.dataEnd : lineStart;
  s.line = line;
}

/** Validates the header record and returns the column names. */
function checkHeader(s: ScanState, header: SlowRecord | null, file: string, delimiter: number): string[] {
  if (header === null || s.pos >= s.dataEnd) {
    throw new InputError(
      `${file} is empty: expected a header line with the column names (e.g. "id,age,label") followed by the data rows.`,
      { file, line: 1 },
    );
  }
  const line = s.line;
  if (header.openQuoteLineBreaks >= 0) {
    const opened = line + header.openQuoteLineBreaks;
    throw new InputError(
      `${file} line ${opened}: a quoted column name opened on this line is never closed. ` +
        'Close the quote, or write a quote that is part of the name as "".',
      { file, line: opened },
    );
  }
  if (!header.complete) {
    throw new InputError(
      `${file} line ${line}: the header line is longer than ${MAX_RECORD_BYTES >> 20} MiB; this is not a CSV file, ` +
        'or a quote in the header is never closed.',
      { file, line },
    );
  }
  if (header.textAfterQuote >= 0) {
    throw new InputError(
      `${file} line ${line}: unexpected ${describeByte(s.buf[header.textAfterQuote])} after the closing quote of a ` +
        `quoted column name; expected ${describeByte(delimiter)} or the end of the line.`,
      { file, line },
    );
  }
  assertUtf8(s.buf, s.pos, header.end, line, file);
  const names = header.fields;
  if (names.some((name, k) => !header.quoted[k] && name.includes('\r'))) {
    throw new InputError(
      `${file} uses CR-only line breaks (old Mac style): expected LF or CRLF line endings. ` +
        'Convert them, e.g. `tr "\\r" "\\n" < in.csv > out.csv`.',
      { file, line },
    );
  }
  if (names.length > MAX_COLUMNS) throw tooManyColumnsError(file, names.length.toLocaleString('en-US'), line);
  if (names.length === 1) {
    const guess = guessDelimiter(names[0], delimiter);
    if (guess !== null) {
      throw new InputError(
        `${file} line ${line}: the header has a single column ${JSON.stringify(shorten(names[0]))} that contains ` +
          `${describeChar(guess)}: the file probably uses ${describeChar(guess)} as its delimiter. ` +
          `Set the delimiter option: delimiter: '${guess === '\t' ? '\\t' : guess}'.`,
        { file, line },
      );
    }
  }
  const empty = names.flatMap((name, k) => (name.trim() === '' ? [k + 1] : []));
  if (empty.length > 0) {
    const list = empty.join(', ');
    const pandas =
      empty[0] === 1
        ? ' (a file saved by pandas with its index has an empty first name: save it with index=False)'
        : '';
    throw new InputError(
      `${file} line ${line}: the header has an empty column name at position${empty.length > 1 ? 's' : ''} ${list}; ` +
        `every column needs a unique name${pandas}. A delimiter at the end of the header line also adds an empty column.`,
      { file, line },
    );
  }
  const seen = new Map<string, number>();
  const duplicates: string[] = [];
  names.forEach((name, k) => {
    const first = seen.get(name);
    if (first === undefined) seen.set(name, k + 1);
    else duplicates.push(`${JSON.stringify(name)} (columns ${first} and ${k + 1})`);
  });
  if (duplicates.length > 0) {
    throw new InputError(
      `${file} line ${line}: duplicate column name${duplicates.length > 1 ? 's' : ''} in the header: ${duplicates.join(', ')}. ` +
        'Rename the columns so that every name is unique.',
      { file, line },
    );
  }
  s.pos = header.end;
  s.line = line + header.lineBreaks;
  return names;
}

/** A likely delimiter other than the one in use, seen in a header that parsed to one column. */
function guessDelimiter(text: string, delimiter: number): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const candidate of [';', '\t', '|', ',']) {
    if (candidate.charCodeAt(0) === delimiter) continue;
    const count = text.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

function recordExcerpt(buf: Uint8Array, from: number, to: number): string {
  let end = to;
  while (end > from && (buf[end - 1] === LF || buf[end - 1] === CR)) end--;
  return JSON.stringify(shorten(utf8.decode(buf.subarray(from, Math.min(end, from + 400)))));
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the data';
  return describeChar(String.fromCharCode(byte));
}

function describeChar(char: string): string {
  switch (char) {
    case '\t':
      return 'a tab';
    case ' ':
      return 'a space';
    case '\n':
      return 'a line break';
    case '\r':
      return 'a carriage return';
    default:
      return `'${char}'`;
  }
}
