/**
 * Publishing a model package to a GitHub Release, through Octokit, against the contract-checked
 * stand-in of the REST API (test/harness/github-api.ts): every request and every response must
 * conform to GitHub's OpenAPI description, so each test ends by asserting that none did not.
 * The last block checks the checker itself.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getOctokit } from '@actions/github';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type PublishToReleaseOptions,
  publishToRelease,
  type ReleaseFile,
} from '../../src/actions/shared/publish-release.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type GitHubApi, type GitHubApiOptions, startGitHubApi } from '../harness/github-api.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const REPOSITORY = 'octo-org/mlops-demo';
const TAG = 'fraud-model-v3';

const workDir = temporaryFolderSync('publish-release-');

let api: GitHubApi;
let running: GitHubApi[] = [];

async function startApi(options: GitHubApiOptions = {}): Promise<GitHubApi> {
  const started = await startGitHubApi(options);
  running.push(started);
  return started;
}

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  const stopped = running;
  running = [];
  await Promise.all(stopped.map((started) => started.stop()));
  // Every test, whatever it did, spoke GitHub's contract: requests and the stand-in's answers alike.
  for (const started of stopped) expect(started.violations).toEqual([]);
});

let fileCounter = 0;

/** Writes `content` to a fresh file and describes it as publishToRelease wants it. */
function writeFile(
  name: string,
  content: Buffer | string,
  contentType = 'application/octet-stream',
): ReleaseFile {
  const path = join(workDir, `${fileCounter++}-${name}`);
  writeFileSync(path, content);
  return { path, name, sha256: createHash('sha256').update(content).digest('hex'), contentType };
}

/** A small package: an ONNX-sized binary (a few MB, so the streamed upload is exercised), JSON, text. */
function writePackage(modelBytes = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a)): ReleaseFile[] {
  return [
    writeFile('model.onnx', modelBytes),
    writeFile('manifest.json', JSON.stringify({ name: 'fraud', version: 3 }), 'application/json'),
    writeFile('README.md', '# fraud model v3\n', 'text/markdown'),
  ];
}

function optionsFor(target: GitHubApi, files: ReleaseFile[], extra: Partial<PublishToReleaseOptions> = {}) {
  return {
    token: target.token,
    apiUrl: target.baseUrl,
    repository: REPOSITORY,
    tag: TAG,
    files,
    overwrite: false,
    ...extra,
  } satisfies PublishToReleaseOptions;
}

function writesSince(target: GitHubApi, index: number) {
  return target.requests.slice(index).filter((request) => request.method !== 'GET');
}

async function configurationError(action: Promise<unknown>): Promise<ConfigurationError> {
  const error = await action.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe('publishToRelease', () => {
  it('creates the release of the tag and uploads every file, bytes intact, under its own name', async () => {
    const files = writePackage();
    const result = await publishToRelease(
      optionsFor(api, files, { releaseName: 'Fraud model v3', body: 'Gates passed.' }),
    );

    const release = api.state.findRelease(REPOSITORY, TAG)!;
    expect(release).toMatchObject({
      id: result.releaseId,
      name: 'Fraud model v3',
      body: 'Gates passed.',
      draft: false,
    });
    expect(result.releaseUrl).toBe(`${api.baseUrl}/${REPOSITORY}/releases/tag/${TAG}`);
    expect(result.assets.map(({ name, action }) => ({ name, action }))).toEqual([
      { name: 'model.onnx', action: 'uploaded' },
      { name: 'manifest.json', action: 'uploaded' },
      { name: 'README.md', action: 'uploaded' },
    ]);
    // Only the final names remain: the temporary upload names were renamed away.
    expect(release.assets.map((asset) => asset.name).sort()).toEqual([
      'README.md',
      'manifest.json',
      'model.onnx',
    ]);
    for (const [index, file] of files.entries()) {
      const asset = release.assets.find((candidate) => candidate.name === file.name)!;
      expect(asset.contentType).toBe(file.contentType);
      expect(asset.digest).toBe(`sha256:${file.sha256}`);
      // The URL we return downloads the very bytes of the file.
      const download = await fetch(result.assets[index].url, {
        headers: { authorization: `token ${api.token}` },
      });
      expect(download.status).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
      expect(result.assets[index].id).toBe(asset.id);
    }
    // Uploads went to the release's upload_url origin, with the length up front (not chunked).
    const uploads = api.requests.filter((request) => request.operationId === 'repos/upload-release-asset');
    expect(uploads.map((request) => request.origin)).toEqual(['uploads', 'uploads', 'uploads']);
    expect(uploads[0].body).toEqual({ bytes: 3 * 1024 * 1024 + 17, contentType: 'application/octet-stream' });
  });

  it('skips every asset on a re-run with the same files, writing nothing', async () => {
    const files = writePackage();
    const first = await publishToRelease(optionsFor(api, files));
    const before = api.requests.length;

    const second = await publishToRelease(optionsFor(api, files));

    expect(second.releaseId).toBe(first.releaseId);
    expect(second.assets.map((asset) => asset.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(second.assets.map((asset) => asset.id)).toEqual(first.assets.map((asset) => asset.id));
    expect(second.assets.map((asset) => asset.url)).toEqual(first.assets.map((asset) => asset.url));
    expect(writesSince(api, before)).toEqual([]);
  });

  it('refuses a changed file without overwrite, names it, and changes nothing', async () => {
    const files = writePackage();
    await publishToRelease(optionsFor(api, files));
    const before = api.requests.length;
    const summarize = () =>
      api.state.findRelease(REPOSITORY, TAG)!.assets.map(({ id, name, digest, updatedAt, data }) => ({
        id,
        name,
        digest,
        updatedAt,
        size: data.length,
      }));
    const assetsBefore = summarize();

    // Same size, other bytes: only the digest tells them apart.
    const changed = [writeFile('model.onnx', Buffer.alloc(3 * 1024 * 1024 + 17, 0x11)), files[1], files[2]];
    const error = await configurationError(publishToRelease(optionsFor(api, changed)));

    expect(error.message).toContain('model.onnx with different content');
    expect(error.message).toContain(`sha256:${changed[0].sha256}`);
    expect(error.message).toContain('set overwrite');
    expect(error.message).toContain('Nothing was changed');
    expect(error.message).not.toContain('manifest.json');
    expect(writesSince(api, before)).toEqual([]);
    expect(summarize()).toEqual(assetsBefore);
  });

  it('replaces a changed file with overwrite, and leaves the others alone', async () => {
    const files = writePackage();
    const first = await publishToRelease(optionsFor(api, files));

    const newModel = Buffer.alloc(2 * 1024 * 1024, 0x33);
    const changed = [writeFile('model.onnx', newModel), files[1], files[2]];
    const result = await publishToRelease(optionsFor(api, changed, { overwrite: true }));

    expect(result.assets.map((asset) => asset.action)).toEqual(['replaced', 'skipped', 'skipped']);
    expect(result.assets[0].id).not.toBe(first.assets[0].id);
    const assets = api.state.findRelease(REPOSITORY, TAG)!.assets;
    expect(assets.map((asset) => asset.name).sort()).toEqual(['README.md', 'manifest.json', 'model.onnx']);
    const model = assets.find((asset) => asset.name === 'model.onnx')!;
    expect(model.data.equals(newModel)).toBe(true);
    expect(model.id).toBe(result.assets[0].id);
  });

  it('reuses a release that already exists for the tag, keeping its title (a tag with slashes too)', async () => {
    const octokit = getOctokit(api.token, { baseUrl: api.baseUrl });
    const [owner, repo] = REPOSITORY.split('/');
    const tag = 'models/fraud/v3';
    const { data: existing } = await octokit.rest.repos.createRelease({
      owner,
      repo,
      tag_name: tag,
      name: 'By hand',
    });

    const result = await publishToRelease(optionsFor(api, writePackage(), { tag, releaseName: 'Ignored' }));

    expect(result.releaseId).toBe(existing.id);
    expect(api.state.releases).toHaveLength(1);
    expect(api.state.releases[0].name).toBe('By hand');
    expect(api.requests.filter((request) => request.operationId === 'repos/create-release')).toHaveLength(1);
    expect(result.assets.map((asset) => asset.action)).toEqual(['uploaded', 'uploaded', 'uploaded']);
  });

  it('uses the release another run created between its look-up and its create (422 already_exists)', async () => {
    let raced: number | undefined;
    const racing = await startApi({
      beforeOperation: (operationId) => {
        if (operationId === 'repos/create-release' && raced === undefined) {
          raced = racing.state.addRelease(REPOSITORY, TAG, 'Created by the other run').id;
        }
      },
    });

    const result = await publishToRelease(optionsFor(racing, writePackage()));

    expect(result.releaseId).toBe(raced);
    expect(racing.state.releases).toHaveLength(1);
    const create = racing.requests.find((request) => request.operationId === 'repos/create-release');
    expect(create?.status).toBe(422);
  });

  it('reports a refused token (401) as a configuration error naming the permission', async () => {
    const error = await configurationError(
      publishToRelease({ ...optionsFor(api, writePackage()), token: 'ghs_not-the-right-one' }),
    );
    expect(error.message).toContain('looking up the release of tag fraud-model-v3 in octo-org/mlops-demo');
    expect(error.message).toContain('the token was refused (check permissions: contents: write)');
    expect(api.state.releases).toEqual([]);
  });

  it('reports a token without write access (403) and an invisible repository (404)', async () => {
    const readOnly = await startApi({ readOnlyToken: 'ghs_read-only' });
    const forbidden = await configurationError(
      publishToRelease({ ...optionsFor(readOnly, writePackage()), token: 'ghs_read-only' }),
    );
    expect(forbidden.message).toContain('403 creating release fraud-model-v3');
    expect(forbidden.message).toContain('permissions: contents: write');

    const missing = await configurationError(
      publishToRelease({ ...optionsFor(api, writePackage()), repository: 'octo-org/no-such-repo' }),
    );
    expect(missing.message).toContain(
      'repository octo-org/no-such-repo not found or the token cannot see it',
    );
  });

  it('reports an API that refuses connections as a configuration error naming the URL', async () => {
    const closed = await startApi();
    const url = closed.baseUrl;
    await closed.stop();
    const error = await configurationError(
      publishToRelease({ ...optionsFor(api, writePackage()), apiUrl: url }),
    );
    expect(error.message).toMatch(
      new RegExp(
        `The GitHub API at ${url.replace(/[.]/g, '\\.')} \\(GITHUB_API_URL\\) cannot be reached looking up the release of tag fraud-model-v3 in octo-org/mlops-demo: .*ECONNREFUSED`,
      ),
    );
  });

  it('refuses to guess when GitHub reports no digest for an existing asset', async () => {
    const old = await startApi({ digests: false });
    const files = writePackage();
    await publishToRelease(optionsFor(old, files));

    const error = await configurationError(publishToRelease(optionsFor(old, files)));
    expect(error.message).toContain('model.onnx (GitHub reports no digest for it');

    const result = await publishToRelease(optionsFor(old, files, { overwrite: true }));
    expect(result.assets.map((asset) => asset.action)).toEqual(['replaced', 'replaced', 'replaced']);
  });

  it('refuses to change an immutable release, but accepts a re-run that changes nothing', async () => {
    const files = writePackage();
    await publishToRelease(optionsFor(api, files));
    api.state.findRelease(REPOSITORY, TAG)!.immutable = true;

    const again = await publishToRelease(optionsFor(api, files));
    expect(again.assets.map((asset) => asset.action)).toEqual(['skipped', 'skipped', 'skipped']);

    const changed = [...files, writeFile('metrics.json', '{}', 'application/json')];
    const error = await configurationError(publishToRelease(optionsFor(api, changed, { overwrite: true })));
    expect(error.message).toContain('is immutable');
  });

  it('deletes an upload whose digest is not the expected one, and says so', async () => {
    const file = { ...writeFile('model.onnx', 'the bytes on disk'), sha256: 'a'.repeat(64) };
    await expect(publishToRelease(optionsFor(api, [file]))).rejects.toThrow(
      /GitHub received sha256:[0-9a-f]{64} for model\.onnx .* expected sha256:a{64}/,
    );
    expect(api.state.findRelease(REPOSITORY, TAG)!.assets).toEqual([]);
  });

  it('refuses asset names GitHub would rename, before any request', async () => {
    const error = await configurationError(
      publishToRelease(optionsFor(api, [writeFile('my model.onnx', 'x')])),
    );
    expect(error.message).toContain('"my model.onnx" would be renamed by GitHub');
    expect(api.requests).toEqual([]);
  });
});

describe('the GitHub API stand-in', () => {
  const [owner, repo] = REPOSITORY.split('/');

  async function statusOf(request: Promise<unknown>): Promise<{ status?: number; data?: unknown }> {
    return request.then(
      () => ({}),
      (error: { status?: number; response?: { data?: unknown } }) => ({
        status: error.status,
        data: error.response?.data,
      }),
    );
  }

  it('rejects a request body that violates the description (create release without tag_name) with 422', async () => {
    const octokit = getOctokit(api.token, { baseUrl: api.baseUrl });
    const answer = await statusOf(
      // Deliberately invalid, which Octokit's types would otherwise refuse.
      octokit.request('POST /repos/{owner}/{repo}/releases', { owner, repo, name: 'v1' } as never),
    );

    expect(answer.status).toBe(422);
    expect(answer.data).toMatchObject({
      message: expect.stringContaining('"tag_name" wasn\'t supplied.'),
      errors: [{ field: 'tag_name', code: 'missing_field' }],
      documentation_url: 'https://docs.github.com/rest/releases/releases#create-a-release',
    });
    expect(api.state.releases).toEqual([]);
    expect(api.violations).toEqual([
      expect.objectContaining({ direction: 'request', operationId: 'repos/create-release' }),
    ]);
    api.violations.length = 0; // expected here; afterEach checks that nothing else was recorded
  });

  it('rejects wrongly typed parameters, uploads sent to the API origin, and unknown operations', async () => {
    const octokit = getOctokit(api.token, { baseUrl: api.baseUrl });
    const release = await octokit.rest.repos.createRelease({ owner, repo, tag_name: 'v1' });

    const badPage = await statusOf(
      octokit.request('GET /repos/{owner}/{repo}/releases/{release_id}/assets', {
        owner,
        repo,
        release_id: release.data.id,
        per_page: 'many' as never,
      }),
    );
    expect(badPage.status).toBe(422);

    const wrongOrigin = await statusOf(
      octokit.request('POST /repos/{owner}/{repo}/releases/{release_id}/assets{?name}', {
        owner,
        repo,
        release_id: release.data.id,
        name: 'a.txt',
        data: 'abc',
        headers: { 'content-type': 'text/plain' },
      }),
    );
    expect(wrongOrigin.status).toBe(404);

    const unknown = await statusOf(
      octokit.request('GET /repos/{owner}/{repo}/releases/latest', { owner, repo }),
    );
    expect(unknown.status).toBe(404);

    expect(api.violations.map((violation) => violation.message)).toEqual([
      "For 'per_page', must be integer.",
      'sent to the api origin; GitHub serves it from the upload_url origin',
      'no such operation in the description',
    ]);
    api.violations.length = 0;
  });

  it('enforces unique tags and unique asset names with 422 already_exists, like GitHub', async () => {
    const octokit = getOctokit(api.token, { baseUrl: api.baseUrl });
    const { data: release } = await octokit.rest.repos.createRelease({ owner, repo, tag_name: 'v1' });
    const again = await statusOf(octokit.rest.repos.createRelease({ owner, repo, tag_name: 'v1' }));
    expect(again).toMatchObject({
      status: 422,
      data: { errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] },
    });

    const upload = () =>
      octokit.request(`POST ${release.upload_url}`, {
        name: 'a.txt',
        label: 'A file',
        data: 'abc',
        headers: { 'content-type': 'text/plain' },
      });
    const { data: asset } = await upload();
    expect(asset).toMatchObject({ name: 'a.txt', label: 'A file', size: 3, content_type: 'text/plain' });
    const duplicate = await statusOf(upload());
    expect(duplicate).toMatchObject({
      status: 422,
      data: { errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] },
    });
  });

  it('records its own responses when they do not conform to the description', async () => {
    const tampered = await startApi({
      tamperResponse: (operationId, body) =>
        operationId === 'repos/get-release-by-tag'
          ? { ...(body as object), id: 'not-a-number', assets: undefined }
          : body,
    });
    tampered.state.addRelease(REPOSITORY, 'v1');
    const octokit = getOctokit(tampered.token, { baseUrl: tampered.baseUrl });
    await octokit.rest.repos.getReleaseByTag({ owner, repo, tag: 'v1' });

    expect(tampered.violations.map((violation) => `${violation.direction} ${violation.status}`)).toEqual([
      'response 200',
      'response 200',
    ]);
    expect(tampered.violations.map((violation) => violation.message).join('\n')).toMatch(/assets|id/);
    tampered.violations.length = 0;
  });

  it('keeps pull requests, labels, reviewers, comments and check runs, answering as the description says', async () => {
    const octokit = getOctokit(api.token, { baseUrl: api.baseUrl });
    const headSha = 'c0ffee'.padEnd(40, '0');
    const create = () =>
      octokit.rest.pulls.create({
        owner,
        repo,
        head: 'deploy/fraud-v3',
        base: 'main',
        title: 'Deploy fraud v3',
      });
    expect(await statusOf(create())).toMatchObject({ status: 422 }); // the branch was not pushed yet
    api.state.setBranch(REPOSITORY, 'deploy/fraud-v3', headSha);

    const { data: pr } = await create();
    expect(await statusOf(create())).toMatchObject({
      status: 422,
      data: { errors: [{ message: 'A pull request already exists for octo-org:deploy/fraud-v3.' }] },
    });
    const found = await octokit.rest.pulls.list({
      owner,
      repo,
      head: 'octo-org:deploy/fraud-v3',
      state: 'open',
    });
    expect(found.data.map((item) => item.number)).toEqual([pr.number]);
    await octokit.rest.pulls.update({ owner, repo, pull_number: pr.number, body: 'Gates passed.' });
    await octokit.rest.issues.addLabels({ owner, repo, issue_number: pr.number, labels: ['deploy'] });
    await octokit.rest.pulls.requestReviewers({
      owner,
      repo,
      pull_number: pr.number,
      reviewers: ['alice'],
      team_reviewers: ['ml'],
    });
    const { data: comment } = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: pr.number,
      body: 'v1',
    });
    await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: comment.id,
      body: 'v2 <!-- mlops -->',
    });
    const { data: run } = await octokit.rest.checks.create({
      owner,
      repo,
      name: 'model gate',
      head_sha: headSha,
      status: 'in_progress',
    });
    expect(run).toMatchObject({ conclusion: null, pull_requests: [{ number: pr.number }] });
    await octokit.rest.checks.update({
      owner,
      repo,
      check_run_id: run.id,
      conclusion: 'success',
      output: { title: 'ok', summary: 'all gates passed' },
    });

    const { data: after } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr.number });
    expect(after).toMatchObject({
      body: 'Gates passed.',
      labels: [{ name: 'deploy' }],
      requested_reviewers: [{ login: 'alice' }],
      comments: 1,
    });
    const comments = await octokit.rest.issues.listComments({ owner, repo, issue_number: pr.number });
    expect(comments.data.map((item) => item.body)).toEqual(['v2 <!-- mlops -->']);
    expect(api.state.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    // afterEach asserts that none of these requests or answers strayed from the description.
  });

  it("answers 401 with GitHub's error body to a missing or wrong token", async () => {
    const missing = await fetch(`${api.baseUrl}/repos/${REPOSITORY}`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      message: 'Requires authentication',
      documentation_url: 'https://docs.github.com/rest',
      status: '401',
    });
    const wrong = await fetch(`${api.baseUrl}/repos/${REPOSITORY}`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toBe('Bad credentials');
    const right = await fetch(`${api.baseUrl}/repos/${REPOSITORY}`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(((await right.json()) as { full_name: string }).full_name).toBe(REPOSITORY);
  });
});
