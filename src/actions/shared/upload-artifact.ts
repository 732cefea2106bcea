/**
 * Uploads a package archive as a workflow artifact with `@actions/artifact` (v2+ protocol: Twirp calls
 * to the results service, content straight to the blob store through a signed URL).
 *
 * What gets stored: @actions/artifact always builds a zip of the files it is given (unless
 * `skipArchive`, which would rename the artifact after the file), so the artifact is a zip that
 * contains our archive as its only entry. Downloading it from the run page gives `<name>.zip` with
 * our file inside. `size` and `digest` describe that outer zip, not our archive.
 *
 * Memory: nothing here reads the archive into memory. The library's zip (archiver) opens the file
 * with `fs.createReadStream` (through lazystream, `archiver-utils`), pipes the zip into a stream
 * with an 8 MiB high-water mark (`internal/upload/zip.js`), hashes it on the fly and hands it to
 * `BlockBlobClient.uploadStream` (`internal/upload/blob-upload.js`), which holds at most
 * `concurrency` (default 5) blocks of 8 MiB at a time. So memory stays bounded (~50 MiB) whatever
 * the package size.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { ConfigurationError, InputError } from '../../core/errors.ts';

/** Options of {@link uploadPackageArtifact}. */
export interface UploadPackageArtifactOptions {
  /** The file to upload (the package archive). */
  archive: string;
  /** Artifact name; unique within the workflow run. */
  name: string;
  /** Days GitHub keeps the artifact; capped by the repository's setting. Default: the repository's. */
  retentionDays?: number;
  /**
   * The environment to read the runner's variables from; default `process.env`. @actions/artifact
   * itself only reads `process.env`, so a different object is copied into `process.env` for the
   * variables the library reads, for the duration of the upload, and restored afterwards.
   */
  env?: NodeJS.ProcessEnv;
}

/** What {@link uploadPackageArtifact} uploaded. */
export interface UploadedArtifact {
  /** The artifact's id in the workflow run. */
  artifactId: number;
  /** Where a person downloads it: the artifact on the run's page. */
  artifactUrl: string;
  /** Hex sha256 of the uploaded zip (as @actions/artifact computed it while uploading). */
  digest: string;
  /** Bytes of the uploaded zip. */
  size: number;
}

/**
 * Every variable @actions/artifact 6 reads during an upload (`internal/shared/config.js`,
 * `internal/upload/retention.js`): the ones copied from `options.env` into `process.env`.
 */
const libraryVariables = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'GITHUB_SERVER_URL',
  'GITHUB_RETENTION_DAYS',
  'ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY',
  'ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS',
] as const;

// Uploads run one at a time: while one of them has swapped variables into process.env, another must
// not start with (or restore) the wrong ones.
let uploadQueue: Promise<unknown> = Promise.resolve();

/**
 * Uploads `archive` as the workflow artifact `name` and returns its id, its URL on the run page and
 * the digest and size of what was stored.
 *
 * Throws {@link ConfigurationError} outside a workflow run (no `ACTIONS_RUNTIME_TOKEN` or
 * `ACTIONS_RESULTS_URL`), for an artifact name the run already has or that has invalid characters,
 * on GitHub Enterprise Server and when the account's artifact storage is full; {@link InputError} when
 * the archive is not a readable file. Other failures (network, blob storage) keep the library's
 * message, prefixed with the artifact name.
 */
export async function uploadPackageArtifact(
  options: UploadPackageArtifactOptions,
): Promise<UploadedArtifact> {
  const env = options.env ?? process.env;
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
    const missing = env.ACTIONS_RUNTIME_TOKEN ? 'ACTIONS_RESULTS_URL' : 'ACTIONS_RUNTIME_TOKEN';
    throw new ConfigurationError(
      `uploading a workflow artifact works only inside a GitHub Actions workflow run (${missing} is not set); ` +
        'outside one, the CLI writes the package to disk: use `mlops package`',
    );
  }
  // The runner always sets them; without them the artifact's URL cannot be built.
  for (const key of ['GITHUB_REPOSITORY', 'GITHUB_RUN_ID'] as const) {
    if (!env[key]) {
      throw new ConfigurationError(`${key} is not set: it is needed for the artifact's URL on the run page`);
    }
  }
  const archive = resolve(options.archive);
  if (!existsSync(archive) || !statSync(archive).isFile()) {
    throw new InputError(`cannot upload ${options.archive} as an artifact: it is not a file`, {
      file: options.archive,
    });
  }
  if (
    options.retentionDays !== undefined &&
    !(Number.isInteger(options.retentionDays) && options.retentionDays >= 1)
  ) {
    throw new ConfigurationError(
      `retention days must be a whole number of days, 1 or more; got ${options.retentionDays}`,
    );
  }

  const run = () => withLibraryEnv(env, () => upload(archive, options.name, options.retentionDays));
  const result = uploadQueue.then(run, run);
  uploadQueue = result.catch(() => undefined);
  const { id, size, digest } = await result;

  const artifactUrl = `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/artifacts/${id}`;
  return { artifactId: id, artifactUrl, digest, size };
}

async function upload(
  archive: string,
  name: string,
  retentionDays: number | undefined,
): Promise<{ id: number; size: number; digest: string }> {
  try {
    // The root directory decides the entry's path inside the library's zip: just the file name.
    const response = await new DefaultArtifactClient().uploadArtifact(name, [archive], dirname(archive), {
      retentionDays,
    });
    // The library leaves them optional in its types; a response without them is a broken upload.
    if (response.id === undefined || response.size === undefined || response.digest === undefined) {
      throw new Error(
        `the upload returned no ${response.id === undefined ? 'artifact id' : 'size or digest'}`,
      );
    }
    return { id: response.id, size: response.size, digest: response.digest };
  } catch (error) {
    throw explainUploadError(error, name, basename(archive));
  }
}

/**
 * Turns @actions/artifact's errors into ones that say what to do, keeping the original message.
 * The library wraps every Twirp failure into a plain Error: `Failed to <Method>: Received
 * non-retryable error: Failed request: (<status>) <status text>: <msg>`, so the status is matched in
 * the text.
 */
function explainUploadError(error: unknown, name: string, file: string): Error {
  const err = error instanceof Error ? error : new Error(String(error));
  const original = err.message;
  // GitHub answers 409 `already_exists` when the run has the name already, whichever job uploaded it;
  // see https://github.com/actions/upload-artifact#not-uploading-to-the-same-artifact
  if (/CreateArtifact/.test(original) && /\(409\)/.test(original)) {
    return new ConfigurationError(
      `this workflow run already has an artifact named '${name}': artifact names must be unique within a ` +
        `run, across all its jobs; give each upload its own name (e.g. add the matrix values). (${original})`,
      {},
      { cause: err },
    );
  }
  if (err.name === 'UsageError') {
    return new ConfigurationError(
      `the artifact storage quota of this account is used up, so '${name}' was not uploaded: delete old ` +
        `artifacts or shorten their retention. (${original})`,
      {},
      { cause: err },
    );
  }
  if (err.name === 'GHESNotSupportedError') {
    return new ConfigurationError(
      `workflow artifacts cannot be uploaded on GitHub Enterprise Server with this action; write the ` +
        `package to disk with \`mlops package\` and upload it with a GHES-compatible action. (${original})`,
      {},
      { cause: err },
    );
  }
  if (/^The artifact name is not valid|artifact name input during validation is empty/.test(original)) {
    return new ConfigurationError(`invalid artifact name '${name}': ${original}`, {}, { cause: err });
  }
  // The blob store refuses a body over its limit with 413 RequestBodyTooLarge.
  if ((err as { statusCode?: unknown }).statusCode === 413) {
    return new ConfigurationError(
      `${file} is too large for a workflow artifact: store the package elsewhere. (${original})`,
      {},
      { cause: err },
    );
  }
  return new Error(`uploading artifact '${name}' failed: ${original}`, { cause: err });
}

async function withLibraryEnv<T>(env: NodeJS.ProcessEnv, body: () => Promise<T>): Promise<T> {
  if (env === process.env) return body();
  const saved = libraryVariables.map((key) => [key, process.env[key]] as const);
  for (const key of libraryVariables) setVariable(key, env[key]);
  try {
    return await body();
  } finally {
    for (const [key, value] of saved) setVariable(key, value);
  }
}

function setVariable(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}
