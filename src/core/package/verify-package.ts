/**
 * `mlops package verify`: recomputes every digest of a package (a folder or its archive), checks
 * the manifest against its schema and model.onnx's metadata against the manifest, and names every
 * file whose bytes changed. Reads each file once, streaming (the archive is never unpacked to disk).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { digestFile } from '../digest.ts';
import { InputError } from '../errors.ts';
import { parseOnnxModel } from '../model/onnx-inspect.ts';
import {
  contentDigest,
  listFiles,
  type ManifestFile,
  METADATA_KEYS,
  manifestSchemaErrors,
  PACKAGE_FILES,
  type PackageManifest,
  PROVENANCE_FILE,
} from './build-package.ts';
import { openZipEntry, readZipEntries } from './zip.ts';

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
  read(path: string): Promise<Uint8Array>;
  /** Entries that could not be read back (a CRC or size mismatch in the archive). */
  problems: string[];
}

/** Verifies a package folder or archive. Throws `InputError` only when the path cannot be read at all. */
export async function verifyPackage(path: string): Promise<VerifyResult> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch {
    throw new InputError(`${path} does not exist: give a package folder or its .zip archive.`, {
      file: path,
    });
  }
  const problems: string[] = [];
  let digest: string | undefined;
  const contents = isDirectory ? await readFolder(path) : await readArchive(path);
  if (!isDirectory) digest = (await digestFile(path)).sha256;
  problems.push(...contents.problems);

  const manifestFile = contents.files.find((f) => f.path === PACKAGE_FILES.manifest);
  if (!manifestFile) {
    return {
      path,
      passed: false,
      problems: [`${PACKAGE_FILES.manifest}: missing, so nothing can be verified`],
      files: contents.files.length,
    };
  }
  let manifest: PackageManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await contents.read(PACKAGE_FILES.manifest)));
  } catch (error) {
    return {
      path,
      passed: false,
      problems: [`${PACKAGE_FILES.manifest}: not JSON (${(error as Error).message})`],
      files: contents.files.length,
    };
  }
  for (const error of manifestSchemaErrors(manifest))
    problems.push(`${PACKAGE_FILES.manifest}: fails its schema: ${error}`);
  if (problems.length > 0) return { path, passed: false, problems, manifest, files: contents.files.length };

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
  const content = contentDigest(contents.files.filter((f) => listedPaths.has(f.path)));
  if (content !== manifest.contentSha256) {
    problems.push(
      `${PACKAGE_FILES.manifest}: contentSha256 ${manifest.contentSha256.slice(0, 12)}… does not match the files (${content.slice(0, 12)}…)`,
    );
  }

  // The model's own metadata must say the same as the manifest.
  if (actual.has(PACKAGE_FILES.model)) {
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
    const provenancePath = join(dirname(path), PROVENANCE_FILE);
    const provenance = await readFile(provenancePath, 'utf8').then(
      (text) => JSON.parse(text) as { subject?: { name: string; digest: { sha256: string } }[] },
      () => undefined,
    );
    const subject = provenance?.subject?.find((s) => s.name === basename(path));
    if (subject && subject.digest.sha256 !== digest) {
      problems.push(
        `${PROVENANCE_FILE}: names sha256 ${subject.digest.sha256.slice(0, 12)}… for ${basename(path)}, the archive's is ${digest.slice(0, 12)}…`,
      );
    }
  }
  return {
    path,
    passed: problems.length === 0,
    problems,
    manifest,
    ...(digest ? { digest } : {}),
    files: contents.files.length,
  };
}

async function readFolder(folder: string): Promise<PackageContents> {
  return {
    files: await listFiles(folder),
    read: (path) => readFile(join(folder, ...path.split('/'))),
    problems: [],
  };
}

async function readArchive(archive: string): Promise<PackageContents> {
  const entries = await readZipEntries(archive);
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
      files.push({ path: entry.name, bytes: entry.size, sha256: '0'.repeat(64) });
      continue;
    }
    files.push({ path: entry.name, bytes, sha256: hash.digest('hex') });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files,
    problems,
    read: async (path) => {
      const entry = entries.find((e) => e.name === path);
      if (!entry) throw new InputError(`${archive} has no ${path}.`, { file: archive });
      const chunks: Uint8Array[] = [];
      for await (const chunk of await openZipEntry(archive, entry)) chunks.push(chunk as Uint8Array);
      return Buffer.concat(chunks);
    },
  };
}
