/**
 * Hostile model packages (issue #12): archives whose names conflict (a file and a folder of the same
 * name, names differing in case or Unicode normalization, `./` prefixes, backslashes, a file used as
 * a folder), symbolic links (as archive entries, and in a package folder), FIFOs, unlisted entries,
 * decompression bombs (a 3 MB archive that unpacks to 3 GiB; an entry that lies about its size) and
 * archives with too many entries. `mlops package verify` (the built CLI) must exit 2 naming the
 * archive or folder and the entry, and `unpackPackage` (what the environment baseline uses) must
 * refuse with an `InputError` having written nothing.
 *
 * Every hostile archive is written by `rawZip` (test/helpers/raw-zip.ts), a deliberately permissive
 * ZIP writer (our own writer refuses most of these). A new hostile archive goes into `conflictingArchives` when it is
 * an extra entry next to a real package's, or gets its own `it`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { unpackPackage } from '../../src/core/package/verify-package.ts';
import { extractZip, openZipEntry, readZipEntries, ZIP_LIMITS } from '../../src/core/zip/zip.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { type RawEntry, rawZip } from '../helpers/raw-zip.ts';

const cli = join(repoRoot, 'dist/cli/index.js');
const fixtures = join(repoRoot, 'test/fixtures/onnx');
const SECRET = 'TOP-SECRET-cGFja2FnZS1zZWNyZXQtMDEyMzQ1Njc';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function mlops(cwd: string, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      cwd,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Raw DEFLATE of `mebibytes` MiB of zeros, about 1 KB per MiB: independent blocks (each ended by a
 * full flush) concatenated, then a final empty block. Nothing of that size is ever held in memory.
 */
function zeroBomb(mebibytes: number): { deflated: Buffer; size: number; crc: number } {
  const zeros = Buffer.alloc(1 << 20);
  const block = deflateRawSync(zeros, { finishFlush: zlibConstants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < mebibytes; i++) crc = crc32(zeros, crc);
  return {
    deflated: Buffer.concat([
      ...Array.from({ length: mebibytes }, () => block),
      deflateRawSync(Buffer.alloc(0)),
    ]),
    size: mebibytes * 2 ** 20,
    crc,
  };
}

// ---------------------------------------------------------------------------------------------
// A real package, built once through the CLI

let work: string;
let secretFile: string;
/** The archive and folder of a real package. */
let archive: string;
let folder: string;
/** The real package's entries (name and bytes), to build hostile archives around. */
let packaged: RawEntry[];

beforeAll(async () => {
  work = await temporaryDirectory('mlops-hostile-packages-');
  secretFile = join(work, 'secret.txt');
  await writeFile(secretFile, `${SECRET}\n`);
  const model = join(work, 'model');
  await mkdir(model);
  await copyFile(join(fixtures, 'external.onnx'), join(model, 'model.onnx'));
  await copyFile(join(fixtures, 'external.weights'), join(model, 'external.weights'));
  const out = join(work, 'package');
  const run = await mlops(
    work,
    'package',
    '--model',
    join(model, 'model.onnx'),
    '--name',
    'demo',
    '--version',
    '1.0.0',
    '--out',
    out,
  );
  expect(run.code, run.stderr).toBe(0);
  archive = join(out, 'demo-1.0.0.zip');
  folder = join(out, 'demo-1.0.0');
  packaged = [];
  for (const entry of await readZipEntries(archive)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await openZipEntry(archive, entry)) chunks.push(chunk as Buffer);
    packaged.push({ name: entry.name, data: Buffer.concat(chunks) });
  }
});

/** Writes an archive into a fresh folder of its own; returns its path. */
async function writeArchive(entries: RawEntry[], name = 'hostile.zip'): Promise<string> {
  const dir = await temporaryDirectory('mlops-hostile-zip-');
  const path = join(dir, name);
  await writeFile(path, rawZip(entries));
  return path;
}

/** A copy of the real package folder, to tamper with. */
async function copyOfFolder(): Promise<string> {
  const dir = await temporaryDirectory('mlops-hostile-folder-');
  const copy = join(dir, 'demo-1.0.0');
  expect(spawnSync('cp', ['-R', folder, copy]).status).toBe(0);
  return copy;
}

/** `verify` refuses: exit 2, naming `path` and `what`, never VERIFIED, no secret in the output. */
async function expectVerifyRefuses(path: string, what: RegExp): Promise<CliRun> {
  const run = await mlops(work, 'package', 'verify', path);
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(2);
  expect(run.stderr).toContain(path);
  expect(run.stderr).toMatch(what);
  expect(run.stdout).not.toContain('VERIFIED');
  expect(run.stderr).not.toMatch(/please report|at .*\.js:\d+/);
  expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  return run;
}

/** `unpackPackage` refuses with an InputError matching `what`, leaving the archive's folder as it was. */
async function expectUnpackRefuses(path: string, what: RegExp): Promise<void> {
  const parent = join(path, '..');
  const before = readdirSync(parent).sort();
  const target = join(parent, 'unpacked');
  const error = await unpackPackage(path, target).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(what);
  expect(existsSync(target)).toBe(false);
  expect(readdirSync(parent).sort()).toEqual(before);
}

describe('the real package (control)', () => {
  it('verifies, repacked by rawZip too, and unpacks to exactly its manifest', async () => {
    const repacked = await writeArchive(packaged);
    for (const path of [archive, repacked, folder]) {
      const run = await mlops(work, 'package', 'verify', path);
      expect(run.code, run.stdout + run.stderr).toBe(0);
    }
    const target = join(repacked, '..', 'unpacked');
    const listed = await unpackPackage(repacked, target);
    const written = spawnSync('find', [target, '-type', 'f', '-printf', '%P\\n'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .sort();
    expect(written).toEqual([...listed.map((f) => f.path), 'manifest.json'].sort());
    expect(await readFile(join(target, 'external.weights'))).toEqual(
      await readFile(join(fixtures, 'external.weights')),
    );
    expect(readdirSync(join(repacked, '..')).sort()).toEqual(['hostile.zip', 'unpacked']);
  });
});

describe('archives with conflicting or unsafe names', () => {
  const conflictingArchives: { case: string; extra: () => RawEntry[]; message: RegExp }[] = [
    {
      case: 'a folder entry with the model’s name (model.onnx and model.onnx/)',
      extra: () => [{ name: 'model.onnx/' }],
      message: /"model\.onnx" is a file in one entry and a folder in another/,
    },
    {
      case: 'a file under the model’s name (model.onnx and model.onnx/evil)',
      extra: () => [{ name: 'model.onnx/evil', data: Buffer.from('x') }],
      message: /"model\.onnx" is a file in one entry and a folder in another/,
    },
    {
      case: 'the model’s name in other case (MODEL.onnx)',
      extra: () => [{ name: 'MODEL.onnx', data: Buffer.from('x') }],
      message: /"model\.onnx" and "MODEL\.onnx" differ only in upper\/lower case/,
    },
    {
      case: 'one name in two Unicode normalizations (café.json, NFC and NFD)',
      extra: () => [
        { name: 'caf\u00e9.json', data: Buffer.from('{}') },
        { name: 'cafe\u0301.json', data: Buffer.from('{}') },
      ],
      message: /Unicode normalization/,
    },
    {
      case: 'a "./" prefix (./model.onnx)',
      extra: () => [{ name: './model.onnx', data: Buffer.from('x') }],
      message: /"\.\/model\.onnx" has an unsafe name/,
    },
    {
      case: 'a backslash (reports\\model.onnx)',
      extra: () => [{ name: 'reports\\model.onnx', data: Buffer.from('x') }],
      message: /backslash/,
    },
    {
      case: 'a symbolic link entry (weights.bin → the secret)',
      extra: () => [{ name: 'weights.bin', data: Buffer.from(secretFile), mode: 0o120777 }],
      message: /"weights\.bin" is a symbolic link/,
    },
    {
      case: 'a FIFO entry',
      extra: () => [{ name: 'pipe', mode: 0o010644 }],
      message: /"pipe" is a device, FIFO or socket/,
    },
  ];

  for (const hostile of conflictingArchives) {
    it(`refuses ${hostile.case}`, async () => {
      const path = await writeArchive([...packaged, ...hostile.extra()]);
      await expectVerifyRefuses(path, hostile.message);
      await expectUnpackRefuses(path, hostile.message);
    });
  }
});

describe('package folders with links and special files', () => {
  it('refuses an unlisted symbolic link to a secret', async () => {
    const copy = await copyOfFolder();
    await symlink(secretFile, join(copy, 'notes.txt'));
    await expectVerifyRefuses(copy, /notes\.txt is a symbolic link/);
  });

  it('refuses a listed file replaced by a link to a copy with the same bytes', async () => {
    const copy = await copyOfFolder();
    const outside = join(copy, '..', 'signature.json');
    await copyFile(join(copy, 'signature.json'), outside);
    spawnSync('rm', [join(copy, 'signature.json')]);
    await symlink(outside, join(copy, 'signature.json'));
    await expectVerifyRefuses(copy, /signature\.json is a symbolic link/);
  });

  it('refuses a linked folder inside the package', async () => {
    const copy = await copyOfFolder();
    await symlink(work, join(copy, 'reports'));
    await expectVerifyRefuses(copy, /reports is a symbolic link/);
  });

  it('refuses a FIFO given as the archive without blocking on it', async () => {
    const pipe = join(await temporaryDirectory(), 'package.zip');
    expect(spawnSync('mkfifo', [pipe]).status).toBe(0);
    await expectVerifyRefuses(pipe, /is not a regular file/);
    await expectUnpackRefuses(pipe, /is not a regular file/);
  });

  it('refuses a FIFO without blocking on it', async () => {
    const copy = await copyOfFolder();
    expect(spawnSync('mkfifo', [join(copy, 'pipe')]).status).toBe(0);
    await expectVerifyRefuses(copy, /pipe is a FIFO/);
  });

  it('fails an unlisted empty folder, and an unlisted folder entry in an archive, naming them', async () => {
    const copy = await copyOfFolder();
    await mkdir(join(copy, 'extra'));
    const run = await mlops(work, 'package', 'verify', copy);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/extra\/: not in the manifest/);
    const path = await writeArchive([...packaged, { name: 'extra/' }]);
    const fromArchive = await mlops(work, 'package', 'verify', path);
    expect(fromArchive.code).toBe(1);
    expect(fromArchive.stdout).toMatch(/extra\/: not in the manifest/);
    await expectUnpackRefuses(path, /entry "extra\/" is not in the manifest/);
  });
});

describe('unpacking only what the manifest lists', () => {
  it('refuses an unlisted file (a .git/config next to the model)', async () => {
    const path = await writeArchive([...packaged, { name: '.git/config', data: Buffer.from(SECRET) }]);
    await expectUnpackRefuses(path, /entry "\.git\/config" is not in the manifest/);
    // verify names it too (a changed package, exit 1).
    const run = await mlops(work, 'package', 'verify', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('.git/config: not in the manifest');
  });

  it('refuses a listed file whose bytes are not the manifest’s, removing what it wrote', async () => {
    const tampered = packaged.map((entry) =>
      entry.name === 'external.weights' ? { ...entry, data: Buffer.alloc(entry.data!.length, 7) } : entry,
    );
    const path = await writeArchive(tampered);
    await expectUnpackRefuses(path, /external\.weights is not the file the manifest lists/);
  });

  it('refuses an archive without a manifest', async () => {
    const path = await writeArchive(packaged.filter((entry) => entry.name !== 'manifest.json'));
    await expectUnpackRefuses(path, /has no manifest\.json/);
  });
});

describe('decompression bombs and entry counts', () => {
  it('refuses a 3 MB package that unpacks to 3 GiB, naming the archive and the limit', async () => {
    const bomb = zeroBomb(3072);
    const path = await writeArchive([...packaged, { name: 'reports/padding.json', ...bomb }]);
    const archiveBytes = (await readFile(path)).length;
    expect(archiveBytes).toBeLessThan(4 << 20);
    const limit = new RegExp(
      `would unpack to ${bomb.size + packaged.reduce((n, e) => n + e.data!.length, 0)} bytes .*more than the limit of ${archiveBytes + ZIP_LIMITS.expansionBytes} bytes`,
    );
    const started = performance.now();
    await expectVerifyRefuses(path, limit);
    await expectUnpackRefuses(path, limit);
    // Refused from the central directory, before any byte is inflated.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('stops an entry that unpacks to more than it claims, leaving nothing behind', async () => {
    const bomb = zeroBomb(64);
    // The headers claim 1,000 bytes; the data inflates to 64 MiB.
    const path = await writeArchive([{ name: 'model.onnx', deflated: bomb.deflated, size: 1000, crc: 0 }]);
    const target = join(path, '..', 'unpacked');
    const error = await extractZip(path, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/"model\.onnx" has more data than its size of 1000 bytes/);
    expect(readdirSync(join(path, '..'))).toEqual(['hostile.zip']);
  });

  it('honours a smaller limit given by the caller', async () => {
    const target = join(await temporaryDirectory(), 'unpacked');
    const error = await unpackPackage(archive, target, { maxBytes: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/more than the limit of 100 bytes/);
    expect(existsSync(target)).toBe(false);
  });

  it(`refuses more than ${ZIP_LIMITS.entries} entries`, async () => {
    const many = Array.from({ length: ZIP_LIMITS.entries + 1 }, (_, i) => ({
      name: `reports/${i}.json`,
      data: Buffer.from('{}'),
    }));
    const path = await writeArchive([...packaged, ...many]);
    const message = new RegExp(
      `has ${ZIP_LIMITS.entries + 1 + packaged.length} entries, more than the limit of ${ZIP_LIMITS.entries}`,
    );
    await expectVerifyRefuses(path, message);
    await expectUnpackRefuses(path, message);
  });
});
