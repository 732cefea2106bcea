/**
 * A permissive ZIP writer (APPNOTE 4.3) for tests: whatever names, modes, sizes and CRCs the test
 * asks for, including what our own writer refuses (folder entries, conflicting names, lying sizes).
 * Used for hostile archives (test/hostile/packages.test.ts) and for archives with folder entries
 * (test/unit/verify-package.test.ts).
 */
import { crc32 } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** Stored bytes. */
  data?: Buffer;
  /** Raw DEFLATE bytes instead (with `size` and `crc` as claimed). */
  deflated?: Buffer;
  /** The uncompressed size the headers claim (default: the data's length). */
  size?: number;
  crc?: number;
  /** Unix mode in the external attributes (default 0o100644, or 0o040755 for `name/`). */
  mode?: number;
}

/** An archive of `entries` in the order given: stored data, or the raw DEFLATE bytes given. */
export function rawZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const payload = entry.deflated ?? entry.data ?? Buffer.alloc(0);
    const method = entry.deflated ? 8 : 0;
    const size = entry.size ?? payload.length;
    const crc = entry.crc ?? crc32(entry.data ?? Buffer.alloc(0));
    const mode = entry.mode ?? (entry.name.endsWith('/') ? 0o040755 : 0o100644);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(33, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, payload);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(33, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(payload.length, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE((mode << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    offset += local.length + name.length + payload.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}
