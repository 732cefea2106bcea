/**
 * Reproducible, streaming ZIP archives (with ZIP64), a strict reader for `verify`, and a bounded
 * extraction for packages fetched from elsewhere.
 *
 * The writer gives byte-identical archives for the same inputs: entries sorted by the bytes of
 * their UTF-8 names, one fixed DOS time (the given date, in UTC) for every entry, mode 0644 in the
 * Unix external attributes, no extended timestamps, owners or other variable extra fields; STORE
 * by default, DEFLATE (zlib level 9) on request for small text entries.
 *
 * Layout of an entry:
 * - in-memory bytes: the local header carries the CRC-32 and sizes, no data descriptor;
 * - a file on disk: the data is streamed once and the local header has bit 3 set (CRC and sizes
 *   zero), the values follow in a data descriptor. A second pass over the file to put them in the
 *   header would cost an estimated 50 % more time. Readers that go by the central directory
 *   (unzip, Python's zipfile, yauzl, Java's ZipFile, our reader: all checked) are fine with it; a
 *   strictly streaming reader of stored entries is not (Java's ZipInputStream refuses them).
 * ZIP64 extra fields, the ZIP64 end record and its locator are written where a size, an offset or
 * the entry count needs them (`zip64: 'auto'`), or everywhere (`zip64: 'always'`, used by tests to
 * check readers without writing 4 GiB).
 *
 * Files are read once, in 1 MiB chunks: CRC-32 (`zlib.crc32`) and the archive's SHA-256 on the main
 * thread, the entry's SHA-256 of large stored files on a worker thread reading the same shared
 * buffers (both hashes on one thread take twice as long; the second core is otherwise idle).
 *
 * Deflated output depends on the zlib that Node bundles: the same Node version gives the same
 * bytes; across Node versions only stored entries are guaranteed identical.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream, readSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline as pipelineCallback, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { crc32, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';
import { HASH_WORKER_THRESHOLD } from '../digest.ts';
import { InputError } from '../errors.ts';

// ---------------------------------------------------------------------------------------------
// Public types

/** One file to put into an archive. */
export interface ZipEntryInput {
  /** Name inside the archive: relative, `/`-separated, no `.`/`..` segments, no directories. */
  name: string;
  /** A file on disk (streamed, never loaded whole) or bytes in memory. */
  source: { path: string } | { bytes: Uint8Array };
  /** DEFLATE at zlib level 9 instead of STORE: for small text entries (JSON, Markdown). Default false. */
  compress?: boolean;
}

/** What was written for one entry. */
export interface ZipEntryWritten {
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  /** Size of the data as stored in the archive. */
  compressedSize: number;
  /** CRC-32 of the uncompressed data (unsigned). */
  crc32: number;
  /** SHA-256 (hex) of the uncompressed data. */
  sha256: string;
  method: ZipMethod;
}

/** Options of {@link writeZip}. */
export interface WriteZipOptions {
  /** Modification time of every entry (e.g. the commit time), stored as DOS date/time in UTC. */
  mtime: Date;
  /** `'auto'` (default): ZIP64 records only where needed; `'always'`: on every entry and at the end. */
  zip64?: 'auto' | 'always';
  /**
   * Entries that depend on the others' digests (a manifest that lists them): called once the
   * given entries are written, with what was written; its entries follow them (sorted among
   * themselves), so every byte is read and hashed once.
   */
  finish?: (written: readonly ZipEntryWritten[]) => Promise<ZipEntryInput[]>;
}

/** Result of {@link writeZip}. */
export interface WrittenZip {
  /** SHA-256 (hex) of the whole archive, computed while writing. */
  sha256: string;
  /** Size of the archive in bytes. */
  bytes: number;
  /** The entries in archive order (sorted by name; `finish`'s entries last, sorted among themselves). */
  entries: ZipEntryWritten[];
}

/** An entry as listed by the central directory. */
export interface ZipEntryInfo {
  name: string;
  size: number;
  compressedSize: number;
  crc32: number;
  method: ZipMethod;
  /** Offset of the entry's local header in the archive. */
  offset: number;
}

/** The two compression methods written and read. */
export type ZipMethod = 'store' | 'deflate';

/**
 * What an archive read from elsewhere may hold (documented in the README's limits). Packages store
 * their weights uncompressed and deflate only JSON and Markdown, so a real package unpacks to little
 * more than its own size; an archive that would unpack to much more is a decompression bomb.
 */
export const ZIP_LIMITS = {
  /** Entries in one archive. */
  entries: 10_000,
  /** Bytes that unpacking may add beyond the archive's own size (what decompression produces). */
  expansionBytes: 256 * 1024 * 1024,
} as const;

/** Options of {@link extractZip}. */
export interface ExtractZipOptions {
  /** The entries to unpack, by name (each must be a file entry of the archive); default: every file. */
  names?: ReadonlySet<string>;
  /** Largest total of unpacked bytes; default: the archive's size plus {@link ZIP_LIMITS}`.expansionBytes`. */
  maxBytes?: number;
  /** Largest number of entries in the archive; default {@link ZIP_LIMITS}`.entries`. */
  maxEntries?: number;
  /** Called as each file is written (before the folder is renamed into place); throw to refuse it. */
  check?: (file: ExtractedFile) => void;
}

/** A file written by {@link extractZip}. */
export interface ExtractedFile {
  name: string;
  size: number;
  /** SHA-256 (hex) of the bytes written. */
  sha256: string;
}

// ---------------------------------------------------------------------------------------------
// Format constants (APPNOTE.TXT 6.3.x)

const SIGNATURE = {
  localHeader: 0x04034b50,
  dataDescriptor: 0x08074b50,
  centralHeader: 0x02014b50,
  zip64End: 0x06064b50,
  zip64Locator: 0x07064b50,
  end: 0x06054b50,
} as const;

const METHOD_CODE = { store: 0, deflate: 8 } as const;

const FLAG = {
  encrypted: 0x0001,
  dataDescriptor: 0x0008,
  strongEncryption: 0x0040,
  utf8: 0x0800,
  maskedHeaders: 0x2000,
} as const;

/** "Version needed to extract": 2.0 (deflate, data descriptors), 4.5 (ZIP64). */
const VERSION_NEEDED = { default: 20, zip64: 45 } as const;
/** Made by Unix (3), spec 4.5: tells unzip that the external attributes hold a Unix mode. */
const VERSION_MADE_BY = (3 << 8) | 45;
/** Regular file, mode 0644, in the high 16 bits. */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
/** "Made by" hosts whose external attributes hold a Unix mode in their high 16 bits (Unix, macOS). */
const UNIX_HOSTS: ReadonlySet<number> = new Set([3, 19]);
/** File type bits of a Unix mode. */
const MODE_TYPE = { mask: 0o170000, regular: 0o100000, directory: 0o040000, symlink: 0o120000 } as const;
/** The MS-DOS "directory" attribute (low byte of the external attributes, set by most zippers). */
const DOS_DIRECTORY = 0x10;

const SIZE = {
  localHeader: 30,
  centralHeader: 46,
  end: 22,
  zip64End: 56,
  zip64Locator: 20,
  /** The ZIP64 extra field of a local header: id, length, size, compressed size. */
  zip64LocalExtra: 20,
  maxComment: 0xffff,
} as const;

/** A 16- or 32-bit field at this value means "see the ZIP64 record". */
const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;
const ZIP64_EXTRA_ID = 0x0001;

/** Read/write unit: large enough that per-chunk overhead is small, small enough for flat memory. */
const CHUNK_SIZE = 1 << 20;
/** Chunks in flight: one being read, one being hashed/written, slack for the worker to lag. */
const SLOT_COUNT = 4;
/** Headers and small entries are gathered into writes of this size. */
const BATCH_SIZE = 256 * 1024;
/** Fixed, so that the same input gives the same compressed bytes. */
const DEFLATE_OPTIONS = { level: 9, memLevel: 8, windowBits: 15 } as const;

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => {};

// ---------------------------------------------------------------------------------------------
// Writer

interface PlannedEntry {
  input: ZipEntryInput;
  name: string;
  nameBytes: Buffer;
  method: ZipMethod;
  /** The file's size from stat, or the bytes' length. */
  size: number;
}

interface CentralRecord {
  nameBytes: Buffer;
  flags: number;
  method: ZipMethod;
  crc32: number;
  size: number;
  compressedSize: number;
  offset: number;
  localZip64: boolean;
}

/**
 * Writes a reproducible ZIP archive at `path` from files and in-memory bytes, atomically (a
 * temporary file next to `path`, renamed into place; removed on error).
 *
 * Entries are sorted by name (bytewise, UTF-8), whatever order they are given in. Each file is read
 * once; its CRC-32 and SHA-256 and the archive's SHA-256 are computed on the way.
 *
 * Throws `InputError` for a name that is unsafe or given twice, or a source file that cannot be
 * read or changes size while it is archived.
 */
export async function writeZip(
  path: string,
  entries: ZipEntryInput[],
  options: WriteZipOptions,
): Promise<WrittenZip> {
  const dos = toDosDateTime(options.mtime);
  const always = (options.zip64 ?? 'auto') === 'always';
  const planned = await planEntries(path, entries);
  const laterNeedsWorker = options.finish !== undefined;

  await mkdir(dirname(path), { recursive: true });
  const memory = new SharedArrayBuffer(CHUNK_SIZE * SLOT_COUNT);
  const slots = Array.from({ length: SLOT_COUNT }, (_, i) => Buffer.from(memory, i * CHUNK_SIZE, CHUNK_SIZE));
  const usesWorker =
    laterNeedsWorker ||
    planned.some((e) => 'path' in e.input.source && e.method === 'store' && e.size >= HASH_WORKER_THRESHOLD);
  // Started first: it boots (~20 ms) while the first entries are written.
  const worker = usesWorker ? new WorkerHasher(memory) : undefined;
  try {
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const output = await open(temporary, 'wx');
    const sink = new ArchiveSink(output);
    try {
      const written: ZipEntryWritten[] = [];
      const records: CentralRecord[] = [];
      const writeEntries = async (list: PlannedEntry[]) => {
        for (const entry of list) {
          const offset = sink.position;
          const result =
            'bytes' in entry.input.source
              ? writeBytesEntry(sink, entry, entry.input.source.bytes, dos, always)
              : await writePathEntry(sink, entry, entry.input.source.path, {
                  dos,
                  always,
                  slots,
                  worker,
                  path,
                });
          written.push(result.written);
          records.push({ ...result.record, offset });
        }
      };
      await writeEntries(planned);
      if (options.finish) {
        const later = await planEntries(path, await options.finish([...written]));
        const taken = new Set(planned.map((e) => e.name));
        const clash = later.find((e) => taken.has(e.name));
        if (clash) {
          throw new InputError(`Cannot write ${path}: entry name "${clash.name}" is given twice.`, {
            file: path,
          });
        }
        await writeEntries(later);
      }
      writeCentralDirectory(sink, records, dos, always);
      const { sha256, bytes } = await sink.finish();
      await output.close();
      await rename(temporary, path);
      return { sha256, bytes, entries: written };
    } catch (error) {
      await sink.settle();
      await output.close().catch(ignore);
      await rm(temporary, { force: true });
      throw error;
    }
  } finally {
    await worker?.close();
  }
}

/** Validates and sorts the entries; stats the files (a missing one fails before anything is written). */
async function planEntries(archive: string, entries: ZipEntryInput[]): Promise<PlannedEntry[]> {
  const planned: PlannedEntry[] = [];
  for (const input of entries) {
    const problem = describeNameProblem(input.name);
    if (problem !== undefined) {
      throw new InputError(`Cannot write ${archive}: entry name "${input.name}" ${problem}.`, {
        file: archive,
      });
    }
    let size: number;
    if ('bytes' in input.source) {
      size = input.source.bytes.byteLength;
    } else if ('path' in input.source) {
      size = await statSource(archive, input.name, input.source.path);
    } else {
      throw new TypeError(`writeZip: entry "${input.name}" needs a source { path } or { bytes }.`);
    }
    planned.push({
      input,
      name: input.name,
      nameBytes: Buffer.from(input.name, 'utf8'),
      method: input.compress ? 'deflate' : 'store',
      size,
    });
  }
  planned.sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
  for (let i = 1; i < planned.length; i++) {
    if (planned[i].nameBytes.equals(planned[i - 1].nameBytes)) {
      throw new InputError(`Cannot write ${archive}: entry name "${planned[i].name}" is given twice.`, {
        file: archive,
      });
    }
  }
  const conflict = new NameConflicts();
  for (const entry of planned) {
    const problem = conflict.add(entry.name);
    if (problem !== undefined) throw new InputError(`Cannot write ${archive}: ${problem}`, { file: archive });
  }
  return planned;
}

async function statSource(archive: string, name: string, path: string): Promise<number> {
  const handle = await openSource(archive, name, path);
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new InputError(`Cannot write ${archive}: ${path} (entry "${name}") is not a regular file.`, {
        file: path,
      });
    }
    return info.size;
  } finally {
    await handle.close();
  }
}

async function openSource(archive: string, name: string, path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new InputError(
      `Cannot write ${archive}: cannot read ${path} (entry "${name}"): ${(error as Error).message}`,
      { file: path },
      { cause: error },
    );
  }
}

interface EntryResult {
  written: ZipEntryWritten;
  record: Omit<CentralRecord, 'offset'>;
}

/** An in-memory entry: everything is known before its header, so no data descriptor. */
function writeBytesEntry(
  sink: ArchiveSink,
  entry: PlannedEntry,
  bytes: Uint8Array,
  dos: DosDateTime,
  always: boolean,
): EntryResult {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = crc32(data);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const stored = entry.method === 'deflate' ? deflateRawSync(data, DEFLATE_OPTIONS) : data;
  const localZip64 = always || data.length >= MAX_32 || stored.length >= MAX_32;
  const flags = FLAG.utf8;
  sink.append(
    encodeLocalHeader({
      nameBytes: entry.nameBytes,
      flags,
      method: entry.method,
      dos,
      crc32: crc,
      size: data.length,
      compressedSize: stored.length,
      zip64: localZip64,
    }),
  );
  sink.append(stored);
  return {
    written: {
      name: entry.name,
      size: data.length,
      compressedSize: stored.length,
      crc32: crc,
      sha256,
      method: entry.method,
    },
    record: {
      nameBytes: entry.nameBytes,
      flags,
      method: entry.method,
      crc32: crc,
      size: data.length,
      compressedSize: stored.length,
      localZip64,
    },
  };
}

interface PathEntryContext {
  dos: DosDateTime;
  always: boolean;
  slots: Buffer[];
  worker: WorkerHasher | undefined;
  /** The archive, for messages. */
  path: string;
}

/** A file on disk: header, data streamed once, then a data descriptor with CRC and sizes. */
async function writePathEntry(
  sink: ArchiveSink,
  entry: PlannedEntry,
  source: string,
  context: PathEntryContext,
): Promise<EntryResult> {
  const handle = await openSource(context.path, entry.name, source);
  try {
    const changed = (): InputError =>
      new InputError(
        `Cannot write ${context.path}: ${source} (entry "${entry.name}") changed while it was being archived.`,
        { file: source },
      );
    const size = (await handle.stat()).size;
    if (size !== entry.size) throw changed();
    const largest = entry.method === 'deflate' ? deflateBound(size) : size;
    const localZip64 = context.always || largest >= MAX_32;
    const flags = FLAG.utf8 | FLAG.dataDescriptor;
    sink.append(
      encodeLocalHeader({
        nameBytes: entry.nameBytes,
        flags,
        method: entry.method,
        dos: context.dos,
        crc32: 0,
        size: 0,
        compressedSize: 0,
        zip64: localZip64,
      }),
    );
    let streamed: { crc32: number; sha256: string; compressedSize: number };
    if (entry.method === 'deflate') {
      streamed = await streamDeflated(handle, size, sink, changed);
    } else {
      const hasher =
        context.worker && size >= HASH_WORKER_THRESHOLD
          ? context.worker
          : new MainThreadHasher(context.slots);
      const crc = await streamStored(handle, size, sink, context.slots, hasher, changed);
      streamed = { crc32: crc, sha256: await hasher.digest(), compressedSize: size };
    }
    if ((await handle.stat()).size !== size) throw changed();
    sink.append(encodeDataDescriptor(streamed.crc32, streamed.compressedSize, size, localZip64));
    return {
      written: {
        name: entry.name,
        size,
        compressedSize: streamed.compressedSize,
        crc32: streamed.crc32,
        sha256: streamed.sha256,
        method: entry.method,
      },
      record: {
        nameBytes: entry.nameBytes,
        flags,
        method: entry.method,
        crc32: streamed.crc32,
        size,
        compressedSize: streamed.compressedSize,
        localZip64,
      },
    };
  } finally {
    await handle.close();
  }
}

/**
 * Streams `size` bytes of a file into the archive through the shared slots. The read is
 * synchronous, on this thread: with the entry hash on the worker and the writes on libuv's pool,
 * that balances the CPU work between the two cores best (an asynchronous read left this thread
 * waiting a third of the time), and the chunk is still in this core's cache for the CRC and the
 * archive hash. A slot is reused only once its write and its entry hash are done. Returns the CRC-32.
 */
async function streamStored(
  source: FileHandle,
  size: number,
  sink: ArchiveSink,
  slots: Buffer[],
  hasher: EntryHasher,
  changed: () => Error,
): Promise<number> {
  hasher.begin();
  const busy: Promise<unknown>[] = slots.map(() => RESOLVED);
  let crc = 0;
  try {
    for (let k = 0, position = 0; position < size; k++) {
      const slot = k % slots.length;
      await busy[slot];
      const length = Math.min(CHUNK_SIZE, size - position);
      if (readIntoSync(source.fd, slots[slot], length, position) !== length) throw changed();
      position += length;
      const chunk = slots[slot].subarray(0, length);
      crc = crc32(chunk, crc);
      const done = Promise.all([sink.append(chunk), hasher.update(slot, length)]);
      done.catch(ignore); // awaited before the slot is reused; this only keeps it from being "unhandled"
      busy[slot] = done;
    }
    await Promise.all(busy);
    return crc;
  } catch (error) {
    // Nothing may still be writing from or hashing the slots when the caller moves on.
    await Promise.allSettled(busy);
    throw error;
  }
}

/** Deflates a file into the archive, streaming, hashing the uncompressed data on the way. */
async function streamDeflated(
  source: FileHandle,
  size: number,
  sink: ArchiveSink,
  changed: () => Error,
): Promise<{ crc32: number; sha256: string; compressedSize: number }> {
  const hash = createHash('sha256');
  let crc = 0;
  let compressedSize = 0;
  await pipeline(
    async function* readSource() {
      for (let position = 0; position < size; ) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, size - position));
        const length = await readInto(source, chunk, chunk.length, position);
        if (length !== chunk.length) throw changed();
        crc = crc32(chunk, crc);
        hash.update(chunk);
        position += length;
        yield chunk;
      }
    },
    createDeflateRaw(DEFLATE_OPTIONS),
    async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) {
        compressedSize += chunk.length;
        await sink.append(chunk);
      }
    },
  );
  return { crc32: crc, sha256: hash.digest('hex'), compressedSize };
}

/** zlib's deflateBound for the default memLevel: the most deflate can expand `size` bytes. */
function deflateBound(size: number): number {
  return size + Math.floor(size / 4096) + Math.floor(size / 16384) + Math.floor(size / 33554432) + 13;
}

/** Reads up to `length` bytes at `position`, synchronously; fewer only at the end of the file. */
function readIntoSync(fd: number, buffer: Buffer, length: number, position: number): number {
  let filled = 0;
  while (filled < length) {
    const bytesRead = readSync(fd, buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
async function readInto(
  handle: FileHandle,
  buffer: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

function writeCentralDirectory(
  sink: ArchiveSink,
  records: CentralRecord[],
  dos: DosDateTime,
  always: boolean,
): void {
  const start = sink.position;
  for (const record of records) sink.append(encodeCentralHeader(record, dos, always));
  const size = sink.position - start;
  const zip64 = always || records.length >= MAX_16 || start >= MAX_32 || size >= MAX_32;
  if (zip64) {
    const zip64End = sink.position;
    const record = Buffer.alloc(SIZE.zip64End + SIZE.zip64Locator);
    record.writeUInt32LE(SIGNATURE.zip64End, 0);
    record.writeBigUInt64LE(BigInt(SIZE.zip64End - 12), 4); // size of the rest of the record
    record.writeUInt16LE(VERSION_MADE_BY, 12);
    record.writeUInt16LE(VERSION_NEEDED.zip64, 14);
    // disk numbers at 16 and 20 stay 0
    record.writeBigUInt64LE(BigInt(records.length), 24);
    record.writeBigUInt64LE(BigInt(records.length), 32);
    record.writeBigUInt64LE(BigInt(size), 40);
    record.writeBigUInt64LE(BigInt(start), 48);
    const locator = SIZE.zip64End;
    record.writeUInt32LE(SIGNATURE.zip64Locator, locator);
    record.writeBigUInt64LE(BigInt(zip64End), locator + 8);
    record.writeUInt32LE(1, locator + 16); // total number of disks
    sink.append(record);
  }
  const end = Buffer.alloc(SIZE.end);
  end.writeUInt32LE(SIGNATURE.end, 0);
  end.writeUInt16LE(zip64 ? MAX_16 : records.length, 8);
  end.writeUInt16LE(zip64 ? MAX_16 : records.length, 10);
  end.writeUInt32LE(zip64 ? MAX_32 : size, 12);
  end.writeUInt32LE(zip64 ? MAX_32 : start, 16);
  sink.append(end);
}

interface LocalHeaderFields {
  nameBytes: Buffer;
  flags: number;
  method: ZipMethod;
  dos: DosDateTime;
  crc32: number;
  size: number;
  compressedSize: number;
  zip64: boolean;
}

function encodeLocalHeader(fields: LocalHeaderFields): Buffer {
  const extraLength = fields.zip64 ? SIZE.zip64LocalExtra : 0;
  const header = Buffer.alloc(SIZE.localHeader + fields.nameBytes.length + extraLength);
  header.writeUInt32LE(SIGNATURE.localHeader, 0);
  header.writeUInt16LE(fields.zip64 ? VERSION_NEEDED.zip64 : VERSION_NEEDED.default, 4);
  header.writeUInt16LE(fields.flags, 6);
  header.writeUInt16LE(METHOD_CODE[fields.method], 8);
  header.writeUInt16LE(fields.dos.time, 10);
  header.writeUInt16LE(fields.dos.date, 12);
  header.writeUInt32LE(fields.crc32, 14);
  header.writeUInt32LE(fields.zip64 ? MAX_32 : fields.compressedSize, 18);
  header.writeUInt32LE(fields.zip64 ? MAX_32 : fields.size, 22);
  header.writeUInt16LE(fields.nameBytes.length, 26);
  header.writeUInt16LE(extraLength, 28);
  fields.nameBytes.copy(header, SIZE.localHeader);
  if (fields.zip64) {
    // The local ZIP64 extra holds both sizes (APPNOTE 4.5.3), zero when a data descriptor follows.
    const at = SIZE.localHeader + fields.nameBytes.length;
    header.writeUInt16LE(ZIP64_EXTRA_ID, at);
    header.writeUInt16LE(16, at + 2);
    header.writeBigUInt64LE(BigInt(fields.size), at + 4);
    header.writeBigUInt64LE(BigInt(fields.compressedSize), at + 12);
  }
  return header;
}

/** Signed data descriptor; 8-byte sizes when the local header had a ZIP64 extra (APPNOTE 4.3.9). */
function encodeDataDescriptor(crc: number, compressedSize: number, size: number, zip64: boolean): Buffer {
  const descriptor = Buffer.alloc(zip64 ? 24 : 16);
  descriptor.writeUInt32LE(SIGNATURE.dataDescriptor, 0);
  descriptor.writeUInt32LE(crc, 4);
  if (zip64) {
    descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(size), 16);
  } else {
    descriptor.writeUInt32LE(compressedSize, 8);
    descriptor.writeUInt32LE(size, 12);
  }
  return descriptor;
}

function encodeCentralHeader(record: CentralRecord, dos: DosDateTime, always: boolean): Buffer {
  // A field that does not fit (or every field, with 'always') moves to the ZIP64 extra, in the
  // spec's order: size, compressed size, offset.
  const moved = [record.size, record.compressedSize, record.offset].map((value) => always || value >= MAX_32);
  const extraValues = [record.size, record.compressedSize, record.offset].filter((_, i) => moved[i]);
  const extraLength = extraValues.length > 0 ? 4 + 8 * extraValues.length : 0;
  const zip64 = record.localZip64 || extraLength > 0;
  const header = Buffer.alloc(SIZE.centralHeader + record.nameBytes.length + extraLength);
  header.writeUInt32LE(SIGNATURE.centralHeader, 0);
  header.writeUInt16LE(VERSION_MADE_BY, 4);
  header.writeUInt16LE(zip64 ? VERSION_NEEDED.zip64 : VERSION_NEEDED.default, 6);
  header.writeUInt16LE(record.flags, 8);
  header.writeUInt16LE(METHOD_CODE[record.method], 10);
  header.writeUInt16LE(dos.time, 12);
  header.writeUInt16LE(dos.date, 14);
  header.writeUInt32LE(record.crc32, 16);
  header.writeUInt32LE(moved[1] ? MAX_32 : record.compressedSize, 20);
  header.writeUInt32LE(moved[0] ? MAX_32 : record.size, 24);
  header.writeUInt16LE(record.nameBytes.length, 28);
  header.writeUInt16LE(extraLength, 30);
  // comment length, disk number start, internal attributes: 0
  header.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
  header.writeUInt32LE(moved[2] ? MAX_32 : record.offset, 42);
  record.nameBytes.copy(header, SIZE.centralHeader);
  if (extraLength > 0) {
    let at = SIZE.centralHeader + record.nameBytes.length;
    header.writeUInt16LE(ZIP64_EXTRA_ID, at);
    header.writeUInt16LE(extraLength - 4, at + 2);
    at += 4;
    for (const value of extraValues) {
      header.writeBigUInt64LE(BigInt(value), at);
      at += 8;
    }
  }
  return header;
}

interface DosDateTime {
  time: number;
  date: number;
}

/** DOS date and time of `date` in UTC, clamped to the format's range (1980–2107), 2-second steps. */
function toDosDateTime(date: Date): DosDateTime {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError('writeZip: options.mtime must be a valid Date.');
  }
  const first = Date.UTC(1980, 0, 1);
  const last = Date.UTC(2107, 11, 31, 23, 59, 58);
  const clamped = new Date(Math.min(Math.max(date.getTime(), first), last));
  return {
    time: (clamped.getUTCHours() << 11) | (clamped.getUTCMinutes() << 5) | (clamped.getUTCSeconds() >> 1),
    date:
      ((clamped.getUTCFullYear() - 1980) << 9) | ((clamped.getUTCMonth() + 1) << 5) | clamped.getUTCDate(),
  };
}

/**
 * Why `name` is not a safe entry name, or undefined: names must be relative `/`-separated paths
 * that every unzip extracts to the same place (no `..`, no backslash, no drive, no empty segment).
 */
function describeNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (!name.isWellFormed()) return 'is not valid Unicode';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (name.includes('\\')) return 'contains a backslash (use "/")';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.endsWith('/')) return 'names a directory (only files are archived)';
  const segments = name.split('/');
  if (segments.includes('')) return 'has an empty path segment ("//")';
  if (segments.some((s) => s === '.' || s === '..')) return 'has a "." or ".." segment';
  if (Buffer.byteLength(name, 'utf8') > MAX_16) return 'is longer than 65,535 bytes';
  return undefined;
}

/**
 * Finds names that unpack to the same place, or to places that collide: the same name apart from
 * upper/lower case or Unicode normalization (one file on macOS and Windows, two on Linux, so the
 * archive's meaning depends on where it is unpacked), or a file that another entry uses as a folder
 * (`model.onnx` and `model.onnx/`, or `a` and `a/b`).
 */
class NameConflicts {
  /** Folded path (no trailing slash) → the spelling first seen, and whether it is a folder. */
  readonly #paths = new Map<string, { spelling: string; folder: boolean }>();

  /** Adds an entry name (`name/` for a folder entry); a sentence naming both entries on a conflict. */
  add(name: string): string | undefined {
    const folder = name.endsWith('/');
    const segments = (folder ? name.slice(0, -1) : name).split('/');
    for (let i = 1; i <= segments.length; i++) {
      const spelling = segments.slice(0, i).join('/');
      const isFolder = i < segments.length || folder;
      const key = spelling.normalize('NFC').toLowerCase();
      const known = this.#paths.get(key);
      if (known === undefined) {
        this.#paths.set(key, { spelling, folder: isFolder });
        continue;
      }
      if (known.folder !== isFolder) {
        const [file, other] = known.folder ? [spelling, known.spelling] : [known.spelling, spelling];
        return `entry "${name}" conflicts with another: "${file}" is a file in one entry and a folder in another ("${other}/"), so unpacking one would replace or break the other.`;
      }
      if (known.spelling !== spelling) {
        return `entries "${known.spelling}" and "${spelling}" differ only in upper/lower case or Unicode normalization: unpacked on macOS or Windows they are the same file, so one would replace the other.`;
      }
      if (i === segments.length && !isFolder) {
        return `entry "${name}" appears twice.`;
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Output: the archive file and its running SHA-256

/**
 * Appends to the archive: hashes at once, in order; writes one at a time, in order, off the main
 * thread. One write in flight is enough to keep up with hashing, and concurrent writes to one file
 * contend for its inode lock (on a 2-core VM the spinning cost more than the hashing). Small pieces
 * are copied into a batch; large ones are written from the caller's buffer, which must not change
 * until the returned promise settles.
 */
class ArchiveSink {
  readonly #handle: FileHandle;
  readonly #hash = createHash('sha256');
  #position = 0;
  #batch = Buffer.allocUnsafe(BATCH_SIZE);
  #batchLength = 0;
  /** Settles when every write queued so far is done; never rejects (the error is kept). */
  #tail: Promise<void> = RESOLVED;
  #error: unknown;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Bytes appended so far: the offset of the next byte. */
  get position(): number {
    return this.#position;
  }

  append(bytes: Uint8Array): Promise<void> {
    // Thrown, not returned: headers are appended without awaiting, and a rejected promise nobody
    // awaits would be an unhandled rejection.
    if (this.#error !== undefined) throw this.#error;
    this.#hash.update(bytes);
    if (bytes.length <= BATCH_SIZE - this.#batchLength) {
      bytes instanceof Buffer
        ? bytes.copy(this.#batch, this.#batchLength)
        : this.#batch.set(bytes, this.#batchLength);
      this.#batchLength += bytes.length;
      this.#position += bytes.length;
      return this.#batchLength === BATCH_SIZE ? this.#flush() : RESOLVED;
    }
    this.#flush();
    const written = this.#queueWrite(bytes, this.#position);
    this.#position += bytes.length;
    return written;
  }

  /** Writes what is left, waits for every write; the archive's SHA-256 and size. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    this.#flush();
    await this.#tail;
    if (this.#error !== undefined) throw this.#error;
    return { sha256: this.#hash.digest('hex'), bytes: this.#position };
  }

  /** Waits until no write is in flight (failed or not). */
  settle(): Promise<void> {
    return this.#tail;
  }

  #flush(): Promise<void> {
    if (this.#batchLength === 0) return RESOLVED;
    const data = this.#batch.subarray(0, this.#batchLength);
    const written = this.#queueWrite(data, this.#position - this.#batchLength);
    this.#batch = Buffer.allocUnsafe(BATCH_SIZE);
    this.#batchLength = 0;
    return written;
  }

  #queueWrite(data: Uint8Array, position: number): Promise<void> {
    const written = this.#tail.then(() => {
      if (this.#error !== undefined) throw this.#error;
      return writeFully(this.#handle, data, position);
    });
    this.#tail = written.catch((error: unknown) => {
      this.#error ??= error;
    });
    return written;
  }
}

async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry hashes: on the main thread, or on a worker reading the shared slots

interface EntryHasher {
  begin(): void;
  /** Hashes the first `length` bytes of slot `slot`; settles when the slot may be reused. */
  update(slot: number, length: number): Promise<void>;
  digest(): Promise<string>;
}

class MainThreadHasher implements EntryHasher {
  readonly #slots: Buffer[];
  #hash = createHash('sha256');

  constructor(slots: Buffer[]) {
    this.#slots = slots;
  }

  begin(): void {
    this.#hash = createHash('sha256');
  }

  update(slot: number, length: number): Promise<void> {
    this.#hash.update(this.#slots[slot].subarray(0, length));
    return RESOLVED;
  }

  digest(): Promise<string> {
    return Promise.resolve(this.#hash.digest('hex'));
  }
}

/**
 * The worker's code, inline so bundles need no extra file. Replies once per message, in order.
 * Dynamic imports: the code runs as CommonJS or as a module depending on the parent's flags
 * (`--input-type=module` is inherited), and `import()` works in both.
 */
const HASH_WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto')]).then(([threads, crypto]) => {
  const { parentPort, workerData } = threads;
  const memory = Buffer.from(workerData.memory);
  const slotSize = workerData.slotSize;
  let hash = crypto.createHash('sha256');
  parentPort.on('message', (message) => {
    if (message.type === 'begin') {
      hash = crypto.createHash('sha256');
      parentPort.postMessage(null);
    } else if (message.type === 'update') {
      const start = message.slot * slotSize;
      hash.update(memory.subarray(start, start + message.length));
      parentPort.postMessage(null);
    } else {
      parentPort.postMessage(hash.digest('hex'));
    }
  });
});
`;

class WorkerHasher implements EntryHasher {
  readonly #worker: Worker;
  readonly #waiting: { resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  #failure: Error | undefined;

  constructor(memory: SharedArrayBuffer) {
    this.#worker = new Worker(HASH_WORKER_SOURCE, {
      eval: true,
      workerData: { memory, slotSize: CHUNK_SIZE },
    });
    this.#worker.on('message', (value: unknown) => this.#waiting.shift()?.resolve(value));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the hashing worker exited (code ${code})`)));
  }

  begin(): void {
    this.#request({ type: 'begin' }).catch(ignore); // a failure surfaces on the next update or digest
  }

  update(slot: number, length: number): Promise<void> {
    return this.#request({ type: 'update', slot, length }) as Promise<void>;
  }

  digest(): Promise<string> {
    return this.#request({ type: 'digest' }) as Promise<string>;
  }

  async close(): Promise<void> {
    this.#failure ??= new Error('the hashing worker was closed');
    await this.#worker.terminate();
  }

  #request(message: object): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(message);
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#failure);
  }
}

// ---------------------------------------------------------------------------------------------
// Reader

/**
 * Lists the entries of an archive from its central directory (ZIP64 aware), in directory order.
 *
 * Strict, for verifying our packages: throws `InputError` naming the archive when it is not a ZIP
 * archive, is truncated or has data before or after the archive, spans disks, is encrypted, uses a
 * method other than store/deflate, has more than `maxEntries` entries (default
 * {@link ZIP_LIMITS}`.entries`), has an entry name that is unsafe to extract, given twice, or
 * conflicting with another (see {@link NameConflicts}), or an entry that is a symbolic link, a
 * device or a FIFO. Directory entries (`name/`, empty) are listed, not rejected.
 */
export async function readZipEntries(
  path: string,
  options: { maxEntries?: number } = {},
): Promise<ZipEntryInfo[]> {
  const handle = await openArchive(path);
  try {
    const fileSize = (await handle.stat()).size;
    const bad = (what: string): InputError => new InputError(`${path}: ${what}`, { file: path });
    if (fileSize < SIZE.end) throw bad('not a ZIP archive (too short), or truncated.');

    const tailLength = Math.min(fileSize, SIZE.end + SIZE.maxComment);
    const tailStart = fileSize - tailLength;
    const tail = await readExactly(handle, tailStart, tailLength, path);
    let endAt = -1;
    for (let i = tail.length - SIZE.end; i >= 0; i--) {
      if (
        tail.readUInt32LE(i) === SIGNATURE.end &&
        i + SIZE.end + tail.readUInt16LE(i + 20) === tail.length
      ) {
        endAt = i;
        break;
      }
    }
    if (endAt < 0) throw bad('not a ZIP archive, or truncated (no end of central directory record).');
    const endOffset = tailStart + endAt;
    if (tail.readUInt16LE(endAt + 4) !== 0 || tail.readUInt16LE(endAt + 6) !== 0) {
      throw bad('a multi-disk (split) archive, which is not supported.');
    }
    let entriesOnDisk = tail.readUInt16LE(endAt + 8);
    let entryCount = tail.readUInt16LE(endAt + 10);
    let directorySize = tail.readUInt32LE(endAt + 12);
    let directoryOffset = tail.readUInt32LE(endAt + 16);
    let directoryEnd = endOffset;

    const locatorOffset = endOffset - SIZE.zip64Locator;
    const locator =
      locatorOffset >= 0 ? await readExactly(handle, locatorOffset, SIZE.zip64Locator, path) : undefined;
    if (locator && locator.readUInt32LE(0) === SIGNATURE.zip64Locator) {
      if (locator.readUInt32LE(4) !== 0 || locator.readUInt32LE(16) > 1) {
        throw bad('a multi-disk (split) ZIP64 archive, which is not supported.');
      }
      const zip64EndOffset = readSafeUInt64(locator, 8, () => bad('corrupt ZIP64 locator.'));
      if (zip64EndOffset + SIZE.zip64End > locatorOffset) {
        throw bad('corrupt or truncated: the ZIP64 end record is not before its locator.');
      }
      const record = await readExactly(handle, zip64EndOffset, SIZE.zip64End, path);
      if (record.readUInt32LE(0) !== SIGNATURE.zip64End) {
        throw bad('corrupt or truncated: bad ZIP64 end of central directory signature.');
      }
      if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0) {
        throw bad('a multi-disk (split) ZIP64 archive, which is not supported.');
      }
      const corrupt = (): InputError => bad('corrupt ZIP64 end of central directory record.');
      entriesOnDisk = readSafeUInt64(record, 24, corrupt);
      entryCount = readSafeUInt64(record, 32, corrupt);
      directorySize = readSafeUInt64(record, 40, corrupt);
      directoryOffset = readSafeUInt64(record, 48, corrupt);
      directoryEnd = zip64EndOffset;
    }
    if (entriesOnDisk !== entryCount) throw bad('a multi-disk (split) archive, which is not supported.');
    const maxEntries = options.maxEntries ?? ZIP_LIMITS.entries;
    if (entryCount > maxEntries) {
      throw bad(
        `has ${entryCount} entries, more than the limit of ${maxEntries}: a model package holds a handful of files. Refusing to read it.`,
      );
    }
    if (directoryOffset + directorySize !== directoryEnd) {
      throw bad(
        directoryOffset + directorySize > directoryEnd
          ? 'corrupt or truncated: the central directory runs past its end record.'
          : 'unexpected bytes between the central directory and its end record.',
      );
    }
    const directory = await readExactly(handle, directoryOffset, directorySize, path);
    return parseCentralDirectory(directory, entryCount, directoryOffset, bad);
  } finally {
    await handle.close();
  }
}

function parseCentralDirectory(
  directory: Buffer,
  entryCount: number,
  directoryOffset: number,
  bad: (what: string) => InputError,
): ZipEntryInfo[] {
  const entries: ZipEntryInfo[] = [];
  const seen = new Set<string>();
  const conflicts = new NameConflicts();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  for (let index = 0; index < entryCount; index++) {
    if (
      at + SIZE.centralHeader > directory.length ||
      directory.readUInt32LE(at) !== SIGNATURE.centralHeader
    ) {
      throw bad(`corrupt central directory (entry ${index + 1} of ${entryCount}).`);
    }
    const madeBy = directory.readUInt16LE(at + 4) >> 8;
    const flags = directory.readUInt16LE(at + 8);
    const methodCode = directory.readUInt16LE(at + 10);
    const crc = directory.readUInt32LE(at + 16);
    let compressedSize = directory.readUInt32LE(at + 20);
    let size = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    let diskStart = directory.readUInt16LE(at + 34);
    const attributes = directory.readUInt32LE(at + 38);
    let offset = directory.readUInt32LE(at + 42);
    const nameStart = at + SIZE.centralHeader;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > directory.length)
      throw bad(`corrupt central directory (entry ${index + 1} of ${entryCount}).`);

    let name: string;
    try {
      name = decoder.decode(directory.subarray(nameStart, extraStart));
    } catch {
      throw bad(`entry ${index + 1} has a name that is not valid UTF-8.`);
    }
    const entryError = (what: string): InputError => bad(`entry "${name}" ${what}`);
    if (flags & (FLAG.encrypted | FLAG.strongEncryption | FLAG.maskedHeaders)) {
      throw entryError('is encrypted, which is not supported.');
    }
    const method =
      methodCode === METHOD_CODE.store ? 'store' : methodCode === METHOD_CODE.deflate ? 'deflate' : null;
    if (method === null) {
      throw entryError(
        `uses compression method ${methodCode}; only store (0) and deflate (8) are supported.`,
      );
    }

    // Values at their 16/32-bit maximum are in the ZIP64 extra field, in this order.
    const needs = [size === MAX_32, compressedSize === MAX_32, offset === MAX_32, diskStart === MAX_16];
    if (needs.some(Boolean)) {
      const extra = findExtraField(directory.subarray(extraStart, extraStart + extraLength), ZIP64_EXTRA_ID);
      const values: number[] = [];
      const corrupt = (): InputError => entryError('has a corrupt ZIP64 extra field.');
      let cursor = 0;
      for (const [i, needed] of needs.entries()) {
        if (!needed) continue;
        const width = i === 3 ? 4 : 8;
        if (!extra || cursor + width > extra.length) throw corrupt();
        values[i] = width === 8 ? readSafeUInt64(extra, cursor, corrupt) : extra.readUInt32LE(cursor);
        cursor += width;
      }
      if (needs[0]) size = values[0];
      if (needs[1]) compressedSize = values[1];
      if (needs[2]) offset = values[2];
      if (needs[3]) diskStart = values[3];
    }
    if (diskStart !== 0) throw entryError('is on another disk of a split archive, which is not supported.');
    const isDirectory = name.endsWith('/');
    const problem = describeNameProblem(isDirectory ? name.slice(0, -1) : name);
    if (problem !== undefined) throw entryError(`has an unsafe name: it ${problem}.`);
    if (isDirectory && size !== 0) throw entryError('is a directory with data.');
    if (seen.has(name)) throw entryError('appears twice.');
    seen.add(name);
    const type = UNIX_HOSTS.has(madeBy) ? (attributes >>> 16) & MODE_TYPE.mask : 0;
    if (type === MODE_TYPE.symlink) {
      throw entryError(
        'is a symbolic link: a package holds regular files only, and a link could point anywhere.',
      );
    }
    if (type !== 0 && type !== MODE_TYPE.regular && type !== MODE_TYPE.directory) {
      throw entryError('is a device, FIFO or socket, not a regular file.');
    }
    if (!isDirectory && (type === MODE_TYPE.directory || attributes & DOS_DIRECTORY)) {
      throw entryError(
        'is marked as a directory but its name has no trailing "/": unzip tools disagree on what it is.',
      );
    }
    const conflict = conflicts.add(name);
    if (conflict !== undefined) throw bad(conflict);
    if (method === 'store' && size !== compressedSize) {
      throw entryError(`is stored but its sizes differ (${size} and ${compressedSize}).`);
    }
    if (offset + SIZE.localHeader + nameLength + compressedSize > directoryOffset) {
      throw entryError('has data beyond the start of the central directory (corrupt or truncated).');
    }
    entries.push({ name, size, compressedSize, crc32: crc, method, offset });
    at = next;
  }
  if (at !== directory.length) throw bad('unexpected bytes at the end of the central directory.');
  return entries;
}

function findExtraField(extra: Buffer, id: number): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const length = extra.readUInt16LE(at + 2);
    if (extra.readUInt16LE(at) === id) return extra.subarray(at + 4, Math.min(at + 4 + length, extra.length));
    at += 4 + length;
  }
  return undefined;
}

/**
 * The data of one entry (as listed by {@link readZipEntries}), decompressed, as a stream of chunks.
 * The local header is checked first (signature, name, method); while streaming, the size and
 * CRC-32 are checked against the central directory, so a corrupt or truncated entry ends the
 * stream with an `InputError` naming the archive and the entry instead of yielding wrong data.
 */
export async function openZipEntry(path: string, entry: ZipEntryInfo): Promise<Readable> {
  const handle = await openArchive(path);
  let dataStart: number;
  try {
    const bad = (what: string): InputError =>
      new InputError(`${path}: entry "${entry.name}" ${what}`, { file: path });
    const header = await readExactly(handle, entry.offset, SIZE.localHeader, path);
    if (header.readUInt32LE(0) !== SIGNATURE.localHeader)
      throw bad('has no local header at its offset (corrupt).');
    if (header.readUInt16LE(6) & (FLAG.encrypted | FLAG.strongEncryption)) {
      throw bad('is encrypted, which is not supported.');
    }
    if (header.readUInt16LE(8) !== METHOD_CODE[entry.method]) {
      throw bad('has a different method in its local header (corrupt).');
    }
    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    const name = await readExactly(handle, entry.offset + SIZE.localHeader, nameLength, path);
    if (!name.equals(Buffer.from(entry.name, 'utf8'))) {
      throw bad('has a different name in its local header (corrupt).');
    }
    dataStart = entry.offset + SIZE.localHeader + nameLength + extraLength;
    if (dataStart + entry.compressedSize > (await handle.stat()).size) {
      throw bad('runs past the end of the archive (truncated).');
    }
  } finally {
    await handle.close();
  }
  return Readable.from(readEntryData(path, entry, dataStart), { objectMode: false });
}

/**
 * Checks an archive's entries against the limits before anything is read from them: at most
 * `maxEntries` entries, and the files of `entries` together at most `maxBytes` unpacked (default:
 * the archive's own size plus {@link ZIP_LIMITS}`.expansionBytes`). The sizes are the central
 * directory's; {@link openZipEntry} stops an entry that holds more than its size, so the limit holds
 * for the bytes actually produced. Throws `InputError` naming the archive and the limit.
 */
export function checkZipLimits(
  path: string,
  entries: readonly ZipEntryInfo[],
  archiveBytes: number,
  options: { maxBytes?: number; maxEntries?: number } = {},
): void {
  const maxEntries = options.maxEntries ?? ZIP_LIMITS.entries;
  if (entries.length > maxEntries) {
    throw new InputError(
      `${path}: has ${entries.length} entries, more than the limit of ${maxEntries}: a model package holds a handful of files. Refusing to read it.`,
      { file: path },
    );
  }
  const maxBytes = options.maxBytes ?? archiveBytes + ZIP_LIMITS.expansionBytes;
  const total = entries.reduce((sum, entry) => sum + entry.size, 0);
  if (total > maxBytes) {
    throw new InputError(
      `${path}: would unpack to ${formatBytes(total)}, more than the limit of ${formatBytes(maxBytes)}` +
        (options.maxBytes === undefined
          ? ` (the archive's own ${formatBytes(archiveBytes)} plus ${formatBytes(ZIP_LIMITS.expansionBytes)}: packages store their weights uncompressed)`
          : '') +
        '. It is not a model package made by package-model, or it was made to exhaust the disk (a decompression bomb): refused before reading any of it.',
      { file: path },
    );
  }
}

/** Bytes for messages: exact, with a binary unit when large. */
function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit < 0 ? `${bytes} bytes` : `${bytes} bytes (${value.toFixed(1)} ${units[unit]})`;
}

/**
 * Unpacks the files of an archive into `folder`, which must not exist yet, within the limits of
 * {@link checkZipLimits} (checked before anything is written, and again on the bytes as they are
 * produced). Only file entries are written (folders are made as their files need them), each with
 * a new name (`wx`) under the folder. Everything is written to a temporary folder next to `folder`
 * and renamed into place at the end; on any error the temporary folder is removed, so nothing is
 * left behind. Returns the files written with their sizes and SHA-256.
 */
export async function extractZip(
  path: string,
  folder: string,
  options: ExtractZipOptions = {},
): Promise<ExtractedFile[]> {
  const entries = await readZipEntries(path, { maxEntries: options.maxEntries });
  const files = entries.filter((entry) => !entry.name.endsWith('/'));
  let selected = files;
  if (options.names !== undefined) {
    const names = options.names;
    selected = files.filter((entry) => names.has(entry.name));
    const found = new Set(selected.map((entry) => entry.name));
    const missing = [...names].filter((name) => !found.has(name));
    if (missing.length > 0) {
      throw new InputError(`${path}: has no file ${missing.map((n) => `"${n}"`).join(', ')} to unpack.`, {
        file: path,
      });
    }
  }
  const archiveBytes = (await stat(path)).size;
  const maxBytes = options.maxBytes ?? archiveBytes + ZIP_LIMITS.expansionBytes;
  checkZipLimits(path, selected, archiveBytes, {
    maxBytes: options.maxBytes,
    maxEntries: options.maxEntries,
  });

  const temporary = join(
    dirname(folder),
    `.${basename(folder)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  await mkdir(temporary);
  try {
    const written: ExtractedFile[] = [];
    let total = 0;
    for (const entry of selected) {
      const target = resolve(temporary, ...entry.name.split('/'));
      const inside = relative(temporary, target);
      // The reader refused unsafe names already; this keeps the promise should it ever miss one.
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
        throw new InputError(`${path}: entry "${entry.name}" would unpack outside ${folder}.`, {
          file: path,
        });
      }
      await mkdir(dirname(target), { recursive: true });
      const hash = createHash('sha256');
      let size = 0;
      await pipeline(
        await openZipEntry(path, entry),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            total += chunk.length;
            if (total > maxBytes) {
              throw new InputError(
                `${path}: unpacks to more than the limit of ${formatBytes(maxBytes)}. Nothing was unpacked.`,
                { file: path },
              );
            }
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(target, { flags: 'wx' }),
      );
      const file = { name: entry.name, size, sha256: hash.digest('hex') };
      options.check?.(file);
      written.push(file);
    }
    await rename(temporary, folder);
    return written;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

async function* readEntryData(path: string, entry: ZipEntryInfo, start: number): AsyncGenerator<Buffer> {
  const bad = (what: string, cause?: unknown): InputError =>
    new InputError(`${path}: entry "${entry.name}" ${what}`, { file: path }, { cause });
  let data: AsyncIterable<Buffer> | Iterable<Buffer>;
  if (entry.compressedSize === 0) {
    data = [];
  } else {
    const raw = createReadStream(path, {
      start,
      end: start + entry.compressedSize - 1,
      highWaterMark: CHUNK_SIZE,
    });
    if (entry.method === 'deflate') {
      const inflater = createInflateRaw();
      // Errors reach the consumer through `inflater`, which pipeline destroys with them.
      pipelineCallback(raw, inflater, ignore);
      data = inflater;
    } else {
      data = raw;
    }
  }
  let crc = 0;
  let size = 0;
  try {
    for await (const chunk of data) {
      size += chunk.length;
      if (size > entry.size) throw bad(`has more data than its size of ${entry.size} bytes (corrupt).`);
      crc = crc32(chunk, crc);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw bad(`cannot be read: ${(error as Error).message}`, error);
  }
  if (size !== entry.size) {
    throw bad(`has ${size} bytes instead of ${entry.size} (corrupt or truncated).`);
  }
  if (crc !== entry.crc32) throw bad('does not match its CRC-32 (corrupt).');
}

/** Opens an archive for reading; a FIFO or device is refused without blocking on it (O_NONBLOCK). */
async function openArchive(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new InputError(
      `Cannot read ${path}: ${(error as Error).message}`,
      { file: path },
      { cause: error },
    );
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new InputError(`${path} is not a regular file: give a package's .zip archive or its folder.`, {
      file: path,
    });
  }
  return handle;
}

/** Reads exactly `length` bytes at `position`, or throws a "truncated" `InputError`. */
async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const read = await readInto(handle, buffer, length, position);
  if (read !== length) {
    throw new InputError(`${path}: truncated (ends inside a ZIP record at offset ${position}).`, {
      file: path,
    });
  }
  return buffer;
}

function readSafeUInt64(buffer: Buffer, at: number, corrupt: () => Error): number {
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt();
  return Number(value);
}
