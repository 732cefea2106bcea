/**
 * A chunked byte source over a local file, gzip-decompressed on the fly when the file starts with
 * the gzip magic bytes (1f 8b), whatever its name. The CSV and JSONL readers pull bytes into their
 * own buffers through it, so a plain file is read straight into the tokenizer's buffer with no copy.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.ts';

/** Default bytes per read: large reads keep the per-call overhead negligible. */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** Output chunk of the gunzip stream: larger than zlib's 16 KiB default to cut per-chunk overhead. */
const GUNZIP_CHUNK_SIZE = 1 << 18;

/** Reads of a file's (decompressed) bytes, front to back. */
export interface ByteSource {
  /** True when the file is gzip-compressed (the bytes read are the decompressed ones). */
  readonly compressed: boolean;
  /**
   * Reads up to `length` bytes into `target` at `offset`. Returns the number of bytes read,
   * 0 at the end of the data. Throws `InputError` for a broken or truncated gzip stream.
   */
  read(target: Uint8Array, offset: number, length: number): Promise<number>;
  /** Releases the file. Safe to call more than once. */
  close(): Promise<void>;
}

/** True when the bytes start with the gzip magic number. */
export function isGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads the first `count` bytes of a file (fewer when the file is shorter). */
export async function readFileHead(path: string, count: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(count);
    const { bytesRead } = await handle.read(head, 0, count, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Opens a file for sequential reading, decompressing it when it is gzip. `skip` bytes of the
 * (decompressed) data are skipped first: readers read the header at open time, release the file,
 * and reopen it past what they already hold when the rows are streamed.
 * `displayPath` is the path as the user gave it, used in error messages.
 */
export async function openByteSource(path: string, displayPath: string, skip = 0): Promise<ByteSource> {
  const head = await readFileHead(path, 2);
  if (isGzipMagic(head)) {
    const source = new GzipSource(path, displayPath);
    if (skip > 0) await source.skip(skip);
    return source;
  }
  const handle = await open(path, 'r');
  return new PlainSource(handle, skip);
}

/**
 * Reads a plain file one chunk ahead: while the caller tokenizes a chunk, the next one is read
 * into a staging buffer on libuv's thread pool, which takes the kernel's copy off the main thread
 * (about 15% of a CSV pass) for one extra memory copy.
 */
class PlainSource implements ByteSource {
  readonly compressed = false;
  private handle: FileHandle | null;
  private position: number;
  /** The chunk being consumed, and the buffer the read ahead fills. */
  private current = new Uint8Array(DEFAULT_CHUNK_SIZE);
  private spare = new Uint8Array(DEFAULT_CHUNK_SIZE);
  private currentPos = 0;
  private currentEnd = 0;
  private ahead: Promise<number> | null = null;
  private done = false;
  constructor(handle: FileHandle, position: number) {
    this.handle = handle;
    this.position = position;
  }
  private readInto(into: Uint8Array): Promise<number> {
    const handle = this.handle;
    if (handle === null) return Promise.resolve(0);
    const position = this.position;
    this.position += into.length;
    const promise = handle.read(into, 0, into.length, position).then((result) => {
      // A short read: later reads start right after what was actually read.
      if (result.bytesRead < into.length) this.position = position + result.bytesRead;
      return result.bytesRead;
    });
    // Awaited by the next read; this only keeps an unread failure from counting as unhandled.
    promise.catch(() => {});
    return promise;
  }
  async read(target: Uint8Array, offset: number, length: number): Promise<number> {
    if (length <= 0) return 0;
    if (this.currentPos >= this.currentEnd) {
      if (this.done) return 0;
      const count = await (this.ahead ?? this.readInto(this.spare));
      this.ahead = null;
      const filled = this.spare;
      this.spare = this.current;
      this.current = filled;
      this.currentPos = 0;
      this.currentEnd = count;
      if (count === 0) {
        this.done = true;
        return 0;
      }
      // The old chunk is fully consumed: read the next one into it while the caller works.
      this.ahead = this.readInto(this.spare);
    }
    const used = Math.min(length, this.currentEnd - this.currentPos);
    target.set(this.current.subarray(this.currentPos, this.currentPos + used), offset);
    this.currentPos += used;
    return used;
  }
  async close(): Promise<void> {
    this.done = true;
    // Let a read in flight finish before the descriptor goes away.
    await this.ahead?.catch(() => {});
    this.ahead = null;
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }
}

class GzipSource implements ByteSource {
  readonly compressed = true;
  private readonly displayPath: string;
  private readonly file: ReturnType<typeof createReadStream>;
  private readonly gunzip: ReturnType<typeof createGunzip>;
  private readonly chunks: AsyncIterator<Buffer>;
  /** Unconsumed part of the last decompressed chunk. */
  private pending: Buffer | null = null;
  private done = false;
  constructor(path: string, displayPath: string) {
    this.displayPath = displayPath;
    this.file = createReadStream(path, { highWaterMark: DEFAULT_CHUNK_SIZE });
    this.gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_SIZE });
    this.file.on('error', (error) => this.gunzip.destroy(error));
    this.file.pipe(this.gunzip);
    this.chunks = this.gunzip[Symbol.asyncIterator]();
  }
  private async next(): Promise<Buffer | null> {
    if (this.pending !== null && this.pending.length > 0) return this.pending;
    if (this.done) return null;
    let result: IteratorResult<Buffer>;
    try {
      result = await this.chunks.next();
    } catch (error) {
      this.done = true;
      throw gzipError(this.displayPath, error);
    }
    if (result.done) {
      this.done = true;
      this.pending = null;
      return null;
    }
    this.pending = result.value;
    return this.pending;
  }
  async skip(count: number): Promise<void> {
    while (count > 0) {
      const chunk = await this.next();
      if (chunk === null) return;
      const used = Math.min(count, chunk.length);
      this.pending = chunk.subarray(used);
      count -= used;
    }
  }
  async read(target: Uint8Array, offset: number, length: number): Promise<number> {
    let filled = 0;
    // Fill the whole request when the stream has the bytes: callers size reads on purpose.
    while (filled < length) {
      const chunk = await this.next();
      if (chunk === null) break;
      const used = Math.min(length - filled, chunk.length);
      target.set(used === chunk.length ? chunk : chunk.subarray(0, used), offset + filled);
      this.pending = chunk.subarray(used);
      filled += used;
    }
    return filled;
  }
  async close(): Promise<void> {
    this.done = true;
    this.pending = null;
    this.file.unpipe(this.gunzip);
    this.file.destroy();
    this.gunzip.destroy();
  }
}

/** Maps a zlib failure to a message the user can act on. */
function gzipError(displayPath: string, error: unknown): Error {
  if (error instanceof InputError) return error;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
    return new InputError(
      `${displayPath} is truncated: the gzip data ends early (${message}). ` +
        'The file was probably cut off while being copied or written; recreate or download it again.',
      { file: displayPath },
      { cause: error },
    );
  }
  if (code?.startsWith('Z_')) {
    return new InputError(
      `${displayPath} is not a valid gzip file (${message}). ` +
        'It starts like gzip (bytes 1f 8b) but cannot be decompressed: recreate it with gzip, or store it uncompressed.',
      { file: displayPath },
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(message);
}

/** Number of LF bytes in `[from, to)`. */
export function countLineBreaks(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (bytes[i] === 0x0a) count++;
  return count;
}

/**
 * Throws an `InputError` naming the line of the first invalid UTF-8 sequence in `[from, to)`,
 * where `from` is on line `line`. `isUtf8` (SIMD) makes the common, valid case nearly free, so
 * the readers check whole batches with it rather than byte by byte in their loops.
 */
export function assertUtf8(bytes: Uint8Array, from: number, to: number, line: number, file: string): void {
  if (to <= from || isUtf8(bytes.subarray(from, to))) return;
  const bad = findInvalidUtf8(bytes, from, to);
  const badLine = line + countLineBreaks(bytes, from, bad);
  const hex = Array.from(bytes.subarray(bad, Math.min(bad + 4, to)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join(' ');
  throw new InputError(
    `${file} line ${badLine}: invalid UTF-8 (bytes ${hex}); expected UTF-8 text. The file is probably in another ` +
      'encoding such as Latin-1 or Windows-1252: re-encode it as UTF-8, e.g. ' +
      `\`iconv -f WINDOWS-1252 -t UTF-8 ${file} > converted\` (or save it as "UTF-8" from your editor or spreadsheet).`,
    { file, line: badLine },
  );
}

/** Offset of the first byte of an invalid UTF-8 sequence in `[from, to)` (`to` when all is valid). */
export function findInvalidUtf8(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = bytes[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    if (i + need >= to) return i;
    let code = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = bytes[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      code = (code << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return to;
}
