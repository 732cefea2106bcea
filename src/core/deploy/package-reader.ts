/**
 * Reads what a package says of itself (its manifest, and JSON entries such as the data report)
 * from its reference, checking its sha256 wherever the whole archive is read:
 *
 * - `file:` — the archive is hashed and must match the reference's digest;
 * - `https:` (and `http:` to loopback) — archives up to {@link FULL_DOWNLOAD_BYTES} are downloaded
 *   whole and hashed; larger ones are not downloaded: the end of the archive (its central
 *   directory) and then the manifest's entry are read with HTTP range requests, and where the
 *   server does not support ranges, the small sidecar `<name>-<version>.manifest.json` that
 *   package-model publishes next to the archive is read instead. Neither checks the archive's
 *   digest: the result says so (`digestChecked: false`);
 * - anything else (`artifact://`, `s3://`, …) — read from a local folder holding the archive (the
 *   package built in the same job), found by its digest.
 *
 * Credentials follow the rules of transport.ts. A digest that does not match is an `InputError`
 * naming both digests; nothing is used from such a package.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, InputError } from '../errors.ts';
import {
  manifestSchemaErrors,
  PACKAGE_ASSETS,
  PACKAGE_FILES,
  type PackageManifest,
} from '../package/manifest.ts';
import { openZipEntry, readZipEntries, type ZipEntryInfo } from '../zip/zip.ts';
import type { PackageRef } from './model-reference.ts';
import { type Credential, fetchWithCredential, redact, TIME_LIMITS } from './transport.ts';

/** Archives up to this size are downloaded whole (and their sha256 checked); larger ones by ranges. */
export const FULL_DOWNLOAD_BYTES = 256 * 1024 * 1024;
/** A manifest or report larger than this is refused (ours are a few kilobytes). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** The end of an archive read first: the end record, a comment of up to 64 KiB, and usually the directory. */
const TAIL_BYTES = 128 * 1024;

/** How a package's manifest was read. */
export type PackageReadMethod = 'archive' | 'range' | 'sidecar';

/** A package opened for reading its JSON entries. */
export interface OpenedPackage {
  manifest: PackageManifest;
  /** `archive`: the whole archive was read and hashed; `range`/`sidecar`: only the manifest. */
  method: PackageReadMethod;
  /** True when the archive's sha256 was computed here and matched the reference. */
  digestChecked: boolean;
  /** Size of the archive, when known. */
  bytes?: number;
  /** A JSON entry of the package (e.g. `reports/data-validation.json`); undefined when absent or not readable (sidecar). */
  readJson(name: string): Promise<unknown>;
  /** Removes temporary files. */
  close(): Promise<void>;
}

export interface OpenPackageOptions {
  credential?: Credential;
  /**
   * Folders holding archives built in this job (package-model's output folder): a reference that
   * cannot be fetched from here (`artifact://`, `s3://`, …) is read from the archive there whose
   * sha256 is the reference's.
   */
  localFolders?: string[];
  /** Default {@link FULL_DOWNLOAD_BYTES}. */
  fullDownloadBytes?: number;
}

/** Opens the package a reference names; see the module comment. */
export async function openPackage(ref: PackageRef, options: OpenPackageOptions = {}): Promise<OpenedPackage> {
  const scheme = ref.uri.slice(0, ref.uri.indexOf(':')).toLowerCase();
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(ref.uri);
    } catch (error) {
      throw new ConfigurationError(
        `The package reference ${ref.uri} is not a file URL: ${(error as Error).message}.`,
      );
    }
    return openLocalArchive(path, ref, ref.uri);
  }
  if (scheme === 'https' || scheme === 'http') return openRemote(ref, options);
  const local = await findLocalArchive(ref, options.localFolders ?? []);
  if (local) return openLocalArchive(local, ref, ref.uri);
  throw new ConfigurationError(
    `The package ${ref.uri} cannot be read from here (only https:// and file:// references can be fetched), so its manifest — gate verdicts, metrics, source commit — cannot be recorded. ` +
      (options.localFolders?.length
        ? `No archive in ${options.localFolders.join(', ')} has its sha256 ${ref.sha256}. `
        : '') +
      'Deploy from the job that built it and give the folder package-model wrote it to (deploy-pr input package-dir, mlops deploy --package-dir), or deploy the release asset (https://).',
  );
}

/**
 * Downloads a package archive (`file:` or `https:`) to `target`, hashing it on the way; throws
 * `InputError` when its sha256 is not `sha256` (naming both), or when it is larger than `maxBytes`.
 */
export async function downloadArchive(
  uri: string,
  sha256: string,
  target: string,
  options: { credential?: Credential; timeoutMs?: number; what?: string } = {},
): Promise<{ bytes: number }> {
  const what = options.what ?? 'The package archive';
  let source: Readable;
  if (uri.startsWith('file:')) {
    const path = fileURLToPath(uri);
    await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`${what} ${path} cannot be read (${error.code}).`, { file: path });
    });
    source = createReadStream(path);
  } else {
    const response = await fetchWithCredential(uri, {
      credential: options.credential,
      headers: { accept: 'application/octet-stream' },
      timeoutMs: options.timeoutMs ?? TIME_LIMITS.archiveMs,
      what,
    });
    if (!response.ok || !response.body) throw httpError(what, uri, response.status);
    source = Readable.fromWeb(response.body as WebReadableStream);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    source,
    async function* (chunks) {
      for await (const chunk of chunks) {
        hash.update(chunk as Uint8Array);
        bytes += (chunk as Uint8Array).length;
        yield chunk;
      }
    },
    createWriteStream(target),
  ).catch((error: unknown) => {
    if (error instanceof ConfigurationError) throw error;
    throw new InputError(
      `${what} ${display(uri)} could not be read completely: ${(error as Error).message}.`,
    );
  });
  const actual = hash.digest('hex');
  if (actual !== sha256) throw digestMismatch(uri, sha256, actual);
  return { bytes };
}

/** An archive whose bytes are not the ones its reference names: never used, never worked around. */
export class DigestMismatchError extends InputError {
  override name = 'DigestMismatchError';
}

/** The error for an archive whose bytes are not the ones its reference names. */
export function digestMismatch(uri: string, expected: string, actual: string): DigestMismatchError {
  return new DigestMismatchError(
    `The package ${display(uri)} has sha256 ${actual}, but its reference names sha256 ${expected}: these are not the bytes that were referenced (a wrong digest, or the archive changed). Refusing to use it; pass the archive's real digest, or rebuild the package.`,
  );
}

function display(uri: string): string {
  try {
    return redact(new URL(uri));
  } catch {
    return uri;
  }
}

function httpError(what: string, uri: string, status: number): InputError {
  const hint =
    status === 401 || status === 403
      ? ' The token was refused, or none was sent (a token goes only to the GitHub server and API hosts): is the release public, or the token allowed to read it?'
      : status === 404
        ? ' Does it exist (was the release published)?'
        : '';
  return new InputError(`${what} ${display(uri)} cannot be downloaded (HTTP ${status}).${hint}`);
}

// ---------------------------------------------------------------------------------------------
// Local archives

async function findLocalArchive(ref: PackageRef, folders: string[]): Promise<string | undefined> {
  for (const folder of folders) {
    let names: string[];
    try {
      names = (await readdir(folder)).filter((name) => name.endsWith('.zip')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(folder, name);
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
      if (hash.digest('hex') === ref.sha256) return path;
    }
  }
  return undefined;
}

async function openLocalArchive(path: string, ref: PackageRef, uri: string): Promise<OpenedPackage> {
  const digest = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      digest.update(chunk as Uint8Array);
      bytes += (chunk as Uint8Array).length;
    }
  } catch (error) {
    throw new InputError(
      `The package archive ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      { file: path },
    );
  }
  const actual = digest.digest('hex');
  if (actual !== ref.sha256) throw digestMismatch(uri, ref.sha256, actual);
  return openZip(path, 'archive', true, bytes, async () => {});
}

async function openZip(
  path: string,
  method: PackageReadMethod,
  digestChecked: boolean,
  bytes: number | undefined,
  cleanup: () => Promise<void>,
  fetchEntry?: (entry: ZipEntryInfo) => Promise<void>,
): Promise<OpenedPackage> {
  try {
    const entries = await readZipEntries(path);
    const readJson = async (name: string): Promise<unknown> => {
      const entry = entries.find((e) => e.name === name);
      if (!entry) return undefined;
      if (entry.size > MAX_JSON_BYTES) {
        throw new InputError(
          `${name} of the package is ${entry.size} bytes, more than a package file of ours holds.`,
        );
      }
      await fetchEntry?.(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of await openZipEntry(path, entry)) chunks.push(chunk as Buffer);
      try {
        return JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        throw new InputError(`${name} of the package is not JSON: ${(error as Error).message}.`);
      }
    };
    const manifest = await readJson(PACKAGE_FILES.manifest);
    if (manifest === undefined) {
      throw new InputError(
        `The package has no ${PACKAGE_FILES.manifest}: is it a package made by package-model?`,
      );
    }
    return { manifest: checkManifest(manifest), method, digestChecked, bytes, readJson, close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function checkManifest(value: unknown): PackageManifest {
  const errors = manifestSchemaErrors(value);
  if (errors.length > 0) {
    throw new InputError(
      `The package's ${PACKAGE_FILES.manifest} is not a package manifest this version reads: ${errors.slice(0, 3).join('; ')}.`,
    );
  }
  return value as PackageManifest;
}

// ---------------------------------------------------------------------------------------------
// Remote archives

async function openRemote(ref: PackageRef, options: OpenPackageOptions): Promise<OpenedPackage> {
  const limit = options.fullDownloadBytes ?? FULL_DOWNLOAD_BYTES;
  const what = 'The package archive';
  const folder = await mkdtemp(join(tmpdir(), 'mlops-package-'));
  const cleanup = () => rm(folder, { recursive: true, force: true });
  try {
    const archive = join(folder, 'package.zip');
    const response = await fetchWithCredential(ref.uri, {
      credential: options.credential,
      headers: { accept: 'application/octet-stream', range: `bytes=-${TAIL_BYTES}` },
      timeoutMs: TIME_LIMITS.archiveMs,
      what,
    });
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      if (!range) {
        await response.body?.cancel();
        throw new InputError(
          `${what} ${display(ref.uri)} answered a range request without a valid Content-Range.`,
        );
      }
      if (range.total <= limit) {
        await response.body?.cancel();
        const { bytes } = await downloadArchive(ref.uri, ref.sha256, archive, {
          credential: options.credential,
        });
        return await openZip(archive, 'archive', true, bytes, cleanup);
      }
      const tail = await readBody(response, TAIL_BYTES + 1, what, ref.uri);
      return await openByRanges(ref, options, archive, range.total, range.start, tail, cleanup);
    }
    if (response.status === 200 && response.body) {
      const length = Number(response.headers.get('content-length') ?? Number.NaN);
      if (!(length > limit)) {
        // The whole archive came (the server ignores ranges): hash it on the way, up to the limit.
        const hash = createHash('sha256');
        let bytes = 0;
        let tooLarge = false;
        const out = createWriteStream(archive);
        for await (const chunk of Readable.fromWeb(response.body as WebReadableStream)) {
          bytes += (chunk as Uint8Array).length;
          if (bytes > limit) {
            tooLarge = true;
            break;
          }
          hash.update(chunk as Uint8Array);
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        }
        await new Promise<void>((resolve, reject) =>
          out.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
        if (!tooLarge) {
          const actual = hash.digest('hex');
          if (actual !== ref.sha256) throw digestMismatch(ref.uri, ref.sha256, actual);
          return await openZip(archive, 'archive', true, bytes, cleanup);
        }
      } else {
        await response.body.cancel();
      }
      return await openSidecar(ref, options, cleanup);
    }
    await response.body?.cancel();
    throw httpError(what, ref.uri, response.status);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function parseContentRange(header: string | null): { start: number; end: number; total: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const [start, end, total] = match.slice(1).map(Number);
  return start <= end && end < total ? { start, end, total } : undefined;
}

async function readBody(response: Response, max: number, what: string, uri: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of Readable.fromWeb(response.body as WebReadableStream)) {
    bytes += (chunk as Buffer).length;
    if (bytes > max) throw new InputError(`${what} ${display(uri)} sent more than was asked for.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A sparse local copy of the archive holding only what was read (the end, the central directory,
 * the entries asked for), so the strict zip reader checks it as it checks a whole archive.
 */
async function openByRanges(
  ref: PackageRef,
  options: OpenPackageOptions,
  archive: string,
  total: number,
  tailStart: number,
  tail: Buffer,
  cleanup: () => Promise<void>,
): Promise<OpenedPackage> {
  const what = 'The package archive';
  const getRange = async (start: number, end: number): Promise<Buffer> => {
    const response = await fetchWithCredential(ref.uri, {
      credential: options.credential,
      headers: { accept: 'application/octet-stream', range: `bytes=${start}-${end}` },
      timeoutMs: TIME_LIMITS.smallMs,
      what,
    });
    const range = parseContentRange(response.headers.get('content-range'));
    if (
      response.status !== 206 ||
      !range ||
      range.start !== start ||
      range.end !== end ||
      range.total !== total
    ) {
      await response.body?.cancel();
      throw new InputError(
        `${what} ${display(ref.uri)} did not answer the range request ${start}-${end} as asked (HTTP ${response.status}).`,
      );
    }
    return readBody(response, end - start + 1, what, ref.uri);
  };
  const handle = await open(archive, 'w+');
  try {
    await handle.truncate(total);
    // Writes into the sparse copy; entries asked for later reopen it.
    const put = async (position: number, bytes: Buffer) => {
      const file = await open(archive, 'r+');
      try {
        await file.write(bytes, 0, bytes.length, position);
      } finally {
        await file.close();
      }
    };
    await put(tailStart, tail);
    const have = { start: tailStart };
    const directory = locateDirectory(tail, tailStart, total);
    let { offset, size } = directory;
    if (directory.zip64EndOffset !== undefined) {
      const record =
        directory.zip64EndOffset >= tailStart
          ? tail.subarray(directory.zip64EndOffset - tailStart, directory.zip64EndOffset - tailStart + 56)
          : await getRange(directory.zip64EndOffset, directory.zip64EndOffset + 55);
      if (directory.zip64EndOffset < tailStart) await put(directory.zip64EndOffset, record);
      if (record.length < 56 || record.readUInt32LE(0) !== 0x06064b50) {
        throw new InputError(`${what} ${display(ref.uri)}: corrupt ZIP64 end record.`);
      }
      size = Number(record.readBigUInt64LE(40));
      offset = Number(record.readBigUInt64LE(48));
    }
    if (size > 64 * 1024 * 1024 || offset < 0 || offset + size > total) {
      throw new InputError(`${what} ${display(ref.uri)}: its central directory is corrupt or too large.`);
    }
    if (offset < have.start) {
      await put(offset, await getRange(offset, have.start - 1));
      have.start = offset;
    }
    const directoryStart = offset;
    const fetched = new Set<string>();
    const fetchEntry = async (entry: ZipEntryInfo): Promise<void> => {
      if (fetched.has(entry.name)) return;
      // The local header (30 bytes, the name, an extra field of up to 64 KiB) and the data.
      const end = Math.min(
        entry.offset + 30 + Buffer.byteLength(entry.name) + 65_535 + entry.compressedSize,
        directoryStart,
      );
      if (end > entry.offset) await put(entry.offset, await getRange(entry.offset, end - 1));
      fetched.add(entry.name);
    };
    await handle.close();
    return await openZip(archive, 'range', false, total, cleanup, fetchEntry);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** The central directory's offset and size from the end record (or where the ZIP64 record is). */
function locateDirectory(
  tail: Buffer,
  tailStart: number,
  total: number,
): { offset: number; size: number; zip64EndOffset?: number } {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== 0x06054b50 || i + 22 + tail.readUInt16LE(i + 20) !== tail.length) continue;
    const size = tail.readUInt32LE(i + 12);
    const offset = tail.readUInt32LE(i + 16);
    if (size !== 0xffffffff && offset !== 0xffffffff && tail.readUInt16LE(i + 10) !== 0xffff) {
      return { offset, size };
    }
    if (i >= 20 && tail.readUInt32LE(i - 20) === 0x07064b50) {
      const zip64EndOffset = Number(tail.readBigUInt64LE(i - 20 + 8));
      if (zip64EndOffset + 56 <= tailStart + i - 20 && zip64EndOffset < total) {
        return { offset, size, zip64EndOffset };
      }
    }
    break;
  }
  throw new InputError(
    'The package archive is not a ZIP archive, or is truncated (no end of central directory record).',
  );
}

async function openSidecar(
  ref: PackageRef,
  options: OpenPackageOptions,
  cleanup: () => Promise<void>,
): Promise<OpenedPackage> {
  const url = new URL(ref.uri);
  if (!url.pathname.endsWith(PACKAGE_ASSETS.archive)) {
    throw new InputError(
      `The package archive ${display(ref.uri)} is larger than ${Math.round((options.fullDownloadBytes ?? FULL_DOWNLOAD_BYTES) / 1048576)} MiB and its server does not support range requests, so its manifest cannot be read without downloading all of it.`,
    );
  }
  url.pathname = `${url.pathname.slice(0, -PACKAGE_ASSETS.archive.length)}${PACKAGE_ASSETS.manifest}`;
  const what = 'The package manifest (sidecar)';
  const response = await fetchWithCredential(url.href, {
    credential: options.credential,
    headers: { accept: 'application/octet-stream' },
    timeoutMs: TIME_LIMITS.smallMs,
    what,
  });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new InputError(
      `The package archive ${display(ref.uri)} is too large to download here and its server does not support range requests; the manifest next to it, ${redact(url)}, cannot be downloaded either (HTTP ${response.status}). Publish the package with package-model (it uploads <name>-<version>.manifest.json next to the archive).`,
    );
  }
  const text = (await readBody(response, MAX_JSON_BYTES, what, url.href)).toString('utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what} ${redact(url)} is not JSON: ${(error as Error).message}.`);
  }
  return {
    manifest: checkManifest(manifest),
    method: 'sidecar',
    digestChecked: false,
    readJson: async (name) => (name === PACKAGE_FILES.manifest ? manifest : undefined),
    close: cleanup,
  };
}
