import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { InputError } from '../../src/core/errors.ts';
import {
  openZipEntry,
  readZipEntries,
  writeZip,
  type ZipEntryInfo,
  type ZipEntryInput,
} from '../../src/core/zip/zip.ts';
import { inputError } from '../helpers/files.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const UNZIP = '/usr/bin/unzip';
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const MTIME = new Date('2024-05-06T07:08:09Z');
/** Signatures looked for in the raw bytes to tell whether ZIP64 records were written. */
const ZIP64_END = Buffer.from([0x50, 0x4b, 0x06, 0x06]);
const ZIP64_LOCATOR = Buffer.from([0x50, 0x4b, 0x06, 0x07]);

/** A folder with a 20 MiB random "weights" file (above the worker threshold), a small model and text. */
function makeFixture(): {
  dir: string;
  weights: Buffer;
  model: Buffer;
  card: string;
  inputs: ZipEntryInput[];
} {
  const dir = temporaryFolderSync('zip-test-');
  const weights = randomBytes(20 * 1024 * 1024 + 12_345);
  const model = randomBytes(3000);
  const card = `# Model card\n\n${'The model predicts churn. '.repeat(200)}\n`;
  writeFileSync(join(dir, 'weights.bin'), weights);
  writeFileSync(join(dir, 'model.onnx'), model);
  writeFileSync(join(dir, 'MODEL_CARD.md'), card);
  const inputs: ZipEntryInput[] = [
    { name: 'model.onnx', source: { path: join(dir, 'model.onnx') } },
    { name: 'model.onnx.data', source: { path: join(dir, 'weights.bin') } },
    { name: 'MODEL_CARD.md', source: { path: join(dir, 'MODEL_CARD.md') }, compress: true },
    { name: 'manifest.json', source: { bytes: Buffer.from('{\n  "name": "churn"\n}\n') }, compress: true },
    { name: 'reports/data.json', source: { bytes: Buffer.from('{"passed":true}') } },
    { name: 'empty.txt', source: { bytes: new Uint8Array(0) } },
  ];
  return { dir, weights, model, card, inputs };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readOurs(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readZipEntries(path)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await openZipEntry(path, entry)) chunks.push(chunk as Buffer);
    files.set(entry.name, Buffer.concat(chunks));
  }
  return files;
}

interface YauzlEntry {
  name: string;
  method: number;
  crc32: number;
  size: number;
  extraIds: number[];
  versionMadeBy: number;
  mode: number;
  dosTime: number;
  dosDate: number;
  data: Buffer;
}

/**
 * Every entry, with its data unless `listOnly`, read by yauzl (an independent reader) with all its
 * checks on.
 */
function readYauzl(path: string, listOnly = false): Promise<YauzlEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: true },
      (error, zipfile) => {
        if (error) return reject(error);
        const entries: YauzlEntry[] = [];
        zipfile.on('error', reject);
        zipfile.on('end', () => resolve(entries));
        zipfile.on('entry', (entry: yauzl.Entry) => {
          if (listOnly) {
            entries.push({ name: entry.fileName } as YauzlEntry);
            return zipfile.readEntry();
          }
          zipfile.openReadStream(entry, (streamError, stream) => {
            if (streamError) return reject(streamError);
            const chunks: Buffer[] = [];
            stream.on('data', (chunk: Buffer) => chunks.push(chunk));
            stream.on('error', reject);
            stream.on('end', () => {
              entries.push({
                name: entry.fileName,
                method: entry.compressionMethod,
                crc32: entry.crc32,
                size: entry.uncompressedSize,
                extraIds: entry.extraFields.map((f) => f.id),
                versionMadeBy: entry.versionMadeBy,
                mode: entry.externalFileAttributes >>> 16,
                dosTime: entry.lastModFileTime,
                dosDate: entry.lastModFileDate,
                data: Buffer.concat(chunks),
              });
              zipfile.readEntry();
            });
          });
        });
        zipfile.readEntry();
      },
    );
  });
}

function unzipTest(path: string): { ok: boolean; output: string } {
  const result = spawnSync(UNZIP, ['-t', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function unzipData(path: string, name: string): Buffer {
  const result = spawnSync(UNZIP, ['-p', path, name], { maxBuffer: 64 * 1024 * 1024 });
  expect(result.status).toBe(0);
  return result.stdout;
}

/** Python's zipfile: testzip() (reads and CRC-checks everything) and each entry's facts. */
function readPython(path: string): {
  bad: string | null;
  entries: [string, number, number, string, number[]][];
} {
  const script = [
    'import hashlib, json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'bad = z.testzip()',
    'entries = [[i.filename, i.file_size, i.external_attr >> 16, hashlib.sha256(z.read(i)).hexdigest(), list(i.date_time)] for i in z.infolist()]',
    'print(json.dumps({"bad": bad, "entries": entries}))',
  ].join('\n');
  const result = spawnSync(PYTHON, ['-c', script, path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python zipfile failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function tempFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

describe('writeZip', () => {
  const fixture = makeFixture();
  const out = temporaryFolderSync('zip-test-');

  it('writes byte-identical archives from the same inputs, in any order', async () => {
    const first = await writeZip(join(out, 'a.zip'), fixture.inputs, { mtime: MTIME });
    const second = await writeZip(join(out, 'b.zip'), fixture.inputs, { mtime: MTIME });
    const shuffled = [...fixture.inputs].reverse();
    shuffled.push(shuffled.splice(2, 1)[0]);
    const third = await writeZip(join(out, 'c.zip'), shuffled, { mtime: MTIME });
    const a = readFileSync(join(out, 'a.zip'));
    expect(readFileSync(join(out, 'b.zip')).equals(a)).toBe(true);
    expect(readFileSync(join(out, 'c.zip')).equals(a)).toBe(true);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    // The archive's digest and size are those of the file on disk.
    expect(first.sha256).toBe(sha256(a));
    expect(first.bytes).toBe(a.length);
    // Another time gives other bytes (the time is really stored).
    const later = await writeZip(join(out, 'd.zip'), fixture.inputs, {
      mtime: new Date('2025-01-01T00:00:00Z'),
    });
    expect(later.sha256).not.toBe(first.sha256);
    expect(tempFilesIn(out)).toEqual([]);
  });

  it('sorts entries by the bytes of their UTF-8 names', async () => {
    // Upper case sorts first; 'b' and 'B' would be one file on macOS and Windows, so 'C' stands in.
    const names = ['b', 'a/b', 'a.b', 'C', 'é.json', 'z', 'A_1', 'a-b', 'ä'];
    const path = join(out, 'sorted.zip');
    const written = await writeZip(
      path,
      names.map((name) => ({ name, source: { bytes: Buffer.from(name) } })),
      { mtime: MTIME },
    );
    const expected = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(expected).toEqual(['A_1', 'C', 'a-b', 'a.b', 'a/b', 'b', 'z', 'ä', 'é.json']);
    expect(written.entries.map((e) => e.name)).toEqual(expected);
    expect((await readZipEntries(path)).map((e) => e.name)).toEqual(expected);
    expect((await readYauzl(path)).map((e) => e.name)).toEqual(expected);
    // Local headers are in the same order as the central directory.
    const offsets = (await readZipEntries(path)).map((e) => e.offset);
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
  });

  it('is accepted by unzip -t, yauzl and Python, which read back the same bytes', async () => {
    const path = join(out, 'readers.zip');
    await writeZip(path, fixture.inputs, { mtime: MTIME });
    const unzip = unzipTest(path);
    expect(unzip.output).toContain('No errors detected');
    expect(unzip.ok).toBe(true);
    const expected = new Map<string, Buffer>([
      ['MODEL_CARD.md', Buffer.from(fixture.card)],
      ['empty.txt', Buffer.alloc(0)],
      ['manifest.json', Buffer.from('{\n  "name": "churn"\n}\n')],
      ['model.onnx', fixture.model],
      ['model.onnx.data', fixture.weights],
      ['reports/data.json', Buffer.from('{"passed":true}')],
    ]);
    const byYauzl = await readYauzl(path);
    expect(byYauzl.map((e) => e.name)).toEqual([...expected.keys()]);
    for (const entry of byYauzl) expect(entry.data.equals(expected.get(entry.name)!)).toBe(true);
    for (const [name, data] of expected) expect(unzipData(path, name).equals(data)).toBe(true);
    const ours = await readOurs(path);
    expect([...ours.keys()]).toEqual([...expected.keys()]);
    for (const [name, data] of expected) expect(ours.get(name)!.equals(data)).toBe(true);
    const python = readPython(path);
    expect(python.bad).toBeNull();
    expect(python.entries.map(([name, size, mode, digest]) => [name, size, mode, digest])).toEqual(
      [...expected].map(([name, data]) => [name, data.length, 0o100644, sha256(data)]),
    );
  });

  it('reports the CRC-32 and SHA-256 node computes, and stores them in the archive', async () => {
    const path = join(out, 'digests.zip');
    const written = await writeZip(path, fixture.inputs, { mtime: MTIME });
    const listed = await readZipEntries(path);
    const data = await readOurs(path);
    for (const [i, entry] of written.entries.entries()) {
      const bytes = data.get(entry.name)!;
      expect(entry.size).toBe(bytes.length);
      expect(entry.crc32).toBe(crc32(bytes));
      expect(entry.sha256).toBe(sha256(bytes));
      expect(listed[i]).toMatchObject({
        name: entry.name,
        size: entry.size,
        compressedSize: entry.compressedSize,
        crc32: entry.crc32,
        method: entry.method,
      });
    }
    expect(written.entries.find((e) => e.name === 'model.onnx.data')!.sha256).toBe(sha256(fixture.weights));
  });

  it('stores by default and deflates entries that ask for it', async () => {
    const path = join(out, 'methods.zip');
    const written = await writeZip(path, fixture.inputs, { mtime: MTIME });
    const method = Object.fromEntries(written.entries.map((e) => [e.name, e.method]));
    expect(method).toEqual({
      'MODEL_CARD.md': 'deflate',
      'empty.txt': 'store',
      'manifest.json': 'deflate',
      'model.onnx': 'store',
      'model.onnx.data': 'store',
      'reports/data.json': 'store',
    });
    const card = written.entries.find((e) => e.name === 'MODEL_CARD.md')!;
    expect(card.compressedSize).toBeLessThan(card.size / 10);
    const weights = written.entries.find((e) => e.name === 'model.onnx.data')!;
    expect(weights.compressedSize).toBe(weights.size);
    const byYauzl = await readYauzl(path);
    expect(Object.fromEntries(byYauzl.map((e) => [e.name, e.method]))).toEqual({
      'MODEL_CARD.md': 8,
      'empty.txt': 0,
      'manifest.json': 8,
      'model.onnx': 0,
      'model.onnx.data': 0,
      'reports/data.json': 0,
    });
  });

  it('follows the data of files with a data descriptor holding their CRC-32 and sizes', async () => {
    // Readers that go by the central directory never look at it; streaming readers do.
    for (const zip64 of ['auto', 'always'] as const) {
      const path = join(out, `descriptors-${zip64}.zip`);
      const written = await writeZip(path, fixture.inputs, { mtime: MTIME, zip64 });
      const bytes = readFileSync(path);
      const listed = await readZipEntries(path);
      const fromFiles = new Set(['MODEL_CARD.md', 'model.onnx', 'model.onnx.data']);
      for (const [i, entry] of written.entries.entries()) {
        const { offset } = listed[i];
        const flags = bytes.readUInt16LE(offset + 6);
        expect(Boolean(flags & 0x8)).toBe(fromFiles.has(entry.name));
        const dataStart = offset + 30 + bytes.readUInt16LE(offset + 26) + bytes.readUInt16LE(offset + 28);
        const after = dataStart + entry.compressedSize;
        if (!fromFiles.has(entry.name)) {
          // In-memory entries carry the values in the local header and go straight on.
          expect(bytes.readUInt32LE(offset + 14)).toBe(entry.crc32);
          const next = i === written.entries.length - 1 ? 0x02014b50 : 0x04034b50; // central directory
          expect(bytes.readUInt32LE(after)).toBe(next);
          continue;
        }
        expect(bytes.readUInt32LE(offset + 14)).toBe(0);
        expect(bytes.readUInt32LE(after)).toBe(0x08074b50);
        expect(bytes.readUInt32LE(after + 4)).toBe(entry.crc32);
        if (zip64 === 'always') {
          expect(Number(bytes.readBigUInt64LE(after + 8))).toBe(entry.compressedSize);
          expect(Number(bytes.readBigUInt64LE(after + 16))).toBe(entry.size);
        } else {
          expect(bytes.readUInt32LE(after + 8)).toBe(entry.compressedSize);
          expect(bytes.readUInt32LE(after + 12)).toBe(entry.size);
        }
      }
    }
  });

  it('stores the given time (DOS, UTC), mode 0644 made by Unix, and no other extra fields', async () => {
    const path = join(out, 'attributes.zip');
    // The local time zone must not matter.
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Kathmandu';
    try {
      await writeZip(path, fixture.inputs, { mtime: MTIME });
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    for (const entry of await readYauzl(path)) {
      expect(entry.mode).toBe(0o100644);
      expect(entry.versionMadeBy >> 8).toBe(3);
      expect(entry.extraIds).toEqual([]);
      // 2024-05-06 07:08:09 UTC: DOS time has 2-second steps.
      expect(entry.dosDate).toBe(((2024 - 1980) << 9) | (5 << 5) | 6);
      expect(entry.dosTime).toBe((7 << 11) | (8 << 5) | (8 >> 1));
    }
    expect(readPython(path).entries[0][4]).toEqual([2024, 5, 6, 7, 8, 8]);
    // Dates before 1980 (e.g. SOURCE_DATE_EPOCH=0) are clamped to the format's first day.
    const epoch = join(out, 'epoch.zip');
    await writeZip(epoch, fixture.inputs.slice(3), { mtime: new Date(0) });
    expect(readPython(epoch).entries[0][4]).toEqual([1980, 1, 1, 0, 0, 0]);
    await expect(writeZip(join(out, 'bad-date.zip'), [], { mtime: new Date(Number.NaN) })).rejects.toThrow(
      /valid Date/,
    );
  });

  it('writes ZIP64 records on request, readable by unzip, yauzl, Python and our reader', async () => {
    const plain = join(out, 'plain.zip');
    const forced = join(out, 'zip64.zip');
    await writeZip(plain, fixture.inputs, { mtime: MTIME, zip64: 'auto' });
    const written = await writeZip(forced, fixture.inputs, { mtime: MTIME, zip64: 'always' });
    const plainBytes = readFileSync(plain);
    const forcedBytes = readFileSync(forced);
    expect(plainBytes.includes(ZIP64_END)).toBe(false);
    expect(forcedBytes.includes(ZIP64_END)).toBe(true);
    expect(forcedBytes.includes(ZIP64_LOCATOR)).toBe(true);
    // The end record points to the ZIP64 one: its counts and offsets are all at their maximum.
    const end = forcedBytes.subarray(forcedBytes.length - 22);
    expect(end.readUInt16LE(10)).toBe(0xffff);
    expect(end.readUInt32LE(16)).toBe(0xffffffff);

    const unzip = unzipTest(forced);
    expect(unzip.output).toContain('No errors detected');
    expect(unzip.ok).toBe(true);
    const byYauzl = await readYauzl(forced);
    for (const entry of byYauzl) expect(entry.extraIds).toEqual([0x0001]);
    const expected = await readOurs(plain);
    for (const entry of byYauzl) expect(entry.data.equals(expected.get(entry.name)!)).toBe(true);
    const ours = await readOurs(forced);
    for (const [name, data] of expected) expect(ours.get(name)!.equals(data)).toBe(true);
    expect(readPython(forced).bad).toBeNull();
    expect((await readZipEntries(forced)).map(({ offset: _, ...rest }) => rest)).toEqual(
      written.entries.map(({ sha256: _, ...rest }) => rest),
    );
  });

  it('switches to ZIP64 by itself for 65,535 entries and more', async () => {
    const path = join(out, 'many.zip');
    const count = 65_536;
    const inputs = Array.from({ length: count }, (_, i) => ({
      name: `f/${String(i).padStart(5, '0')}`,
      source: { bytes: Buffer.from(String(i)) },
    }));
    await writeZip(path, inputs, { mtime: MTIME });
    expect(readFileSync(path).includes(ZIP64_END)).toBe(true);
    // More entries than a package may have (ZIP_LIMITS.entries): refused unless the caller allows them.
    await expect(readZipEntries(path)).rejects.toThrow(/65536 entries, more than the limit of 10000/);
    const listed = await readZipEntries(path, { maxEntries: count });
    expect(listed).toHaveLength(count);
    expect(listed[count - 1].name).toBe('f/65535');
    const result = spawnSync(UNZIP, ['-tqq', path], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect((await readYauzl(path, true)).length).toBe(count);
  });

  it('rejects unsafe and duplicate names', async () => {
    const bytes = { bytes: Buffer.from('x') };
    for (const name of [
      '',
      '../evil',
      'a/../../b',
      '/etc/passwd',
      'C:/x',
      'a\\b',
      'a//b',
      'dir/',
      './a',
      'a\u0000b',
    ]) {
      const error = await inputError(() =>
        writeZip(join(out, 'names.zip'), [{ name, source: bytes }], { mtime: MTIME }),
      );
      expect(error.message).toContain(join(out, 'names.zip'));
    }
    const duplicate = await inputError(() =>
      writeZip(
        join(out, 'names.zip'),
        [
          { name: 'a', source: bytes },
          { name: 'a', source: { bytes: Buffer.from('y') } },
        ],
        { mtime: MTIME },
      ),
    );
    expect(duplicate.message).toMatch(/"a" is given twice/);
    // Names that one file system or another would merge are refused too: the reader would refuse them.
    for (const [first, second, message] of [
      ['model.onnx', 'MODEL.onnx', /differ only in upper\/lower case/],
      ['caf\u00e9', 'cafe\u0301', /Unicode normalization/],
      ['a', 'a/b', /"a" is a file in one entry and a folder in another/],
    ] as const) {
      const clash = await inputError(() =>
        writeZip(
          join(out, 'names.zip'),
          [
            { name: first, source: bytes },
            { name: second, source: bytes },
          ],
          { mtime: MTIME },
        ),
      );
      expect(clash.message).toMatch(message);
    }
    expect(existsSync(join(out, 'names.zip'))).toBe(false);
  });

  it('leaves no temporary file and keeps the previous archive when writing fails', async () => {
    const dir = temporaryFolderSync('zip-test-');
    const target = join(dir, 'package.zip');
    await writeZip(target, fixture.inputs, { mtime: MTIME });
    const before = readFileSync(target);

    const missing = join(dir, 'no-such-file.bin');
    const error = await inputError(() =>
      writeZip(target, [...fixture.inputs, { name: 'extra.bin', source: { path: missing } }], {
        mtime: MTIME,
      }),
    );
    expect(error.message).toContain(missing);
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(tempFilesIn(dir)).toEqual([]);

    // A failure after the data is written (the rename: the target is a non-empty directory).
    const occupied = join(dir, 'occupied.zip');
    mkdirSync(join(occupied, 'inside'), { recursive: true });
    await expect(writeZip(occupied, fixture.inputs, { mtime: MTIME })).rejects.toThrow();
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

describe('readZipEntries and openZipEntry', () => {
  const fixture = makeFixture();
  const dir = temporaryFolderSync('zip-test-');
  const archive = join(dir, 'package.zip');
  let listed: ZipEntryInfo[] = [];

  it('list the central directory', async () => {
    const written = await writeZip(archive, fixture.inputs, { mtime: MTIME });
    listed = await readZipEntries(archive);
    expect(listed.map((e) => e.name)).toEqual(written.entries.map((e) => e.name));
    expect(listed[0].offset).toBe(0);
    for (const entry of listed) expect(entry.offset).toBeLessThan(written.bytes);
  });

  it('reject a truncated archive, naming it', async () => {
    const bytes = readFileSync(archive);
    for (const cut of [1, 21, 200, bytes.length >> 1]) {
      const truncated = join(dir, `truncated-${cut}.zip`);
      writeFileSync(truncated, bytes.subarray(0, bytes.length - cut));
      const error = await inputError(() => readZipEntries(truncated));
      expect(error.message).toContain(truncated);
      expect(error.message).toMatch(/truncated/);
    }
  });

  it('reject a file that is not a ZIP archive, and a missing file', async () => {
    for (const content of ['{"not": "a zip"}\n', '', randomBytes(100_000).toString('latin1')]) {
      const path = join(dir, 'not-a.zip');
      writeFileSync(path, content, 'latin1');
      const error = await inputError(() => readZipEntries(path));
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/not a ZIP archive/);
    }
    const missing = join(dir, 'missing.zip');
    expect((await inputError(() => readZipEntries(missing))).message).toContain(missing);
  });

  it('reject an archive with data appended after it', async () => {
    const path = join(dir, 'appended.zip');
    writeFileSync(path, Buffer.concat([readFileSync(archive), Buffer.from('trailing junk')]));
    expect((await inputError(() => readZipEntries(path))).message).toContain(path);
  });

  it('reject entries whose names would escape the extraction folder', async () => {
    const path = join(dir, 'evil.zip');
    const script =
      'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n  z.writestr("ok.txt", "fine")\n  z.writestr("../evil.txt", "bad")';
    expect(spawnSync(PYTHON, ['-c', script, path]).status).toBe(0);
    const error = await inputError(() => readZipEntries(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('../evil.txt');
  });

  it('stream stored and deflated entries; corrupt data ends the stream with an InputError', async () => {
    const data = await readOurs(archive);
    expect(data.get('model.onnx.data')!.equals(fixture.weights)).toBe(true);
    expect(data.get('MODEL_CARD.md')!.toString()).toBe(fixture.card);

    const bytes = readFileSync(archive);
    for (const name of ['model.onnx.data', 'MODEL_CARD.md']) {
      const entry = listed.find((e) => e.name === name)!;
      const corrupt = Buffer.from(bytes);
      // A byte in the middle of the entry's data (past the local header).
      const at = entry.offset + 30 + Buffer.byteLength(name) + (entry.compressedSize >> 1);
      corrupt[at] ^= 0xff;
      const path = join(dir, `corrupt-${name}.zip`);
      writeFileSync(path, corrupt);
      const entries = await readZipEntries(path); // the central directory is intact
      const stream = await openZipEntry(path, entries.find((e) => e.name === name)!);
      const error = await inputError(async () => {
        for await (const _ of stream);
      });
      expect(error.message).toContain(path);
      expect(error.message).toContain(name);
    }
  });

  it('reject an entry whose local header does not match', async () => {
    const entry = listed.find((e) => e.name === 'model.onnx')!;
    const error = await inputError(() => openZipEntry(archive, { ...entry, offset: entry.offset + 1 }));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(archive);
  });
});
