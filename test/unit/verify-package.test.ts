/**
 * `verifyPackage` in-process, on a real package (buildPackage) tampered with one way at a time: each
 * check it makes fails the package with its own message, and an untouched package passes. (The CLI
 * and hostile archives are in test/hostile/packages.test.ts and test/integration/package-model.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import type { BuiltPackage } from '../../src/core/package/build-package.ts';
import { contentDigest, type PackageManifest } from '../../src/core/package/manifest.ts';
import { unpackPackage, verifyPackage } from '../../src/core/package/verify-package.ts';
import { writeZip } from '../../src/core/zip/zip.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { makeTestPackage } from '../helpers/packages.ts';
import { rawZip } from '../helpers/raw-zip.ts';

let built: BuiltPackage;
beforeAll(async () => {
  built = await makeTestPackage({ version: '1.0.0', reports: ['data-passed'] });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A copy of the package folder, to tamper with. */
async function folderCopy(): Promise<string> {
  const copy = join(await temporaryDirectory('mlops-verify-'), basename(built.directory));
  await cp(built.directory, copy, { recursive: true });
  return copy;
}

async function readManifest(folder: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
}

async function writeManifest(folder: string, manifest: PackageManifest): Promise<void> {
  await writeFile(join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The archive copied, with `provenance` (text) beside it, or none. */
async function archiveCopy(provenance?: string): Promise<string> {
  const dir = await temporaryDirectory('mlops-verify-archive-');
  const copy = join(dir, basename(built.archive));
  await cp(built.archive, copy);
  if (provenance !== undefined) await writeFile(join(dir, 'provenance.intoto.json'), provenance);
  return copy;
}

describe('verifyPackage: an untouched package', () => {
  it('passes as an archive (with its provenance) and as a folder, and says what it checked', async () => {
    const archive = await verifyPackage(built.archive);
    expect(archive).toEqual({
      path: built.archive,
      passed: true,
      problems: [],
      manifest: built.manifest,
      digest: built.digest,
      files: built.manifest.files.length + 1,
    });
    expect(archive.digest).toBe(sha256(await readFile(built.archive)));
    const folder = await verifyPackage(built.directory);
    expect(folder).toEqual({
      path: built.directory,
      passed: true,
      problems: [],
      manifest: built.manifest,
      files: built.manifest.files.length + 1,
    });
    expect(folder.digest).toBeUndefined();
  });

  it('refuses a path that does not exist with an InputError', async () => {
    const missing = join(await temporaryDirectory(), 'nothing.zip');
    const error = await verifyPackage(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `${missing} does not exist: give a package folder or its .zip archive.`,
    );
    expect((error as InputError).location).toEqual({ file: missing });
  });

  it('tells a path that names nothing from one it cannot read', async () => {
    const dir = await temporaryDirectory();
    await writeFile(join(dir, 'notes.txt'), 'not a folder');
    // Below a file: nothing there either (ENOTDIR).
    const belowFile = join(dir, 'notes.txt', 'package.zip');
    await expect(verifyPackage(belowFile)).rejects.toThrow(
      `${belowFile} does not exist: give a package folder or its .zip archive.`,
    );
    // Longer than PATH_MAX: it may exist, but cannot be asked about.
    const tooLong = join(dir, ...Array.from({ length: 20 }, () => 'd'.repeat(250)), 'package.zip');
    const error = await verifyPackage(tooLong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      `${tooLong} cannot be read (ENAMETOOLONG): give a package folder or its .zip archive that this process may read.`,
    );
    expect((error as InputError).location).toEqual({ file: tooLong });
  });
});

describe('verifyPackage: the provenance beside an archive', () => {
  it('fails when the provenance names another digest for this archive', async () => {
    const provenance = JSON.parse(await readFile(built.provenance, 'utf8'));
    const subject = provenance.subject.find((s: { name: string }) => s.name === basename(built.archive));
    expect(subject.digest.sha256).toBe(built.digest);
    subject.digest.sha256 = 'ab'.repeat(32);
    const result = await verifyPackage(await archiveCopy(JSON.stringify(provenance)));
    expect(result.passed).toBe(false);
    expect(result.problems).toEqual([
      `provenance.intoto.json: names sha256 abababababab… for ${basename(built.archive)}, the archive's is ${built.digest.slice(0, 12)}…`,
    ]);
    expect(result.digest).toBe(built.digest);
  });

  it('passes with the right digest, with no provenance, with one about other files, and with an unreadable one', async () => {
    const right = await readFile(built.provenance, 'utf8');
    expect((await verifyPackage(await archiveCopy(right))).passed).toBe(true);
    expect((await verifyPackage(await archiveCopy())).passed).toBe(true);
    const other = JSON.stringify({ subject: [{ name: 'other.zip', digest: { sha256: 'cd'.repeat(32) } }] });
    expect((await verifyPackage(await archiveCopy(other))).passed).toBe(true);
    expect((await verifyPackage(await archiveCopy('{}'))).passed).toBe(true);
    expect((await verifyPackage(await archiveCopy('null'))).passed).toBe(true);
    expect((await verifyPackage(await archiveCopy('{"subject": [null, 3]}'))).passed).toBe(true);
  });

  it('fails, naming the file, when the provenance is not JSON or names this archive without a digest', async () => {
    const broken = await verifyPackage(await archiveCopy('{ not json'));
    expect(broken.passed).toBe(false);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(
      /^provenance\.intoto\.json: not JSON \(.*\), so the archive's digest cannot be checked against it$/,
    );
    const noDigest = JSON.stringify({ subject: [{ name: basename(built.archive) }] });
    expect((await verifyPackage(await archiveCopy(noDigest))).problems).toEqual([
      `provenance.intoto.json: names no sha256 for ${basename(built.archive)}, the archive's is ${built.digest.slice(0, 12)}…`,
    ]);
  });

  it('is not read for a folder: a folder has no archive digest', async () => {
    const folder = await folderCopy();
    await writeFile(
      join(folder, '..', 'provenance.intoto.json'),
      JSON.stringify({ subject: [{ name: basename(folder), digest: { sha256: 'ab'.repeat(32) } }] }),
    );
    expect((await verifyPackage(folder)).problems).toEqual([]);
  });
});

describe('verifyPackage: the model’s metadata against the manifest', () => {
  /**
   * The folder with one metadata value of model.onnx replaced by another of the same length (the
   * protobuf stays valid), the manifest updated to list the new model bytes: only the metadata
   * disagrees with the manifest.
   */
  async function withModelMetadata(from: string, to: string): Promise<string> {
    expect(to).toHaveLength(from.length);
    const folder = await folderCopy();
    const path = join(folder, 'model.onnx');
    const bytes = await readFile(path);
    const at = bytes.indexOf(from);
    expect(at).toBeGreaterThan(0);
    expect(bytes.indexOf(from, at + 1)).toBe(-1);
    bytes.write(to, at);
    await writeFile(path, bytes);
    const manifest = await readManifest(folder);
    const model = manifest.files.find((f) => f.path === 'model.onnx')!;
    model.sha256 = sha256(bytes);
    await writeManifest(folder, manifest);
    return folder;
  }

  it('fails when the model’s content digest is not the manifest’s contentSha256', async () => {
    const content = built.manifest.contentSha256;
    const other = 'f'.repeat(64);
    const result = await verifyPackage(await withModelMetadata(content, other));
    expect(result.problems).toEqual([
      `model.onnx: metadata mlops.package.content-sha256 is "${other}", the manifest says "${content}"`,
    ]);
    expect(result.passed).toBe(false);
  });

  it('fails when the model’s commit, name or version is not the manifest’s', async () => {
    const commit = built.manifest.lineage.commit!;
    const otherCommit = 'd'.repeat(40);
    expect((await verifyPackage(await withModelMetadata(commit, otherCommit))).problems).toEqual([
      `model.onnx: metadata mlops.commit is "${otherCommit}", the manifest says "${commit}"`,
    ]);
    // The name and version sit in the model as `breast-cancer` and `1.0.0` (each once).
    expect((await verifyPackage(await withModelMetadata('breast-cancer', 'breast-cancex'))).problems).toEqual(
      ['model.onnx: metadata mlops.package.name is "breast-cancex", the manifest says "breast-cancer"'],
    );
    expect((await verifyPackage(await withModelMetadata('1.0.0', '1.0.9'))).problems).toEqual([
      'model.onnx: metadata mlops.package.version is "1.0.9", the manifest says "1.0.0"',
    ]);
  });

  it('names a model that is not ONNX', async () => {
    const folder = await folderCopy();
    const junk = new TextEncoder().encode('not a model');
    await writeFile(join(folder, 'model.onnx'), junk);
    const manifest = await readManifest(folder);
    const model = manifest.files.find((f) => f.path === 'model.onnx')!;
    model.sha256 = sha256(junk);
    model.bytes = junk.length;
    await writeManifest(folder, manifest);
    const result = await verifyPackage(folder);
    expect(result.passed).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^model\.onnx: /);
  });
});

describe('verifyPackage: files against the manifest', () => {
  it('names a changed file (by digest or by size), a missing one, and an unlisted one', async () => {
    const folder = await folderCopy();
    const card = join(folder, 'MODEL_CARD.md');
    const listed = built.manifest.files.find((f) => f.path === 'MODEL_CARD.md')!;
    const text = await readFile(card);
    text[0] ^= 0x01; // same size, other digest
    await writeFile(card, text);
    await rm(join(folder, 'signature.json'));
    await writeFile(join(folder, 'notes.txt'), 'x');
    const result = await verifyPackage(folder);
    expect(result.passed).toBe(false);
    expect(result.problems).toEqual([
      `MODEL_CARD.md: changed (sha256 ${sha256(text).slice(0, 12)}…, ${listed.bytes} bytes; the manifest says ${listed.sha256.slice(0, 12)}…, ${listed.bytes} bytes)`,
      'signature.json: missing',
      'notes.txt: not in the manifest',
      // signature.json is in the content digest: without it the files are not the manifest's content.
      `manifest.json: contentSha256 ${built.manifest.contentSha256.slice(0, 12)}… does not match the files (${contentDigest(built.manifest.files.filter((f) => f.path !== 'signature.json')).slice(0, 12)}…)`,
    ]);
  });

  it('names a file whose size alone differs from the manifest', async () => {
    const folder = await folderCopy();
    const manifest = await readManifest(folder);
    const card = manifest.files.find((f) => f.path === 'MODEL_CARD.md')!;
    card.bytes += 1;
    await writeManifest(folder, manifest);
    expect((await verifyPackage(folder)).problems).toEqual([
      `MODEL_CARD.md: changed (sha256 ${card.sha256.slice(0, 12)}…, ${card.bytes - 1} bytes; the manifest says ${card.sha256.slice(0, 12)}…, ${card.bytes} bytes)`,
    ]);
  });

  it('names a folder holding no listed file, and not one that holds one', async () => {
    const folder = await folderCopy();
    await mkdir(join(folder, 'extra/inner'), { recursive: true });
    const result = await verifyPackage(folder);
    // reports/ holds reports/data-validation.json: listed, so fine.
    expect(result.problems).toEqual([
      'extra/: not in the manifest (a folder holding no listed file)',
      'extra/inner/: not in the manifest (a folder holding no listed file)',
    ]);
  });

  it('fails when contentSha256 does not match the files, even when the files match their listing', async () => {
    const folder = await folderCopy();
    const manifest = await readManifest(folder);
    const claimed = 'e'.repeat(64);
    manifest.contentSha256 = claimed;
    await writeManifest(folder, manifest);
    const result = await verifyPackage(folder);
    expect(result.problems).toEqual([
      `manifest.json: contentSha256 eeeeeeeeeeee… does not match the files (${built.manifest.contentSha256.slice(0, 12)}…)`,
      `model.onnx: metadata mlops.package.content-sha256 is "${built.manifest.contentSha256}", the manifest says "${claimed}"`,
    ]);
    expect(contentDigest(built.manifest.files)).toBe(built.manifest.contentSha256);
  });

  it('covers only the listed files in the content digest: an unlisted file is named once, not as a content change', async () => {
    const folder = await folderCopy();
    await writeFile(join(folder, 'zz.txt'), 'extra');
    expect((await verifyPackage(folder)).problems).toEqual(['zz.txt: not in the manifest']);
  });
});

describe('verifyPackage: the manifest itself', () => {
  it('stops at a missing manifest', async () => {
    const folder = await folderCopy();
    await rm(join(folder, 'manifest.json'));
    expect(await verifyPackage(folder)).toEqual({
      path: folder,
      passed: false,
      problems: ['manifest.json: missing, so nothing can be verified'],
      files: built.manifest.files.length,
    });
  });

  it('stops at a manifest that is not JSON', async () => {
    const folder = await folderCopy();
    await writeFile(join(folder, 'manifest.json'), '{ nope');
    const result = await verifyPackage(folder);
    expect(result.passed).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^manifest\.json: not JSON \(/);
    expect(result.manifest).toBeUndefined();
  });

  it('stops at a manifest larger than 16 MiB without reading it', async () => {
    const folder = await folderCopy();
    await truncate(join(folder, 'manifest.json'), 16 * 1024 * 1024 + 1);
    expect(await verifyPackage(folder)).toEqual({
      path: folder,
      passed: false,
      problems: ["manifest.json: 16777217 bytes, more than a manifest's limit of 16777216"],
      files: built.manifest.files.length + 1,
    });
    // Exactly at the limit it is read (and then is not JSON: the padding is zero bytes).
    await truncate(join(folder, 'manifest.json'), 16 * 1024 * 1024);
    expect((await verifyPackage(folder)).problems[0]).toMatch(/^manifest\.json: not JSON/);
  });

  it('stops at a manifest that fails its schema, naming each error, before comparing files', async () => {
    const folder = await folderCopy();
    const manifest = (await readManifest(folder)) as unknown as Record<string, unknown>;
    delete manifest.contentSha256;
    manifest.kind = 'package';
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(manifest));
    const result = await verifyPackage(folder);
    expect(result.passed).toBe(false);
    expect(result.problems.length).toBeGreaterThanOrEqual(2);
    expect(result.problems.every((p) => p.startsWith('manifest.json: fails its schema: '))).toBe(true);
    expect(result.problems.join('\n')).toMatch(/contentSha256/);
    expect(result.problems.join('\n')).not.toMatch(/changed|not in the manifest/);
  });
});

describe('verifyPackage: an archive', () => {
  it("names the archive's digest and its unreadable entries when it stops early", async () => {
    const folder = await folderCopy();
    const dir = await temporaryDirectory('mlops-verify-zip-');
    const zip = (name: string, names: string[]) =>
      writeZip(
        join(dir, name),
        names.map((entry) => ({ name: entry, source: { path: join(folder, ...entry.split('/')) } })),
        { mtime: new Date(0) },
      );
    const files = built.manifest.files.map((f) => f.path);
    const without = await zip('no-manifest.zip', files);
    expect(await verifyPackage(join(dir, 'no-manifest.zip'))).toEqual({
      path: join(dir, 'no-manifest.zip'),
      passed: false,
      problems: ['manifest.json: missing, so nothing can be verified'],
      digest: without.sha256,
      files: files.length,
    });
    await writeFile(join(folder, 'manifest.json'), '{ nope');
    const notJson = await zip('not-json.zip', [...files, 'manifest.json']);
    const result = await verifyPackage(join(dir, 'not-json.zip'));
    expect(result.digest).toBe(notJson.sha256);
    expect(result.problems).toEqual([expect.stringMatching(/^manifest\.json: not JSON \(/)]);
    await writeFile(join(folder, 'manifest.json'), JSON.stringify({ kind: 'package' }));
    const schema = await zip('schema.zip', [...files, 'manifest.json']);
    expect((await verifyPackage(join(dir, 'schema.zip'))).digest).toBe(schema.sha256);
  });

  it('names a file of a repacked archive whose bytes are not the manifest’s, with the archive’s digest', async () => {
    const folder = await folderCopy();
    await writeFile(join(folder, 'signature.json'), '{}\n');
    const dir = await temporaryDirectory('mlops-verify-zip-');
    const path = join(dir, 'repacked.zip');
    const names = [...built.manifest.files.map((f) => f.path), 'manifest.json'];
    const written = await writeZip(
      path,
      names.map((name) => ({ name, source: { path: join(folder, ...name.split('/')) } })),
      { mtime: new Date(0) },
    );
    const result = await verifyPackage(path);
    expect(result.passed).toBe(false);
    expect(result.digest).toBe(written.sha256);
    expect(result.problems).toHaveLength(2);
    expect(result.problems[0]).toMatch(
      /^signature\.json: changed \(sha256 [0-9a-f]{12}…, 3 bytes; the manifest says/,
    );
    expect(result.problems[1]).toMatch(/^manifest\.json: contentSha256 .* does not match the files/);
  });
});

/** The package's model bytes with `doc_string` (ModelProto field 6) appended: still a valid model. */
function withDocString(model: Uint8Array, bytes: number): Buffer {
  // A protobuf field may follow the others: tag (6 << 3 | 2 = 0x32), length as a varint, the bytes.
  const length: number[] = [];
  for (let n = bytes; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([model, Buffer.from([0x32, ...length]), Buffer.alloc(bytes, 'x')]);
}

/**
 * Re-lists a tampered package folder as package-model would have: every file of `paths` (the
 * manifest's and any added) with its size and digest, sorted by path; the content digest of those,
 * also written into model.onnx's metadata (same length, so the protobuf stays valid).
 */
async function relist(folder: string, paths: string[]): Promise<PackageManifest> {
  const manifest = await readManifest(folder);
  const files = await Promise.all(
    paths.map(async (path) => {
      const bytes = await readFile(join(folder, ...path.split('/')));
      return { path, bytes: bytes.length, sha256: sha256(bytes) };
    }),
  );
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const content = contentDigest(files);
  const modelPath = join(folder, 'model.onnx');
  const model = await readFile(modelPath);
  const at = model.indexOf(manifest.contentSha256);
  if (at >= 0) model.write(content, at);
  await writeFile(modelPath, model);
  for (const file of files)
    if (file.path === 'model.onnx') Object.assign(file, { bytes: model.length, sha256: sha256(model) });
  const relisted = { ...manifest, files, contentSha256: content };
  await writeManifest(folder, relisted);
  return relisted;
}

describe('verifyPackage: the model', () => {
  it('parses a model larger than 2 MiB (the limit is ONNX’s 2 GiB)', async () => {
    const folder = await folderCopy();
    const path = join(folder, 'model.onnx');
    await writeFile(path, withDocString(await readFile(path), 3 * 1024 * 1024));
    await relist(
      folder,
      built.manifest.files.map((f) => f.path),
    );
    expect((await verifyPackage(folder)).problems).toEqual([]);
  });

  it('does not parse a model over the caller’s limit, and parses one exactly at it', async () => {
    const size = built.manifest.files.find((f) => f.path === 'model.onnx')!.bytes;
    expect((await verifyPackage(built.directory, { maxModelBytes: size })).problems).toEqual([]);
    expect((await verifyPackage(built.directory, { maxModelBytes: size - 1 })).problems).toEqual([
      `model.onnx: ${size} bytes, more than the limit of ${size - 1} for a model file`,
    ]);
  });

  it('fails a package without a model, even when its manifest does not list one', async () => {
    const folder = await folderCopy();
    await rm(join(folder, 'model.onnx'));
    const manifest = await readManifest(folder);
    manifest.files = manifest.files.filter((f) => f.path !== 'model.onnx');
    await writeManifest(folder, manifest);
    expect(await verifyPackage(folder)).toMatchObject({
      passed: false,
      problems: ['model.onnx: missing, and not in the manifest: a package holds its model'],
    });
  });

  it('names a listed model that is absent once, as missing', async () => {
    const folder = await folderCopy();
    await rm(join(folder, 'model.onnx'));
    expect((await verifyPackage(folder)).problems).toEqual(['model.onnx: missing']);
  });

  it('passes a package built outside git: no commit in the manifest, an empty one in the model', async () => {
    const unversioned = await makeTestPackage({ version: '1.0.0', reports: [], lineage: { commit: null } });
    expect(unversioned.manifest.lineage.commit).toBeNull();
    expect((await verifyPackage(unversioned.directory)).problems).toEqual([]);
    expect((await verifyPackage(unversioned.archive)).problems).toEqual([]);
  });
});

describe('verifyPackage: order', () => {
  it('digests the files in path order, not in the order the folder walk meets them', async () => {
    const folder = await folderCopy();
    // readdir lists each folder sorted (libuv sorts), but the walk goes depth first: reports/… comes
    // before reports.txt and reports-a.txt, which path order puts first ('-' and '.' sort before '/').
    const added = ['reports.txt', 'reports-a.txt'];
    for (const name of added) await writeFile(join(folder, name), name);
    const manifest = await relist(folder, [...built.manifest.files.map((f) => f.path), ...added]);
    expect(manifest.files.map((f) => f.path).indexOf('reports-a.txt')).toBeLessThan(
      manifest.files.map((f) => f.path).indexOf('reports/data-validation.json'),
    );
    expect((await verifyPackage(folder)).problems).toEqual([]);
  });

  it('digests an archive’s files in path order whatever order its entries are in, skipping folder entries', async () => {
    const folder = await folderCopy();
    const added = ['m.txt', 'a.txt', 'z.txt', 'reports/b.txt'];
    for (const name of added) await writeFile(join(folder, ...name.split('/')), name);
    const manifest = await relist(folder, [...built.manifest.files.map((f) => f.path), ...added]);
    const names = [...manifest.files.map((f) => f.path), 'manifest.json'].reverse();
    // reports/ as a folder entry first, as zip tools write it: it holds listed files, so it is fine.
    const entries = await Promise.all(
      names.map(async (name) => ({ name, data: await readFile(join(folder, ...name.split('/'))) })),
    );
    const path = join(await temporaryDirectory('mlops-verify-order-'), 'package.zip');
    await writeFile(path, rawZip([{ name: 'reports/' }, ...entries]));
    expect((await verifyPackage(path)).problems).toEqual([]);
  });
});

describe('verifyPackage: an archive’s entries', () => {
  /** The package's files as stored entries, in manifest order, then `extra`. */
  async function rawArchive(extra: { name: string; data?: Buffer }[] = []): Promise<string> {
    const names = [...built.manifest.files.map((f) => f.path), 'manifest.json'];
    const entries = await Promise.all(
      names.map(async (name) => ({
        name,
        data: await readFile(join(built.directory, ...name.split('/'))),
      })),
    );
    const path = join(await temporaryDirectory('mlops-verify-raw-'), 'package.zip');
    await writeFile(path, rawZip([...entries, ...extra]));
    return path;
  }

  it('names a folder entry that holds no listed file', async () => {
    const path = await rawArchive([{ name: 'extra/' }]);
    expect((await verifyPackage(path)).problems).toEqual([
      'extra/: not in the manifest (a folder holding no listed file)',
    ]);
  });

  it('names an entry whose data fails its CRC, and counts it as changed', async () => {
    const path = await rawArchive();
    const archive = await readFile(path);
    const signature = await readFile(join(built.directory, 'signature.json'));
    const at = archive.indexOf(signature);
    expect(at).toBeGreaterThan(0);
    archive[at + 1] ^= 0x01;
    await writeFile(path, archive);
    // Verify stops there: what it could not read cannot be compared with the manifest.
    expect(await verifyPackage(path)).toEqual({
      path,
      passed: false,
      problems: [
        `signature.json: cannot be read back from the archive (${path}: entry "signature.json" does not match its CRC-32 (corrupt).)`,
      ],
      manifest: built.manifest,
      digest: sha256(archive),
      files: built.manifest.files.length + 1,
    });
    // Without a manifest too, the entry that cannot be read is named before the missing manifest.
    const lone = Buffer.from(rawZip([{ name: 'signature.json', data: signature }]));
    lone[lone.indexOf(signature) + 1] ^= 0x01;
    const lonePath = join(dirname(path), 'lone.zip');
    await writeFile(lonePath, lone);
    expect((await verifyPackage(lonePath)).problems).toEqual([
      `signature.json: cannot be read back from the archive (${lonePath}: entry "signature.json" does not match its CRC-32 (corrupt).)`,
      'manifest.json: missing, so nothing can be verified',
    ]);
  });
});

describe('verifyPackage: what a package folder may hold', () => {
  async function refusalOf(folder: string): Promise<InputError> {
    const error = await verifyPackage(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }

  it('refuses a symbolic link, naming its target, without following it', async () => {
    const folder = await folderCopy();
    await symlink('/etc/passwd', join(folder, 'reports', 'link.json'));
    const error = await refusalOf(folder);
    expect(error.message).toBe(
      `${folder}: reports/link.json is a symbolic link (to /etc/passwd). A package folder holds regular files only, and verify never follows a link: remove it, or verify the package's archive.`,
    );
    expect(error.location).toEqual({ file: join(folder, 'reports/link.json') });
  });

  it('refuses a FIFO without opening it (a read would block)', async () => {
    const folder = await folderCopy();
    execFileSync('mkfifo', [join(folder, 'pipe')]);
    const error = await refusalOf(folder);
    expect(error.message).toBe(
      `${folder}: pipe is a FIFO (named pipe). A package folder holds regular files only: remove it, or verify the package's archive.`,
    );
    expect(error.location).toEqual({ file: join(folder, 'pipe') });
  });

  it('refuses a socket', async () => {
    const folder = await folderCopy();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(folder, 'socket'), resolve));
    try {
      expect((await refusalOf(folder)).message).toBe(
        `${folder}: socket is a socket. A package folder holds regular files only: remove it, or verify the package's archive.`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a device', async (context) => {
    const folder = await folderCopy();
    // Making a device node takes root (CAP_MKNOD), which CI has; elsewhere the case is skipped.
    const made = spawnMknod(join(folder, 'null'));
    if (!made && process.env.CI !== 'true') context.skip();
    expect(made).toBe(true);
    expect((await refusalOf(folder)).message).toBe(
      `${folder}: null is a device. A package folder holds regular files only: remove it, or verify the package's archive.`,
    );
  });

  it('names the subfolder it cannot read', async () => {
    // A real read error even as root: a subfolder whose path is longer than Linux's PATH_MAX
    // (4096), made by moving one deep chain of folders into another (each path given stays short).
    const folder = await folderCopy();
    const part = 'd'.repeat(240);
    const chain = (n: number) => Array.from({ length: n }, () => part);
    const outer = join(folder, ...chain(9));
    await mkdir(outer, { recursive: true });
    const elsewhere = await temporaryDirectory('mlops-verify-deep-');
    await mkdir(join(elsewhere, ...chain(9)), { recursive: true });
    await rename(join(elsewhere, part), join(outer, 'e'));
    try {
      const error = await refusalOf(folder);
      const [, prefix] = /^.*?: (.*) cannot be read \(ENAMETOOLONG\)\.$/.exec(error.message) ?? [];
      expect(prefix).toBeDefined();
      expect(join(folder, prefix).length).toBeGreaterThan(4096);
      expect(prefix).toBe(`${[...chain(9), 'e', ...chain(prefix.split('/').length - 11)].join('/')}/`);
      expect(error.message).toBe(`${folder}: ${prefix} cannot be read (ENAMETOOLONG).`);
      expect(error.location).toEqual({ file: folder });
    } finally {
      // Moved back, so the folders can be removed by paths short enough to give.
      await rename(join(outer, 'e'), join(elsewhere, part));
    }
  });
});

/** Makes /dev/null's twin (character device 1,3) at `path`; false when not permitted. */
function spawnMknod(path: string): boolean {
  try {
    execFileSync('mknod', [path, 'c', '1', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('unpackPackage', () => {
  /** An archive of the package folder's files (after `change`), plus `extra` entries. */
  async function archiveOf(
    change: (folder: string) => Promise<void> = async () => {},
    extra: { name: string; text: string }[] = [],
    leaveOut: string[] = [],
  ): Promise<string> {
    const folder = await folderCopy();
    await change(folder);
    const names = [...built.manifest.files.map((f) => f.path), 'manifest.json'].filter(
      (n) => !leaveOut.includes(n),
    );
    const path = join(await temporaryDirectory('mlops-unpack-'), 'package.zip');
    await writeZip(
      path,
      [
        ...names.map((name) => ({ name, source: { path: join(folder, ...name.split('/')) } })),
        ...extra.map((e) => ({ name: e.name, source: { bytes: new TextEncoder().encode(e.text) } })),
      ],
      { mtime: new Date(0) },
    );
    return path;
  }

  async function refusal(
    archive: string,
    options?: { maxBytes?: number; maxEntries?: number },
  ): Promise<string> {
    const target = join(archive, '..', 'out');
    const error = await unpackPackage(archive, target, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(existsSync(target)).toBe(false);
    return (error as Error).message;
  }

  it('unpacks exactly the listed files and the manifest, and returns the listing', async () => {
    const archive = await archiveOf();
    const target = join(archive, '..', 'out');
    expect(await unpackPackage(archive, target)).toEqual(built.manifest.files);
    for (const file of built.manifest.files)
      expect(sha256(await readFile(join(target, ...file.path.split('/'))))).toBe(file.sha256);
    expect(JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8'))).toEqual(built.manifest);
  });

  it('refuses an unlisted entry, a listed file that is absent, and a file whose bytes are not the manifest’s', async () => {
    const unlisted = await archiveOf(undefined, [{ name: '.git/config', text: 'secret' }]);
    expect(await refusal(unlisted)).toBe(
      `${unlisted}: entry ".git/config" is not in the manifest: refusing to unpack a package with unlisted files.`,
    );
    const absent = await archiveOf(undefined, [], ['signature.json']);
    expect(await refusal(absent)).toBe(
      `${absent}: signature.json is listed in the manifest but not in the archive.`,
    );
    const changed = await archiveOf((folder) => writeFile(join(folder, 'signature.json'), '{}\n'));
    const listed = built.manifest.files.find((f) => f.path === 'signature.json')!;
    expect(await refusal(changed)).toBe(
      `${changed}: signature.json is not the file the manifest lists (sha256 ${sha256(new TextEncoder().encode('{}\n')).slice(0, 12)}…, 3 bytes; the manifest says ${listed.sha256.slice(0, 12)}…, ${listed.bytes} bytes).`,
    );
  });

  it('refuses an archive without a manifest, or with a manifest that lists no proper files', async () => {
    const none = await archiveOf(undefined, [], ['manifest.json']);
    expect(await refusal(none)).toBe(
      `${none}: has no manifest.json: it is not a package made by package-model.`,
    );
    const notJson = await archiveOf((folder) => writeFile(join(folder, 'manifest.json'), 'nope'));
    expect(await refusal(notJson)).toMatch(/: its manifest\.json is not a package manifest \(/);
    for (const files of [
      undefined,
      [{ path: 'a', bytes: 1, sha256: 'xyz' }],
      [{ path: 'a', bytes: 1.5, sha256: 'a'.repeat(64) }],
      [{ bytes: 1, sha256: 'a'.repeat(64) }],
      [null],
    ]) {
      const bad = await archiveOf((folder) =>
        writeFile(join(folder, 'manifest.json'), JSON.stringify({ files })),
      );
      expect(await refusal(bad), JSON.stringify(files)).toMatch(
        files === undefined
          ? /its manifest\.json is not a package manifest \(no "files" list\)\.$/
          : /its manifest\.json is not a package manifest \(a "files" item is not \{ path, bytes, sha256 \}: /,
      );
    }
  });

  it('honours the caller’s limits on entries and bytes', async () => {
    const archive = await archiveOf();
    expect(await refusal(archive, { maxEntries: 2 })).toContain(archive);
    expect(await refusal(archive, { maxBytes: 10 })).toContain(archive);
  });

  it('names the archive as the file at fault', async () => {
    const archive = await archiveOf(undefined, [{ name: 'extra.txt', text: 'x' }]);
    const error = await unpackPackage(archive, join(archive, '..', 'out')).catch((e: unknown) => e);
    expect((error as InputError).location).toEqual({ file: archive });
  });

  it('refuses a file whose bytes differ at the same size, and a listing whose size alone is wrong', async () => {
    const flipped = await archiveOf(async (folder) => {
      const path = join(folder, 'signature.json');
      const bytes = await readFile(path);
      bytes[0] ^= 0x01;
      await writeFile(path, bytes);
    });
    const listed = built.manifest.files.find((f) => f.path === 'signature.json')!;
    expect(await refusal(flipped)).toMatch(
      new RegExp(
        `: signature\\.json is not the file the manifest lists \\(sha256 [0-9a-f]{12}…, ${listed.bytes} bytes; the manifest says ${listed.sha256.slice(0, 12)}…, ${listed.bytes} bytes\\)\\.$`,
      ),
    );
    const wrongSize = await archiveOf(async (folder) => {
      const manifest = await readManifest(folder);
      manifest.files.find((f) => f.path === 'signature.json')!.bytes += 1;
      await writeManifest(folder, manifest);
    });
    expect(await refusal(wrongSize)).toBe(
      `${wrongSize}: signature.json is not the file the manifest lists (sha256 ${listed.sha256.slice(0, 12)}…, ${listed.bytes} bytes; the manifest says ${listed.sha256.slice(0, 12)}…, ${listed.bytes + 1} bytes).`,
    );
  });

  it('refuses a manifest over 16 MiB before reading it, and reads one of exactly 16 MiB', async () => {
    const pad = (size: number) => async (folder: string) => {
      const json = Buffer.from(JSON.stringify(await readManifest(folder)));
      await writeFile(
        join(folder, 'manifest.json'),
        Buffer.concat([json, Buffer.alloc(size - json.length, ' ')]),
      );
    };
    const over = await archiveOf(pad(16 * 1024 * 1024 + 1));
    expect(await refusal(over)).toBe(
      `${over}: its manifest.json has 16777217 bytes, more than a manifest's limit of 16777216.`,
    );
    const at = await archiveOf(pad(16 * 1024 * 1024));
    expect(await unpackPackage(at, join(at, '..', 'out'))).toEqual(built.manifest.files);
  });

  it('unpacks an archive with folder entries that hold listed files, and refuses an empty folder entry', async () => {
    const names = [...built.manifest.files.map((f) => f.path), 'manifest.json'];
    const files = await Promise.all(
      names.map(async (name) => ({
        name,
        data: await readFile(join(built.directory, ...name.split('/'))),
      })),
    );
    const dir = await temporaryDirectory('mlops-unpack-raw-');
    const withFolder = join(dir, 'with-folder.zip');
    await writeFile(withFolder, rawZip([{ name: 'reports/' }, ...files]));
    expect(await unpackPackage(withFolder, join(dir, 'unpacked'))).toEqual(built.manifest.files);
    const empty = join(dir, 'empty-folder.zip');
    await writeFile(empty, rawZip([...files, { name: 'extra/' }]));
    expect(await refusal(empty)).toBe(
      `${empty}: entry "extra/" is not in the manifest: refusing to unpack a package with unlisted entries.`,
    );
    // The entry limit counts folder entries, and applies before the manifest is read.
    const badManifest = join(dir, 'bad-manifest.zip');
    await writeFile(
      badManifest,
      rawZip([
        { name: 'reports/' },
        ...files.map((f) => (f.name === 'manifest.json' ? { ...f, data: Buffer.from('nope') } : f)),
      ]),
    );
    expect(await refusal(badManifest, { maxEntries: files.length })).toBe(
      `${badManifest}: has ${files.length + 1} entries, more than the limit of ${files.length}: a model package holds a handful of files. Refusing to read it.`,
    );
  });

  it('refuses a listed digest that is not exactly 64 hex digits, quoting at most 200 characters of the item', async () => {
    for (const sha of [`${'a'.repeat(64)}0`, `0${'a'.repeat(64)}`]) {
      const bad = await archiveOf((folder) =>
        writeFile(
          join(folder, 'manifest.json'),
          JSON.stringify({ files: [{ path: 'a', bytes: 1, sha256: sha }] }),
        ),
      );
      expect(await refusal(bad)).toBe(
        `${bad}: its manifest.json is not a package manifest (a "files" item is not { path, bytes, sha256 }: ${JSON.stringify({ path: 'a', bytes: 1, sha256: sha })}).`,
      );
    }
    const item = { path: 'p'.repeat(300), bytes: 1, sha256: 'x' };
    const long = await archiveOf((folder) =>
      writeFile(join(folder, 'manifest.json'), JSON.stringify({ files: [item] })),
    );
    expect(await refusal(long)).toBe(
      `${long}: its manifest.json is not a package manifest (a "files" item is not { path, bytes, sha256 }: ${JSON.stringify(item).slice(0, 200)}).`,
    );
  });
});
