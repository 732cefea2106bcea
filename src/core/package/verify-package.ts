/**
 * `mlops package verify`: recomputes every digest of a package (a folder or its archive), checks
 * the manifest against its schema and model.onnx's metadata against the manifest, and names every
 * file whose bytes changed and every entry the manifest does not list. Reads each file once,
 * streaming (the archive is never unpacked to disk). A package holds regular files only: a symbolic
 * link, a device or a FIFO in a folder, or conflicting names in an archive, are refused (exit 2).
 *
 * `unpackPackage`: unpacks the files a package's manifest lists, within the archive limits.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { digestFile } from '../digest.ts';
import { InputError } from '../errors.ts';
import { parseOnnxModel } from '../model/onnx-inspect.ts';
import { checkZipLimits, extractZip, openZipEntry, readZipEntries, type ZipEntryInfo } from '../zip/zip.ts';
import {
  contentDigest,
  type ManifestFile,
  METADATA_KEYS,
  manifestSchemaErrors,
  PACKAGE_FILES,
  type PackageManifest,
  PROVENANCE_FILE,
} from './manifest.ts';

/** Largest manifest read (one of 10,000 files is about 2 MB). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Largest model.onnx read into memory (2 GiB): protobuf's limit for one message, so ONNX's for a model file. */
const MAX_MODEL_BYTES = 2 ** 31;

/** Limits of {@link verifyPackage}. */
export interface VerifyOptions {
  /** Largest model.onnx parsed for its metadata; default 2 GiB, ONNX's limit for a model file. */
  maxModelBytes?: number;
}

export interface VerifyResult {
  path: string;
  passed: boolean;
  /** One line per problem, each naming the file. */
  problems: string[];
  manifest?: PackageManifest;
  /** sha256 of the archive (archives only): the package digest. */
  digest?: string;
  files: number;
}

interface PackageContents {
  files: ManifestFile[];
  /** Folders (folder entries of an archive, or subfolders of a package folder), '/'-separated. */
  directories: string[];
  read(path: string): Promise<Uint8Array>;
  /** Entries that could not be read back (a CRC or size mismatch in the archive). */
  problems: string[];
}

/**
 * Verifies a package folder or archive. Throws `InputError` only when the path cannot be read at all,
 * or when a folder holds something other than files and folders.
 */
export async function verifyPackage(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Only a path that names nothing "does not exist"; a path too long, or behind a folder that
    // may not be listed, is there for all the user knows.
    throw new InputError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `${path} does not exist: give a package folder or its .zip archive.`
        : `${path} cannot be read (${code ?? (error as Error).message}): give a package folder or its .zip archive that this process may read.`,
      { file: path },
    );
  }
  const problems: string[] = [];
  let digest: string | undefined;
  const contents = isDirectory ? await readFolder(path) : await readArchive(path);
  if (!isDirectory) digest = (await digestFile(path)).sha256;
  problems.push(...contents.problems);
  // Every result, early or not, names the archive's digest: which bytes were verified or refused.
  const finish = (manifest?: PackageManifest): VerifyResult => ({
    path,
    passed: problems.length === 0,
    problems,
    ...(manifest ? { manifest } : {}),
    ...(digest ? { digest } : {}),
    files: contents.files.length,
  });
  const stop = (reason: string): VerifyResult => {
    problems.push(reason);
    return finish();
  };

  const manifestFile = contents.files.find((f) => f.path === PACKAGE_FILES.manifest);
  if (!manifestFile) return stop(`${PACKAGE_FILES.manifest}: missing, so nothing can be verified`);
  if (manifestFile.bytes > MAX_MANIFEST_BYTES) {
    return stop(
      `${PACKAGE_FILES.manifest}: ${manifestFile.bytes} bytes, more than a manifest's limit of ${MAX_MANIFEST_BYTES}`,
    );
  }
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await contents.read(PACKAGE_FILES.manifest)));
  } catch (error) {
    return stop(`${PACKAGE_FILES.manifest}: not JSON (${(error as Error).message})`);
  }
  for (const error of manifestSchemaErrors(manifest))
    problems.push(`${PACKAGE_FILES.manifest}: fails its schema: ${error}`);
  if (problems.length > 0) return finish(manifest);

  // Every listed file, byte for byte; nothing unlisted.
  const actual = new Map(contents.files.map((f) => [f.path, f]));
  for (const listed of manifest.files) {
    const found = actual.get(listed.path);
    if (!found) problems.push(`${listed.path}: missing`);
    else if (found.sha256 !== listed.sha256 || found.bytes !== listed.bytes) {
      problems.push(
        `${listed.path}: changed (sha256 ${found.sha256.slice(0, 12)}…, ${found.bytes} bytes; the manifest says ${listed.sha256.slice(0, 12)}…, ${listed.bytes} bytes)`,
      );
    }
  }
  const listedPaths = new Set(manifest.files.map((f) => f.path));
  for (const file of contents.files) {
    if (file.path !== PACKAGE_FILES.manifest && !listedPaths.has(file.path))
      problems.push(`${file.path}: not in the manifest`);
  }
  for (const directory of unlistedDirectories(contents.directories, listedPaths))
    problems.push(`${directory}/: not in the manifest (a folder holding no listed file)`);
  const content = contentDigest(contents.files.filter((f) => listedPaths.has(f.path)));
  if (content !== manifest.contentSha256) {
    problems.push(
      `${PACKAGE_FILES.manifest}: contentSha256 ${manifest.contentSha256.slice(0, 12)}… does not match the files (${content.slice(0, 12)}…)`,
    );
  }

  // The model's own metadata must say the same as the manifest.
  const modelFile = actual.get(PACKAGE_FILES.model);
  const maxModelBytes = options.maxModelBytes ?? MAX_MODEL_BYTES;
  if (!modelFile) {
    // Listed but absent is already named above ("missing"); neither listed nor present is a package
    // without its model, which the manifest's schema alone would let through.
    if (!listedPaths.has(PACKAGE_FILES.model))
      problems.push(`${PACKAGE_FILES.model}: missing, and not in the manifest: a package holds its model`);
  } else if (modelFile.bytes > maxModelBytes) {
    problems.push(
      `${PACKAGE_FILES.model}: ${modelFile.bytes} bytes, more than the limit of ${maxModelBytes} for a model file`,
    );
  } else {
    try {
      const model = parseOnnxModel(await contents.read(PACKAGE_FILES.model), PACKAGE_FILES.model);
      const expected: Record<string, string> = {
        [METADATA_KEYS.name]: manifest.package.name,
        [METADATA_KEYS.version]: manifest.package.version,
        [METADATA_KEYS.commit]: manifest.lineage.commit ?? '',
        [METADATA_KEYS.content]: manifest.contentSha256,
      };
      for (const [key, value] of Object.entries(expected)) {
        if (model.metadata[key] !== value) {
          problems.push(
            `${PACKAGE_FILES.model}: metadata ${key} is ${JSON.stringify(model.metadata[key] ?? null)}, the manifest says ${JSON.stringify(value)}`,
          );
        }
      }
    } catch (error) {
      problems.push(`${PACKAGE_FILES.model}: ${(error as Error).message}`);
    }
  }

  // An archive's provenance next to it must name this archive's digest.
  if (digest) {
    const text = await readFile(join(dirname(path), PROVENANCE_FILE), 'utf8').catch(() => undefined);
    if (text !== undefined) problems.push(...checkProvenance(text, basename(path), digest));
  }
  return finish(manifest);
}

/**
 * What is wrong with the provenance statement beside an archive: it must be JSON, and a subject
 * naming the archive must give the archive's digest (subjects about other files are not ours).
 */
function checkProvenance(text: string, archive: string, digest: string): string[] {
  let statement: { subject?: unknown };
  try {
    statement = JSON.parse(text);
  } catch (error) {
    return [
      `${PROVENANCE_FILE}: not JSON (${(error as Error).message}), so the archive's digest cannot be checked against it`,
    ];
  }
  // Stryker disable next-line ArrayDeclaration: a list without objects (["Stryker was here"]) names no archive either
  const subjects = Array.isArray(statement?.subject) ? statement.subject : [];
  const subject = subjects.find((s: { name?: unknown } | null) => s?.name === archive) as
    | { digest?: { sha256?: unknown } }
    | undefined;
  if (subject === undefined) return [];
  const named = subject.digest?.sha256;
  if (named === digest) return [];
  const shown = typeof named === 'string' ? `sha256 ${named.slice(0, 12)}…` : 'no sha256';
  return [`${PROVENANCE_FILE}: names ${shown} for ${archive}, the archive's is ${digest.slice(0, 12)}…`];
}

/** Folders that hold no listed file (an archive's folder entries, a package folder's subfolders). */
function unlistedDirectories(directories: readonly string[], listed: ReadonlySet<string>): string[] {
  return directories.filter((directory) => ![...listed].some((path) => path.startsWith(`${directory}/`)));
}

/**
 * The files of a package folder, by walking it without following links: a symbolic link (which
 * could make a file from anywhere verify), a device, a FIFO (which would block the read) or a
 * socket is refused with an `InputError` naming it.
 */
async function readFolder(folder: string): Promise<PackageContents> {
  const files: ManifestFile[] = [];
  const directories: string[] = [];
  const walk = async (path: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      throw new InputError(
        `${folder}: ${prefix || 'the folder'} cannot be read (${(error as NodeJS.ErrnoException).code}).`,
        { file: folder },
      );
    }
    for (const entry of entries) {
      const name = `${prefix}${entry.name}`;
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        directories.push(name);
        await walk(child, `${name}/`);
      } else if (entry.isFile()) {
        const digest = await digestFile(child);
        files.push({ path: name, bytes: digest.bytes, sha256: digest.sha256 });
      } else if (entry.isSymbolicLink()) {
        // Stryker disable next-line ArrowFunction,StringLiteral: readlink fails only when the link vanished since readdir listed it, a race no test can stage
        const target = await readlink(child).catch(() => 'somewhere');
        throw new InputError(
          `${folder}: ${name} is a symbolic link (to ${target}). A package folder holds regular files only, and verify never follows a link: remove it, or verify the package's archive.`,
          { file: join(folder, name) },
        );
      } else {
        // What is left of readdir's types is a device: Node resolves an unknown type with lstat.
        const kind = entry.isFIFO() ? 'a FIFO (named pipe)' : entry.isSocket() ? 'a socket' : 'a device';
        throw new InputError(
          `${folder}: ${name} is ${kind}. A package folder holds regular files only: remove it, or verify the package's archive.`,
          { file: join(folder, name) },
        );
      }
    }
  };
  await walk(folder, '');
  files.sort(byPath);
  return {
    files,
    directories,
    read: (path) => readFile(join(folder, ...path.split('/'))),
    problems: [],
  };
}

async function readArchive(archive: string): Promise<PackageContents> {
  const entries = await readZipEntries(archive);
  // What verify reads is bounded as unpacking is: a decompression bomb is refused, not hashed for minutes.
  checkZipLimits(archive, fileEntries(entries), (await stat(archive)).size);
  const files: ManifestFile[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of await openZipEntry(archive, entry)) {
        hash.update(chunk as Uint8Array);
        bytes += (chunk as Uint8Array).length;
      }
    } catch (error) {
      // A flipped byte in stored data fails the entry's CRC: report it with the file's name.
      problems.push(`${entry.name}: cannot be read back from the archive (${(error as Error).message})`);
      // Counted, never compared: verify stops at the problems of reading (before the manifest's files).
      // Stryker disable next-line StringLiteral: this digest is never compared (see above)
      files.push({ path: entry.name, bytes: entry.size, sha256: '0'.repeat(64) });
      continue;
    }
    files.push({ path: entry.name, bytes, sha256: hash.digest('hex') });
  }
  files.sort(byPath);
  return {
    files,
    directories: entries.filter((e) => e.name.endsWith('/')).map((e) => e.name.slice(0, -1)),
    problems,
    read: async (path) => {
      const entry = entries.find((e) => e.name === path);
      // Stryker disable next-line StringLiteral,ObjectLiteral: verify reads only paths it listed from these entries (the manifest, the model); a guard
      if (!entry) throw new InputError(`${archive} has no ${path}.`, { file: archive });
      const chunks: Uint8Array[] = [];
      for await (const chunk of await openZipEntry(archive, entry)) chunks.push(chunk as Uint8Array);
      return Buffer.concat(chunks);
    },
  };
}

/**
 * Orders files by path, code unit by code unit, as the content digest lists them (contentDigest
 * hashes in the order given). Paths are unique: a folder cannot hold two, an archive with two is
 * refused by readZipEntries.
 */
function byPath(a: ManifestFile, b: ManifestFile): number {
  // Stryker disable next-line EqualityOperator: paths are unique, so "less or equal" orders as "less" does
  return a.path < b.path ? -1 : 1;
}

function fileEntries(entries: readonly ZipEntryInfo[]): ZipEntryInfo[] {
  return entries.filter((entry) => !entry.name.endsWith('/'));
}

/** Limits of {@link unpackPackage}; the defaults are the archive limits of zip.ts (`ZIP_LIMITS`). */
export interface UnpackOptions {
  /** Largest total of unpacked bytes; default: the archive's size plus `ZIP_LIMITS.expansionBytes`. */
  maxBytes?: number;
  /** Largest number of entries in the archive; default `ZIP_LIMITS.entries`. */
  maxEntries?: number;
}

/**
 * Unpacks a package archive fetched from elsewhere (the model an environment runs) into `folder`,
 * which must not exist: the manifest and exactly the files it lists, each checked against the
 * manifest's size and SHA-256 as it is written. Throws `InputError` naming the archive, before
 * anything is written, when the archive breaks a limit (entries, unpacked size), has no manifest,
 * or holds an entry the manifest does not list; and while unpacking when a file's bytes are not the
 * manifest's. Nothing is left behind on an error (see `extractZip`). Returns the manifest's files.
 */
export async function unpackPackage(
  archive: string,
  folder: string,
  options: UnpackOptions = {},
): Promise<ManifestFile[]> {
  const bad = (what: string): InputError => new InputError(`${archive}: ${what}`, { file: archive });
  const entries = await readZipEntries(archive, { maxEntries: options.maxEntries });
  checkZipLimits(archive, fileEntries(entries), (await stat(archive)).size, options);
  const manifestEntry = entries.find((e) => e.name === PACKAGE_FILES.manifest);
  if (!manifestEntry)
    throw bad(`has no ${PACKAGE_FILES.manifest}: it is not a package made by package-model.`);
  if (manifestEntry.size > MAX_MANIFEST_BYTES) {
    throw bad(
      `its ${PACKAGE_FILES.manifest} has ${manifestEntry.size} bytes, more than a manifest's limit of ${MAX_MANIFEST_BYTES}.`,
    );
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of await openZipEntry(archive, manifestEntry)) chunks.push(chunk as Uint8Array);
  let listed: ManifestFile[];
  try {
    listed = readListedFiles(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (error) {
    throw bad(`its ${PACKAGE_FILES.manifest} is not a package manifest (${(error as Error).message}).`);
  }
  const byPath = new Map(listed.map((file) => [file.path, file]));
  const present = new Set(entries.map((e) => e.name));
  for (const file of listed) {
    if (!present.has(file.path)) throw bad(`${file.path} is listed in the manifest but not in the archive.`);
  }
  for (const entry of fileEntries(entries)) {
    if (entry.name !== PACKAGE_FILES.manifest && !byPath.has(entry.name)) {
      throw bad(
        `entry "${entry.name}" is not in the manifest: refusing to unpack a package with unlisted files.`,
      );
    }
  }
  const directories = entries.filter((e) => e.name.endsWith('/')).map((e) => e.name.slice(0, -1));
  for (const directory of unlistedDirectories(directories, new Set(byPath.keys()))) {
    throw bad(
      `entry "${directory}/" is not in the manifest: refusing to unpack a package with unlisted entries.`,
    );
  }
  await extractZip(archive, folder, {
    names: new Set([PACKAGE_FILES.manifest, ...byPath.keys()]),
    maxBytes: options.maxBytes,
    maxEntries: options.maxEntries,
    check: (file) => {
      const expected = byPath.get(file.name);
      if (expected && (expected.sha256 !== file.sha256 || expected.bytes !== file.size)) {
        throw bad(
          `${file.name} is not the file the manifest lists (sha256 ${file.sha256.slice(0, 12)}…, ${file.size} bytes; the manifest says ${expected.sha256.slice(0, 12)}…, ${expected.bytes} bytes).`,
        );
      }
    },
  });
  return listed;
}

/** The `files` of a manifest (any version): paths, sizes and digests, checked for shape. */
function readListedFiles(manifest: unknown): ManifestFile[] {
  const files = (manifest as { files?: unknown } | null)?.files;
  if (!Array.isArray(files)) throw new Error('no "files" list');
  for (const file of files as Partial<ManifestFile>[]) {
    if (
      typeof file?.path !== 'string' ||
      typeof file.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(file.sha256) ||
      !Number.isSafeInteger(file.bytes)
    ) {
      throw new Error(`a "files" item is not { path, bytes, sha256 }: ${JSON.stringify(file).slice(0, 200)}`);
    }
  }
  return files as ManifestFile[];
}
