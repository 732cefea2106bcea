/**
 * Streaming JSON Lines reader producing `ValueColumn` batches.
 *
 * Lines are split at byte level in large chunks; each chunk of complete lines is validated as
 * UTF-8 and decoded to one string, and each line is handed to `JSON.parse` as a slice of it, so
 * every byte is decoded once. Columns are the keys in first-seen order and grow as new keys
 * appear. Rows usually repeat the same keys in the same order, so the key → column lookup is a
 * comparison with the previous row's key at the same position; the map is only consulted when the
 * shape changes.
 *
 * A hostile line cannot exhaust memory or the stack: lines are at most {@link MAX_LINE_BYTES},
 * nesting at most {@link MAX_JSON_DEPTH} levels deep, a table at most {@link MAX_COLUMNS} keys
 * wide (a batch holds at most `MAX_BATCH_CELLS` cells), and a key repeated within an object (which
 * `JSON.parse` would silently resolve to the last value) is an error, as duplicate CSV headers are.
 */
import { InputError } from '../errors.ts';
import type { RowBatch, TableReader, ValueColumn } from './batch.ts';
import { MAX_COLUMNS, MAX_JSON_DEPTH, MAX_LINE_BYTES, tooManyColumnsError } from './limits.ts';
import { assertUtf8, type ByteSource, DEFAULT_CHUNK_SIZE, openByteSource } from './read-bytes.ts';
import { DEFAULT_BATCH_ROWS } from './read-csv.ts';

const LF = 0x0a;
/** Cells per batch at most (a batch holds one array of `batchRows` slots per column), as in the CSV reader. */
const MAX_BATCH_CELLS = 1 << 21;
/**
 * Lines longer than this are checked for their nesting depth before `JSON.parse` (which needs
 * about 100 bytes per level); shorter lines are checked after it, on the nested values only.
 */
const PRESCAN_LINE_CHARS = 1 << 20;

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
  private readonly batchRows: number;
  /** Rows the batch being filled may hold: fewer for wide tables (see `MAX_BATCH_CELLS`). */
  private maxRows: number;
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
    this.batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS));
    this.maxRows = this.batchRows;
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
    this.maxRows = this.rowsFor(this.columns.length);
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
      lines: rows === this.lines.length ? this.lines : this.lines.subarray(0, rows),
      columns,
    };
  }

  /** Rows a batch of `width` columns may hold. */
  private rowsFor(width: number): number {
    return Math.max(1, Math.min(this.batchRows, Math.floor(MAX_BATCH_CELLS / Math.max(1, width))));
  }

  /** The hot loop: parses the decoded lines into the batch until it is full or the text is used up. */
  private parseLines(): void {
    const text = this.text;
    const length = text.length;
    let maxRows = this.maxRows;
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
      if (q - start > PRESCAN_LINE_CHARS) {
        if (q - start > MAX_LINE_BYTES) throw this.longLineError(lineNumber);
        this.checkNestingText(text, start, q, lineNumber);
      }
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
      let grown = false;
      for (const key in object) {
        let column: number;
        if (shapeKeys[k] === key) column = shapeColumns[k];
        else {
          const known = this.columns.length;
          column = this.columnFor(key, lineNumber, r);
          grown ||= this.columns.length !== known;
          shapeKeys[k] = key;
          shapeColumns[k] = column;
        }
        const value = object[key];
        values[column][r] = value;
        if (typeof value === 'object' && value !== null) this.checkNesting(value, lineNumber, key);
        k++;
      }
      // Every key is followed by a colon: when the line has no more colons than the object has
      // keys, no key was repeated (JSON.parse keeps the last of a repeated key's values silently).
      if (hasMoreColons(text, start, q, k)) this.checkRepeatedKeys(text, start, q, lineNumber);
      lines[r] = lineNumber;
      r++;
      // New columns make the batch's arrays wider: it may hold fewer rows.
      if (grown) maxRows = this.maxRows = Math.max(r, Math.min(maxRows, this.rowsFor(this.columns.length)));
    }
    this.textPos = p;
    this.line = line;
    this.rows = r;
  }

  private columnFor(key: string, line: number, row: number): number {
    let column = this.columnIndex.get(key);
    if (column === undefined) {
      column = this.columns.length;
      if (column >= MAX_COLUMNS)
        throw tooManyColumnsError(this.path, `more than ${MAX_COLUMNS.toLocaleString('en-US')}`, line);
      this.columns.push(key);
      this.columnIndex.set(key, column);
      // Rows of this batch before this one lack the key: the new array's holes read as undefined.
      this.values.push(new Array(Math.max(row + 1, this.rowsFor(this.columns.length))));
    }
    return column;
  }

  /** Refuses a nested value deeper than {@link MAX_JSON_DEPTH} (the row is level 1, `value` level 2). */
  private checkNesting(value: object, line: number, key: string): void {
    if (depthBeyond(value, 2)) throw this.tooDeepError(line, key);
  }

  /** The same check on the text of a long line, before `JSON.parse` spends memory on it. */
  private checkNestingText(text: string, start: number, end: number, line: number): void {
    let depth = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) i = stringEnd(text, i, end);
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > MAX_JSON_DEPTH) throw this.tooDeepError(line);
      } else if (c === 0x7d || c === 0x5d) depth--;
    }
  }

  private tooDeepError(line: number, key?: string): InputError {
    return new InputError(
      `${this.path} line ${line}: ${key === undefined ? 'the row' : `the value of ${JSON.stringify(shortKey(key))}`} nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep ` +
        '(the limit for a row, which keeps the gate from running out of stack or memory). ' +
        'A table cell should hold a value, not a deep document: flatten it, or leave the column out.',
      { file: this.path, line },
    );
  }

  /** Throws when the object on this line repeats a key (only called when the line has extra colons). */
  private checkRepeatedKeys(text: string, start: number, end: number, line: number): void {
    const key = findRepeatedKey(text, start, end);
    if (key === undefined) return;
    throw new InputError(
      `${this.path} line ${line}: the key ${JSON.stringify(shortKey(key))} appears more than once in the row's object; ` +
        'JSON parsers disagree on which value wins (most keep the last silently), so the row is ambiguous. ' +
        'Write each key once per line.',
      { file: this.path, line },
    );
  }

  /**
   * Reads until at least one complete line is buffered (or the file ends), validates and decodes
   * the complete lines into `text`. Returns false at the end of the file.
   */
  private async loadText(): Promise<boolean> {
    for (;;) {
      const lastBreak = this.dataEnd > this.pos ? this.buf.lastIndexOf(LF, this.dataEnd - 1) : -1;
      if (lastBreak >= this.pos) return this.decode(lastBreak + 1);
      // No line break yet: stop reading before a line without end takes all the memory.
      if (this.dataEnd - this.pos > MAX_LINE_BYTES) throw this.longLineError(this.line);
      if (this.eof) return this.dataEnd > this.pos ? this.decode(this.dataEnd) : false;
      await this.read();
    }
  }

  private longLineError(line: number): InputError {
    return new InputError(
      `${this.path} line ${line} is longer than ${MAX_LINE_BYTES >> 20} MiB, the longest line a JSON Lines file may have here: ` +
        'each line should be one row. A whole JSON document on one line is not JSON Lines; ' +
        "write one object per line (e.g. `jq -c '.[]' data.json > data.jsonl`).",
      { file: this.path, line },
    );
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

/** True when `text[start, end)` holds more than `keys` colons (it stops counting there). */
function hasMoreColons(text: string, start: number, end: number, keys: number): boolean {
  let colons = 0;
  let at = text.indexOf(':', start);
  while (at >= 0 && at < end) {
    if (++colons > keys) return true;
    at = text.indexOf(':', at + 1);
  }
  return false;
}

/** Index of the quote that closes the JSON string opening at `open` (or `end` when it does not close). */
function stringEnd(text: string, open: number, end: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0 || at >= end) return end;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/** Index just past the JSON value starting at `i` (the text is valid JSON: `JSON.parse` accepted it). */
function valueEnd(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i, end) + 1;
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; i < end; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x22) i = stringEnd(text, i, end);
      else if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
    }
    return end;
  }
  // A number, true, false or null: up to the next separator.
  while (i < end) {
    const d = text.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0d) break;
    i++;
  }
  return i;
}

/**
 * The first key that the object on `text[start, end)` (valid JSON) repeats at its top level, or
 * undefined. Keys are compared as JSON.parse reads them (escapes decoded).
 */
function findRepeatedKey(text: string, start: number, end: number): string | undefined {
  const keys = new Set<string>();
  let i = skipSpace(text, start, end);
  if (text.charCodeAt(i) === 0xfeff) i = skipSpace(text, i + 1, end);
  i++; // the opening brace
  for (;;) {
    i = skipSpace(text, i, end);
    if (i >= end || text.charCodeAt(i) !== 0x22) return undefined;
    const close = stringEnd(text, i, end);
    const raw = text.slice(i, close + 1);
    const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    if (keys.has(key)) return key;
    keys.add(key);
    i = skipSpace(text, close + 1, end) + 1; // past the colon
    i = valueEnd(text, skipSpace(text, i, end), end);
    i = skipSpace(text, i, end);
    if (text.charCodeAt(i) !== 0x2c) return undefined;
    i++;
  }
}

/** True when `value` (at nesting level `depth`) nests deeper than {@link MAX_JSON_DEPTH}. */
function depthBeyond(value: object, depth: number): boolean {
  if (depth > MAX_JSON_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value)
      if (typeof item === 'object' && item !== null && depthBeyond(item, depth + 1)) return true;
  } else {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null && depthBeyond(item, depth + 1)) return true;
    }
  }
  return false;
}

/** A key for a message: at most 60 characters. */
function shortKey(key: string): string {
  return key.length > 60 ? `${key.slice(0, 59)}…` : key;
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
