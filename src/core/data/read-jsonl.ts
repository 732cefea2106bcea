/**
 * Streaming JSON Lines reader producing `ValueColumn` batches.
 *
 * Lines are split at byte level in large chunks; each chunk of complete lines is validated as
 * UTF-8 and decoded to one string, and each line is handed to `JSON.parse` as a slice of it, so
 * every byte is decoded once. Columns are the keys in first-seen order and grow as new keys
 * appear. Rows usually repeat the same keys in the same order, so the key → column lookup is a
 * comparison with the previous row's key at the same position; the map is only consulted when the
 * shape changes.
 */
import { InputError } from '../errors.ts';
import type { RowBatch, TableReader, ValueColumn } from './batch.ts';
import { assertUtf8, type ByteSource, DEFAULT_CHUNK_SIZE, openByteSource } from './read-bytes.ts';
import { DEFAULT_BATCH_ROWS } from './read-csv.ts';

const LF = 0x0a;

/** Options of {@link openJsonl}. */
export interface JsonlReaderOptions {
  /** Target rows per batch. Default 8192. */
  batchRows?: number;
  /** Bytes per read (internal; tests use tiny chunks to exercise chunk boundaries). */
  chunkSize?: number;
}

/**
 * Opens a JSON Lines file (one JSON object per line; blank lines ignored) and parses its first
 * batch, so `columns` holds the keys seen there. `filePath` is the path to open, `displayPath`
 * the path as the user gave it (used in messages). The file is released after that first read and
 * reopened when the rows are streamed.
 */
export async function openJsonl(
  filePath: string,
  displayPath: string,
  options: JsonlReaderOptions = {},
): Promise<TableReader> {
  const reader = new JsonlReader(filePath, displayPath, options);
  await reader.readFirstBatch();
  return reader;
}

class JsonlReader implements TableReader {
  readonly path: string;
  readonly format = 'jsonl' as const;
  compressed = false;
  /** Grows while the file is read (the same array instance). */
  readonly columns: string[] = [];
  readonly rowCount = undefined;

  private readonly filePath: string;
  private readonly chunkSize: number;
  private readonly maxRows: number;
  private readonly columnIndex = new Map<string, number>();
  /** Keys of the last row, by position, and their columns: the fast path of the key lookup. */
  private shapeKeys: string[] = [];
  private shapeColumns: number[] = [];

  private source: ByteSource | null = null;
  /** Decompressed bytes taken from the file so far (skipped when it is reopened). */
  private consumed = 0;
  private buf = Buffer.allocUnsafeSlow(0);
  private pos = 0;
  private dataEnd = 0;
  private eof = false;
  private first = true;
  /** Decoded complete lines not yet parsed, and the position in them. */
  private text = '';
  private textPos = 0;
  /** 1-based line of `text[textPos]`. */
  private line = 1;

  /** The batch being filled. */
  private values: unknown[][] = [];
  private lines = new Float64Array(0);
  private rows = 0;
  private pending: RowBatch | null = null;
  private iterated = false;

  constructor(filePath: string, displayPath: string, options: JsonlReaderOptions) {
    this.path = displayPath;
    this.filePath = filePath;
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    this.maxRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.buf = Buffer.allocUnsafeSlow(Math.min(this.chunkSize * 2, 1 << 24));
  }

  async readFirstBatch(): Promise<void> {
    try {
      this.pending = await this.nextBatch();
    } finally {
      await this.closeSource();
    }
  }

  async *batches(): AsyncGenerator<RowBatch> {
    if (this.iterated) throw new Error(`The rows of ${this.path} can be iterated only once`);
    this.iterated = true;
    try {
      let batch = this.pending;
      this.pending = null;
      while (batch !== null) {
        yield batch;
        batch = await this.nextBatch();
      }
    } finally {
      await this.closeSource();
    }
  }

  private async closeSource(): Promise<void> {
    const source = this.source;
    this.source = null;
    await source?.close();
  }

  /** Parses rows until a batch is full or the file ends; null when there are no more rows. */
  private async nextBatch(): Promise<RowBatch | null> {
    this.startBatch();
    for (;;) {
      if (this.textPos >= this.text.length && !(await this.loadText())) break;
      this.parseLines();
      if (this.rows === this.maxRows) break;
    }
    return this.rows > 0 ? this.takeBatch() : null;
  }

  private startBatch(): void {
    this.rows = 0;
    this.lines = new Float64Array(this.maxRows);
    this.values = this.columns.map(() => new Array(this.maxRows));
  }

  private takeBatch(): RowBatch {
    const rows = this.rows;
    const columns: ValueColumn[] = this.values.map((values) => {
      if (values.length !== rows) values.length = rows;
      return { kind: 'values', values };
    });
    return {
      length: rows,
      lines: rows === this.maxRows ? this.lines : this.lines.subarray(0, rows),
      columns,
    };
  }

  /** The hot loop: parses the decoded lines into the batch until it is full or the text is used up. */
  private parseLines(): void {
    const text = this.text;
    const length = text.length;
    const maxRows = this.maxRows;
    const values = this.values;
    const lines = this.lines;
    const shapeKeys = this.shapeKeys;
    const shapeColumns = this.shapeColumns;
    let p = this.textPos;
    let line = this.line;
    let r = this.rows;
    while (r < maxRows && p < length) {
      let q = text.indexOf('\n', p);
      if (q < 0) q = length;
      const lineNumber = line++;
      const start = p;
      p = q + 1;
      // Objects start with '{'; anything else is checked for blankness before it is parsed.
      if (text.charCodeAt(start) !== 0x7b && isBlank(text, start, q)) continue;
      let row: unknown;
      try {
        row = JSON.parse(text.slice(start, q));
      } catch (error) {
        throw this.syntaxError(error, text.slice(start, q), lineNumber);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row))
        throw this.notObjectError(row, lineNumber);
      const object = row as Record<string, unknown>;
      let k = 0;
      for (const key in object) {
        let column: number;
        if (shapeKeys[k] === key) column = shapeColumns[k];
        else {
          column = this.columnFor(key);
          shapeKeys[k] = key;
          shapeColumns[k] = column;
        }
        values[column][r] = object[key];
        k++;
      }
      lines[r] = lineNumber;
      r++;
    }
    this.textPos = p;
    this.line = line;
    this.rows = r;
  }

  private columnFor(key: string): number {
    let column = this.columnIndex.get(key);
    if (column === undefined) {
      column = this.columns.length;
      this.columns.push(key);
      this.columnIndex.set(key, column);
      // Rows of this batch before this one lack the key: the new array's holes read as undefined.
      this.values.push(new Array(this.maxRows));
    }
    return column;
  }

  /**
   * Reads until at least one complete line is buffered (or the file ends), validates and decodes
   * the complete lines into `text`. Returns false at the end of the file.
   */
  private async loadText(): Promise<boolean> {
    for (;;) {
      const lastBreak = this.dataEnd > this.pos ? this.buf.lastIndexOf(LF, this.dataEnd - 1) : -1;
      if (lastBreak >= this.pos) return this.decode(lastBreak + 1);
      if (this.eof) return this.dataEnd > this.pos ? this.decode(this.dataEnd) : false;
      await this.read();
    }
  }

  private decode(end: number): boolean {
    let start = this.pos;
    const buf = this.buf;
    if (this.first) {
      this.first = false;
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf)
        start += 3;
    }
    assertUtf8(buf, start, end, this.line, this.path);
    this.text = buf.toString('utf8', start, end);
    this.textPos = 0;
    this.pos = end;
    return true;
  }

  /** Appends the next chunk to the buffer (moving the partial last line to the front first). */
  private async read(): Promise<void> {
    if (this.source === null) {
      this.source = await openByteSource(this.filePath, this.path, this.consumed);
      this.compressed = this.source.compressed;
    }
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.dataEnd);
      this.dataEnd -= this.pos;
      this.pos = 0;
    }
    // At least as much as is pending, so a very long line costs a logarithmic number of rescans.
    const want = Math.max(this.chunkSize, this.dataEnd);
    if (this.dataEnd + want > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.dataEnd + want, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.dataEnd);
      this.buf = grown;
    }
    let count = 0;
    // A source may return less than asked (a plain file gives one read-ahead chunk at a time).
    while (count < want) {
      const n = await this.source.read(this.buf, this.dataEnd + count, want - count);
      if (n === 0) break;
      count += n;
    }
    this.consumed += count;
    if (count === 0) this.eof = true;
    else this.dataEnd += count;
  }

  private syntaxError(error: unknown, text: string, line: number): InputError {
    // V8 says "at position 7 (line 1 column 8)": the position within this line is what helps.
    let column: number | undefined;
    const reason = (error instanceof Error ? error.message : String(error)).replace(
      / in JSON at position (\d+)(?: \(line \d+ column \d+\))?/,
      (_match, position: string) => {
        column = Number(position) + 1;
        return ` at column ${column}`;
      },
    );
    const trimmed = text.trim();
    const pretty =
      trimmed === '{' || trimmed === '[' || trimmed === ''
        ? ' The file looks like pretty-printed JSON: JSON Lines needs each object on one line (e.g. `jq -c . in.json > out.jsonl`).'
        : '';
    return new InputError(
      `${this.path} line ${line} is not valid JSON (${reason}): ${excerpt(text)}\n` +
        `Each line must be one complete JSON object, e.g. {"id": 1, "city": "Oslo"}.${pretty}`,
      { file: this.path, line, column },
      { cause: error },
    );
  }

  private notObjectError(value: unknown, line: number): InputError {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    return new InputError(
      `${this.path} line ${line}: expected a JSON object per line (like {"id": 1, "city": "Oslo"}), found ${kind}: ` +
        `${excerpt(JSON.stringify(value) ?? String(value))}\nWrite each row as an object whose keys are the column names.`,
      { file: this.path, line },
    );
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0xfeff) return false;
  }
  return true;
}

/** The line as written (shortened), for messages. */
function excerpt(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 120 ? `${trimmed.slice(0, 117)}...` : trimmed;
}
