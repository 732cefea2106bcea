/**
 * A reproducible tar stream (POSIX ustar, with PAX extended headers for long names and sizes of
 * 8 GiB and more) for image layers: fixed modes, owner 0:0, one fixed time, entries in the order
 * given. File contents are streamed from disk (a whole file, or a range of one such as a stored
 * entry of a zip archive); nothing is held in memory but one chunk.
 */
import { createReadStream } from 'node:fs';

/** One entry of a layer. */
export type TarEntry =
  | { type: 'directory'; name: string; mode?: number }
  | {
      type: 'file';
      name: string;
      size: number;
      mode?: number;
      /** A file, or the range of one starting at `start`. */
      source: { path: string; start?: number } | { bytes: Uint8Array };
    };

const BLOCK = 512;
const USTAR_SIZE_LIMIT = 8 ** 11; // 11 octal digits

/** The tar's size in bytes, without writing it. */
export function tarSize(entries: readonly TarEntry[]): number {
  let size = 2 * BLOCK;
  for (const entry of entries) {
    const pax = paxRecords(entry);
    if (pax) size += BLOCK + padded(pax.length);
    size += BLOCK + (entry.type === 'file' ? padded(entry.size) : 0);
  }
  return size;
}

/**
 * The tar's bytes, as chunks. `onFileChunk` sees each file's content as it passes (to hash it
 * while the tar is hashed or sent).
 */
export async function* tarChunks(
  entries: readonly TarEntry[],
  mtime: number,
  onFileChunk?: (name: string, chunk: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    const pax = paxRecords(entry);
    const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    if (pax) {
      yield header({ name: 'PaxHeaders/entry', size: pax.length, type: 'x', mode: 0o644, mtime });
      yield pad(pax);
    }
    const split = splitName(name);
    yield header({
      name: split?.name ?? name.slice(0, 100),
      prefix: split?.prefix ?? '',
      size: entry.type === 'file' ? Math.min(entry.size, USTAR_SIZE_LIMIT - 1) : 0,
      type: entry.type === 'file' ? '0' : '5',
      mode: entry.mode ?? (entry.type === 'file' ? 0o644 : 0o755),
      mtime,
    });
    if (entry.type === 'file') {
      let read = 0;
      if ('bytes' in entry.source) {
        const bytes = entry.source.bytes.subarray(0, entry.size);
        onFileChunk?.(entry.name, bytes);
        read = bytes.length;
        yield bytes;
      } else if (entry.size > 0) {
        const start = entry.source.start ?? 0;
        for await (const chunk of createReadStream(entry.source.path, {
          start,
          end: start + entry.size - 1,
          highWaterMark: 1024 * 1024,
        })) {
          read += (chunk as Buffer).length;
          onFileChunk?.(entry.name, chunk as Buffer);
          yield chunk as Buffer;
        }
      }
      if (read !== entry.size) {
        throw new Error(`${entry.name}: read ${read} bytes, expected ${entry.size} (the file changed)`);
      }
      const rest = padded(entry.size) - entry.size;
      if (rest > 0) yield new Uint8Array(rest);
    }
  }
  yield new Uint8Array(2 * BLOCK);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function pad(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(padded(bytes.length));
  out.set(bytes);
  return out;
}

/** Splits a name too long for ustar's 100 bytes into prefix (≤ 155) and name, at a '/'. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '')
      return { prefix, name: rest };
  }
  return undefined;
}

/** PAX records for what ustar cannot hold (a long path, a size of 8 GiB or more), or undefined. */
function paxRecords(entry: TarEntry): Uint8Array | undefined {
  const records: string[] = [];
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  if (!splitName(name)) records.push(record('path', name));
  if (entry.type === 'file' && entry.size >= USTAR_SIZE_LIMIT)
    records.push(record('size', String(entry.size)));
  return records.length > 0 ? new TextEncoder().encode(records.join('')) : undefined;
}

/** One `"<length> <key>=<value>\n"` record, whose length counts itself. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

function header(fields: {
  name: string;
  prefix?: string;
  size: number;
  type: string;
  mode: number;
  mtime: number;
}): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  writeOctal(block, fields.mode, 100, 8);
  writeOctal(block, 0, 108, 8); // uid
  writeOctal(block, 0, 116, 8); // gid
  writeOctal(block, fields.size, 124, 12);
  writeOctal(block, Math.max(0, Math.floor(fields.mtime)), 136, 12);
  block.write(fields.type, 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write(fields.prefix ?? '', 345, 155, 'utf8');
  // The checksum is computed with its own field as spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
