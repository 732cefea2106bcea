/**
 * Publishes files (a model package) as assets of the GitHub Release of a tag, idempotently:
 * - the release is reused when the tag has one, created otherwise;
 * - an asset that is already there with the same bytes is skipped (GitHub's `digest`, `sha256:<hex>`,
 *   is compared with the file's SHA-256), so a re-run writes nothing;
 * - an asset that is there with other bytes is refused, unless `overwrite`, when it is replaced;
 * - no asset is ever visible half-uploaded under its real name: each file goes up under a
 *   temporary name and is renamed once GitHub has all of it and its digest matches.
 *
 * Every decision is made before the first write, so a refusal leaves the release untouched.
 * Uploads are streamed from disk: a model file is never read into memory.
 */

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { getOctokit } from '@actions/github';
import { TIME_LIMITS } from '../../core/deploy/transport.ts';
import { ConfigurationError } from '../../core/errors.ts';
import { classifyApiError, hasErrorCode, statusOf } from '../../github/errors.ts';

/** One file to publish. */
export interface ReleaseFile {
  /** Where the file is on disk. */
  path: string;
  /** The asset name on the release. */
  name: string;
  /** SHA-256 of the file, lower-case hex: how a re-run recognises an asset it already uploaded. */
  sha256: string;
  /** The asset's media type, e.g. `application/octet-stream`, `application/json`. */
  contentType: string;
}

/** Options of {@link publishToRelease}. */
export interface PublishToReleaseOptions {
  /** A token allowed `contents: write` on the repository. */
  token: string;
  /** REST API base URL; default GITHUB_API_URL, else https://api.github.com. */
  apiUrl?: string;
  /** `owner/name`. */
  repository: string;
  tag: string;
  files: ReleaseFile[];
  /** Replace assets whose content differs instead of refusing. */
  overwrite: boolean;
  /** Title of a release this call creates (an existing release keeps its own); default the tag. */
  releaseName?: string;
  /** Description of a release this call creates. */
  body?: string;
  /**
   * For a tag that does not exist yet: the commit GitHub creates it at (with the release); and
   * whether that release is a prerelease (an existing release keeps its own settings).
   */
  create?: { targetCommitish: string; prerelease: boolean };
}

/** What happened to one file. */
export interface PublishedAsset {
  name: string;
  /** The asset's download URL. */
  url: string;
  id: number;
  action: 'uploaded' | 'skipped' | 'replaced';
}

/** The release and what happened to each file, in the order of `files`. */
export interface PublishToReleaseResult {
  releaseId: number;
  releaseUrl: string;
  assets: PublishedAsset[];
}

type Octokit = ReturnType<typeof getOctokit>;

interface Release {
  id: number;
  html_url: string;
  upload_url: string;
  immutable?: boolean;
}

interface Asset {
  id: number;
  name: string;
  size: number;
  state: string;
  digest?: string | null;
  browser_download_url: string;
}

interface PlannedFile {
  file: ReleaseFile;
  size: number;
  existing?: Asset;
  /** `keep`: same bytes; `upload`: absent; `repair`: a broken upload is in the way; `replace`: other bytes. */
  step: 'keep' | 'upload' | 'repair' | 'replace';
}

// GitHub renames asset names with other characters, or with a leading or trailing period
// (https://docs.github.com/rest/releases/assets#upload-a-release-asset); a renamed asset would not
// be found again by name on the next run.
const SAFE_ASSET_NAME = /^[A-Za-z0-9_-](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const TOKEN_PERMISSION = 'permissions: contents: write';

/** Publishes `files` to the release of `tag`; see the module comment for the rules. */
export async function publishToRelease(options: PublishToReleaseOptions): Promise<PublishToReleaseResult> {
  const [owner, repo, ...extra] = options.repository.split('/');
  if (!owner || !repo || extra.length > 0) {
    throw new ConfigurationError(`repository must be owner/name, got "${options.repository}"`);
  }
  checkFiles(options.files);
  const baseUrl = (options.apiUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(
    /\/+$/,
    '',
  );
  const github: GitHubCall = {
    octokit: getOctokit(options.token, {
      baseUrl,
      request: {
        // Each request gives up after TIME_LIMITS.apiMs; uploads (a streamed body) take what they take.
        fetch: (url: string | URL, init: RequestInit = {}) =>
          fetch(url, {
            ...init,
            signal:
              init.signal ??
              (init.body && typeof init.body !== 'string'
                ? undefined
                : AbortSignal.timeout(TIME_LIMITS.apiMs)),
          }),
      },
    }),
    baseUrl,
    repository: options.repository,
    owner,
    repo,
  };

  const release = await findOrCreateRelease(github, options);
  const assets = await call(github, `listing the assets of release ${options.tag}`, () =>
    github.octokit.paginate(github.octokit.rest.repos.listReleaseAssets, {
      owner,
      repo,
      release_id: release.id,
      per_page: 100,
    }),
  );
  const plan = await planFiles(options.files, assets as Asset[]);

  const conflicts = plan.filter((planned) => planned.step === 'replace');
  if (conflicts.length > 0 && !options.overwrite) {
    throw new ConfigurationError(
      `release ${options.tag} of ${options.repository} already has ${conflicts.map(describeConflict).join('; ')}. ` +
        'Publish under a new tag, or set overwrite to replace them. Nothing was changed.',
    );
  }
  if (release.immutable && plan.some((planned) => planned.step !== 'keep')) {
    throw new ConfigurationError(
      `release ${options.tag} of ${options.repository} is immutable: its assets cannot be added or replaced. ` +
        'Publish under a new tag. Nothing was changed.',
    );
  }

  const published: PublishedAsset[] = [];
  for (const planned of plan) {
    if (planned.step === 'keep') {
      const asset = planned.existing!;
      published.push({ name: asset.name, url: asset.browser_download_url, id: asset.id, action: 'skipped' });
      continue;
    }
    const asset = await uploadFile(github, release, planned);
    published.push({
      name: asset.name,
      url: asset.browser_download_url,
      id: asset.id,
      action: planned.step === 'replace' ? 'replaced' : 'uploaded',
    });
  }
  return { releaseId: release.id, releaseUrl: release.html_url, assets: published };
}

function checkFiles(files: ReleaseFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (!SAFE_ASSET_NAME.test(file.name)) {
      throw new ConfigurationError(
        `asset name "${file.name}" would be renamed by GitHub: use letters, digits, '.', '-' and '_' only, ` +
          'not starting or ending with a period',
      );
    }
    // GitHub compares asset names case-insensitively (one cannot upload both A.txt and a.txt).
    if (seen.has(file.name.toLowerCase()))
      throw new ConfigurationError(`asset name "${file.name}" is given twice`);
    seen.add(file.name.toLowerCase());
    if (!SHA256.test(file.sha256)) {
      throw new Error(`publishToRelease: sha256 of ${file.name} must be 64 lower-case hex digits`);
    }
  }
}

async function planFiles(files: ReleaseFile[], assets: Asset[]): Promise<PlannedFile[]> {
  const plan: PlannedFile[] = [];
  for (const file of files) {
    let size: number;
    try {
      size = (await stat(file.path)).size;
    } catch (error) {
      throw new ConfigurationError(
        `cannot read ${file.path} to publish it as ${file.name}`,
        { file: file.path },
        { cause: error },
      );
    }
    const existing = assets.find((asset) => asset.name.toLowerCase() === file.name.toLowerCase());
    let step: PlannedFile['step'];
    if (!existing) step = 'upload';
    // An upload that failed midway leaves an asset in state `starter`/`open`: nobody's content.
    else if (existing.state !== 'uploaded') step = 'repair';
    else if (existing.digest === `sha256:${file.sha256}` && existing.size === size) step = 'keep';
    else step = 'replace';
    plan.push({ file, size, existing, step });
  }
  return plan;
}

function describeConflict(planned: PlannedFile): string {
  const { existing, file } = planned;
  if (!existing?.digest) {
    // Assets uploaded before GitHub started computing digests (2025) have none to compare with.
    return `${file.name} (GitHub reports no digest for it, so its content cannot be compared)`;
  }
  return `${file.name} with different content (${existing.digest}, ${existing.size} bytes; the file is sha256:${file.sha256}, ${planned.size} bytes)`;
}

/**
 * Uploads under a temporary name, checks the digest GitHub computed, then takes the real name (after
 * deleting what held it), so the real name only ever points at complete, verified bytes.
 */
async function uploadFile(github: GitHubCall, release: Release, planned: PlannedFile): Promise<Asset> {
  const { file, size } = planned;
  const temporaryName = `${file.name}.uploading-${randomBytes(4).toString('hex')}`;
  const uploaded = await call(github, `uploading ${file.name}`, async () => {
    const response = await github.octokit.request(`POST ${release.upload_url}`, {
      name: temporaryName,
      // Streamed: Octokit hands the stream to fetch with `duplex: 'half'`; GitHub needs the length up
      // front (it refuses a chunked upload), so Content-Length is set from the file's size.
      data: createReadStream(file.path),
      headers: { 'content-type': file.contentType, 'content-length': size },
    });
    return response.data as Asset;
  });
  if (uploaded.digest && uploaded.digest !== `sha256:${file.sha256}`) {
    await deleteAsset(github, uploaded, `deleting the unverified upload of ${file.name}`);
    throw new Error(
      `GitHub received ${uploaded.digest} for ${file.name} (${file.path}), expected sha256:${file.sha256}: ` +
        'the file changed while it was published, or its recorded SHA-256 is wrong',
    );
  }
  if (planned.existing) {
    await deleteAsset(github, planned.existing, `deleting the previous ${file.name}`);
  }
  return call(github, `renaming the upload of ${file.name}`, async () => {
    const response = await github.octokit.rest.repos.updateReleaseAsset({
      owner: github.owner,
      repo: github.repo,
      asset_id: uploaded.id,
      name: file.name,
    });
    return response.data as Asset;
  });
}

async function deleteAsset(github: GitHubCall, asset: Asset, operation: string): Promise<void> {
  await call(github, operation, () =>
    github.octokit.rest.repos.deleteReleaseAsset({
      owner: github.owner,
      repo: github.repo,
      asset_id: asset.id,
    }),
  );
}

/** The release of the tag: the existing one, or a new one (also when another run created it first). */
async function findOrCreateRelease(github: GitHubCall, options: PublishToReleaseOptions): Promise<Release> {
  const { owner, repo } = github;
  const findRelease = () =>
    call(github, `looking up the release of tag ${options.tag}`, async () => {
      try {
        return (await github.octokit.rest.repos.getReleaseByTag({ owner, repo, tag: options.tag }))
          .data as Release;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  const existing = await findRelease();
  if (existing) return existing;
  return call(github, `creating release ${options.tag}`, async () => {
    try {
      const response = await github.octokit.rest.repos.createRelease({
        owner,
        repo,
        tag_name: options.tag,
        name: options.releaseName ?? options.tag,
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.create
          ? { target_commitish: options.create.targetCommitish, prerelease: options.create.prerelease }
          : {}),
      });
      return response.data as Release;
    } catch (error) {
      // Another run created it between our look-up and our create: use theirs.
      if (statusOf(error) === 422 && hasErrorCode(error, 'already_exists')) {
        const created = await findRelease();
        if (created) return created;
      }
      throw error;
    }
  });
}

interface GitHubCall {
  octokit: Octokit;
  baseUrl: string;
  repository: string;
  owner: string;
  repo: string;
}

/** Runs one API call and turns the answers a user can fix (401, 403, 404) into ConfigurationErrors. */
async function call<T>(github: GitHubCall, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const status = statusOf(error);
    if (status === undefined || error instanceof ConfigurationError) throw error;
    const where = `${operation} in ${github.repository}`;
    // Octokit reports a request that got no answer (refused, unknown host, timed out) as a 500
    // without a response: the API URL is the user's to fix.
    if (status === 500 && !(error as { response?: unknown }).response) {
      throw new ConfigurationError(
        `The GitHub API at ${github.baseUrl} (GITHUB_API_URL) cannot be reached ${where}: ${(error as Error).message}.`,
        {},
        { cause: error },
      );
    }
    const problem = classifyApiError(error);
    if (problem === 'token-refused') {
      throw new ConfigurationError(
        `GitHub answered 401 ${where}: the token was refused (check ${TOKEN_PERMISSION})`,
        {},
        { cause: error },
      );
    }
    if (problem === 'forbidden') {
      throw new ConfigurationError(
        `GitHub answered 403 ${where}: the token lacks the permission (it needs ${TOKEN_PERMISSION}; ` +
          'for GITHUB_TOKEN, set it under permissions: in the workflow or job)',
        {},
        { cause: error },
      );
    }
    if (problem === 'not-found') {
      throw new ConfigurationError(
        `GitHub answered 404 ${where}: repository ${github.repository} not found or the token cannot see it`,
        {},
        { cause: error },
      );
    }
    throw new Error(`GitHub answered ${status} ${where}: ${(error as Error).message}`, { cause: error });
  }
}
