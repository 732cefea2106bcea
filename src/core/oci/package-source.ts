/**
 * A model package opened for pushing: a package folder or its archive, read without unpacking
 * weights. The manifest is read and checked against its schema; every file it lists must be there
 * with the size it lists, and nothing else. Digests are not recomputed here: each file is pushed as
 * the blob the manifest names (`sha256:<its sha256>`), and the registry checks the bytes it receives
 * against that digest, so a changed file is refused by the registry and never published.
 *
 * Stored (uncompressed) entries of an archive, the weights, are read in place as a byte range of
 * the archive; deflated entries (JSON, Markdown) are unpacked into a temporary folder, checked
 * against their sha256 as they are written.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { digestFile } from '../digest.ts';
import { InputError } from '../errors.ts';
import {
  type ManifestFile,
  manifestSchemaErrors,
  PACKAGE_FILES,
  type PackageManifest,
  PROVENANCE_FILE,
} from '../package/build-package.ts';
import { checkZipLimits, extractZip, openZipEntry, readZipEntries, type ZipEntryInfo } from '../zip/zip.ts';

/** Largest manifest read, as `package verify` reads it. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Largest provenance statement read. */
const MAX_PROVENANCE_BYTES = 16 * 1024 * 1024;

/** A file of the package and where its bytes are. */
export interface PackageFile extends ManifestFile {
  /** A file on disk, or the range of the archive starting at `start`. */
  source: { path: string; start?: number };
}

/** A package opened by {@link openPackageSource}. */
export interface PackageSource {
  /** The folder or archive, as given. */
  path: string;
  kind: 'folder' | 'archive';
  manifest: PackageManifest;
  /** manifest.json's bytes, as in the package. */
  manifestBytes: Uint8Array;
  /** Every file the manifest lists (not manifest.json), sorted by path. */
  files: PackageFile[];
  /** The provenance statement next to the package, when it is this package's. */
  provenance?: { path: string; bytes: Uint8Array };
  /** The archive's sha256 (the package digest), when the archive or its provenance is at hand. */
  archiveSha256?: string;
  /** Notes for the user (a provenance file that is another package's, …). */
  notes: string[];
  /** Removes the temporary files of an archive's deflated entries. */
  close(): Promise<void>;
}

/**
 * Opens a package folder or archive. Throws `InputError` naming the path when it is not a package
 * (no manifest, a manifest that fails its schema), when a listed file is missing or has another
 * size, or when it holds a file the manifest does not list.
 */
export async function openPackageSource(
  path: string,
  options: { archiveSha256?: string } = {},
): Promise<PackageSource> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch {
    throw new InputError(
      `${path} does not exist: give a package folder or its .zip archive (from mlops package).`,
      {
        file: path,
      },
    );
  }
  const source = isDirectory ? await openFolder(path) : await openArchive(path);
  try {
    const name = `${source.manifest.package.name}-${source.manifest.package.version}`;
    const archiveSha256 =
      options.archiveSha256 ?? (source.kind === 'archive' ? (await digestFile(path)).sha256 : undefined);
    const provenance = await findProvenance(path, name, source, archiveSha256);
    return { ...source, ...provenance, ...(archiveSha256 ? { archiveSha256 } : {}) };
  } catch (error) {
    await source.close();
    throw error;
  }
}

type Opened = Omit<PackageSource, 'provenance' | 'archiveSha256'>;

function parseManifest(bytes: Uint8Array, path: string): PackageManifest {
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new InputError(`${path}: ${PACKAGE_FILES.manifest} is not JSON (${(error as Error).message}).`, {
      file: path,
    });
  }
  const errors = manifestSchemaErrors(manifest);
  if (errors.length > 0) {
    throw new InputError(
      `${path}: ${PACKAGE_FILES.manifest} fails its schema (${errors.slice(0, 3).join('; ')}): it is not a package made by mlops package. Run \`mlops package verify ${path}\`.`,
      { file: path },
    );
  }
  return manifest;
}

/** Listed files must be there with their sizes; nothing unlisted may be. */
function matchFiles(
  path: string,
  manifest: PackageManifest,
  present: Map<string, number>,
  locate: (file: ManifestFile) => PackageFile['source'],
): PackageFile[] {
  const listed = new Set(manifest.files.map((file) => file.path));
  const files: PackageFile[] = [];
  for (const file of manifest.files) {
    const size = present.get(file.path);
    if (size === undefined) {
      throw new InputError(
        `${path}: ${file.path} is listed in the manifest but missing. Run \`mlops package verify ${path}\`.`,
        {
          file: path,
        },
      );
    }
    if (size !== file.bytes) {
      throw new InputError(
        `${path}: ${file.path} has ${size} bytes, the manifest lists ${file.bytes}: the package changed after it was made. Run \`mlops package verify ${path}\`.`,
        { file: path },
      );
    }
    files.push({ ...file, source: locate(file) });
  }
  for (const name of present.keys()) {
    if (name !== PACKAGE_FILES.manifest && !listed.has(name)) {
      throw new InputError(
        `${path}: ${name} is not in the package's manifest: a package is pushed as it was made. Remove the file, or package the model again.`,
        { file: path },
      );
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function openFolder(folder: string): Promise<Opened> {
  const present = new Map<string, number>();
  const walk = async (path: string, prefix: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      throw new InputError(
        `${folder}: ${prefix || 'the folder'} cannot be read (${(error as NodeJS.ErrnoException).code}).`,
        {
          file: folder,
        },
      );
    }
    for (const entry of entries) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) await walk(join(path, entry.name), `${name}/`);
      else if (entry.isFile()) present.set(name, (await stat(join(path, entry.name))).size);
      else {
        throw new InputError(
          `${folder}: ${name} is not a regular file (a symbolic link, device or pipe). A package folder holds regular files only: remove it, or push the package's archive.`,
          { file: join(folder, name) },
        );
      }
    }
  };
  await walk(folder, '');
  if (!present.has(PACKAGE_FILES.manifest)) {
    throw new InputError(
      `${folder} has no ${PACKAGE_FILES.manifest}: give a package folder made by mlops package (or its .zip).`,
      {
        file: folder,
      },
    );
  }
  if ((present.get(PACKAGE_FILES.manifest) ?? 0) > MAX_MANIFEST_BYTES) {
    throw new InputError(
      `${folder}: ${PACKAGE_FILES.manifest} is larger than a manifest's limit of ${MAX_MANIFEST_BYTES} bytes.`,
      {
        file: folder,
      },
    );
  }
  const manifestBytes = await readFile(join(folder, PACKAGE_FILES.manifest));
  const manifest = parseManifest(manifestBytes, folder);
  const files = matchFiles(folder, manifest, present, (file) => ({
    path: join(folder, ...file.path.split('/')),
  }));
  return { path: folder, kind: 'folder', manifest, manifestBytes, files, notes: [], close: async () => {} };
}

async function openArchive(archive: string): Promise<Opened> {
  const entries = (await readZipEntries(archive)).filter((entry) => !entry.name.endsWith('/'));
  checkZipLimits(archive, entries, (await stat(archive)).size);
  const manifestEntry = entries.find((entry) => entry.name === PACKAGE_FILES.manifest);
  if (!manifestEntry) {
    throw new InputError(
      `${archive} has no ${PACKAGE_FILES.manifest}: it is not a package made by mlops package.`,
      {
        file: archive,
      },
    );
  }
  if (manifestEntry.size > MAX_MANIFEST_BYTES) {
    throw new InputError(
      `${archive}: ${PACKAGE_FILES.manifest} is larger than a manifest's limit of ${MAX_MANIFEST_BYTES} bytes.`,
      {
        file: archive,
      },
    );
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of await openZipEntry(archive, manifestEntry)) chunks.push(chunk as Uint8Array);
  const manifestBytes = Buffer.concat(chunks);
  const manifest = parseManifest(manifestBytes, archive);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const present = new Map(entries.map((entry) => [entry.name, entry.size]));
  // Deflated entries are unpacked (checked against the manifest); stored ones are read in place.
  const deflated = manifest.files.filter((file) => byName.get(file.path)?.method === 'deflate');
  let temporary: string | undefined;
  const close = async () => {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  };
  try {
    if (deflated.length > 0) {
      temporary = await mkdtemp(join(tmpdir(), 'mlops-oci-'));
      const expected = new Map(deflated.map((file) => [file.path, file]));
      await extractZip(archive, join(temporary, 'files'), {
        names: new Set(expected.keys()),
        check: (file) => {
          const listed = expected.get(file.name);
          if (listed && (listed.sha256 !== file.sha256 || listed.bytes !== file.size)) {
            throw new InputError(
              `${archive}: ${file.name} is not the file the manifest lists (sha256 ${file.sha256.slice(0, 12)}…; the manifest says ${listed.sha256.slice(0, 12)}…). Run \`mlops package verify ${archive}\`.`,
              { file: archive },
            );
          }
        },
      });
    }
    const offsets = new Map<string, number>();
    for (const file of manifest.files) {
      const entry = byName.get(file.path);
      if (entry?.method === 'store') offsets.set(file.path, await storedDataStart(archive, entry));
    }
    const unpacked = temporary;
    const files = matchFiles(archive, manifest, present, (file) => {
      const start = offsets.get(file.path);
      return start !== undefined
        ? { path: archive, start }
        : { path: join(unpacked ?? '', 'files', ...file.path.split('/')) };
    });
    return { path: archive, kind: 'archive', manifest, manifestBytes, files, notes: [], close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Where a stored entry's bytes start: after its local header, name and extra field. */
async function storedDataStart(archive: string, entry: ZipEntryInfo): Promise<number> {
  const handle = await open(archive, 'r');
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await handle.read(header, 0, 30, entry.offset);
    if (bytesRead !== 30 || header.readUInt32LE(0) !== 0x04034b50) {
      throw new InputError(`${archive}: entry "${entry.name}" has no local header at its offset (corrupt).`, {
        file: archive,
      });
    }
    const start = entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    if (start + entry.size > (await handle.stat()).size) {
      throw new InputError(
        `${archive}: entry "${entry.name}" runs past the end of the archive (truncated).`,
        {
          file: archive,
        },
      );
    }
    return start;
  } finally {
    await handle.close();
  }
}

/**
 * The provenance statement next to the package (`provenance.intoto.json` as mlops package writes
 * it, or `<name>-<version>.intoto.json` as a release names it), when its subject is this package's
 * model (and archive, when known). Another package's statement is left out, with a note.
 */
async function findProvenance(
  path: string,
  stem: string,
  source: Opened,
  archiveSha256: string | undefined,
): Promise<Pick<PackageSource, 'provenance' | 'archiveSha256' | 'notes'>> {
  const model = source.manifest.files.find((file) => file.path === PACKAGE_FILES.model)?.sha256;
  const folder = dirname(path);
  for (const name of [PROVENANCE_FILE, `${stem}.intoto.json`]) {
    const candidate = join(folder, name);
    let bytes: Buffer;
    try {
      if ((await stat(candidate)).size > MAX_PROVENANCE_BYTES) continue;
      bytes = await readFile(candidate);
    } catch {
      continue;
    }
    let statement: { subject?: { name?: string; digest?: { sha256?: string } }[] };
    try {
      statement = JSON.parse(bytes.toString('utf8'));
    } catch {
      source.notes.push(`${candidate} is not JSON: the provenance is not attached.`);
      continue;
    }
    const subjects = Array.isArray(statement.subject) ? statement.subject : [];
    const modelSubject = subjects.find((subject) => subject?.name === `${stem}/${PACKAGE_FILES.model}`);
    const archiveSubject = subjects.find((subject) => subject?.name === `${stem}.zip`);
    const matches =
      modelSubject?.digest?.sha256 === model &&
      (archiveSha256 === undefined || archiveSubject?.digest?.sha256 === archiveSha256);
    if (!matches) {
      source.notes.push(
        `${candidate} is the provenance of another package (its subject is not ${basename(path)}'s model${archiveSha256 ? ' and archive' : ''}): it is not attached.`,
      );
      continue;
    }
    return {
      provenance: { path: candidate, bytes },
      notes: source.notes,
      ...(archiveSha256 === undefined &&
      archiveSubject?.digest?.sha256 &&
      /^[0-9a-f]{64}$/.test(archiveSubject.digest.sha256)
        ? { archiveSha256: archiveSubject.digest.sha256 }
        : {}),
    };
  }
  return { notes: source.notes };
}

/** SHA-256 (hex) of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
