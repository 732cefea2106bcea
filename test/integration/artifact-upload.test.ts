/**
 * uploadPackageArtifact with the real @actions/artifact 6 against Azurite and the stand-in of GitHub's
 * artifact service (test/harness/artifact-service.ts): the package travels through the real
 * protocol and comes back byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBufferPromise } from 'yauzl';
import { uploadPackageArtifact } from '../../src/actions/shared/upload-artifact.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type ArtifactService, startArtifactService } from '../harness/artifact-service.ts';
import { temporaryFolder } from '../helpers/temp.ts';

let service: ArtifactService;
let dir: string;
let bigPackage: string;
let bigBytes: Buffer;

beforeAll(async () => {
  [service, dir] = await Promise.all([startArtifactService(), temporaryFolder('artifact-upload-')]);
  bigBytes = randomBytes(3 * 1024 * 1024);
  bigPackage = join(dir, 'pkg.zip');
  await writeFile(bigPackage, bigBytes);
}, 30_000);

afterAll(async () => {
  await service?.stop();
}, 20_000);

describe('uploadPackageArtifact', () => {
  it('uploads the archive and it downloads back unchanged, inside the library zip', async () => {
    const tokenBefore = process.env.ACTIONS_RUNTIME_TOKEN;
    const uploaded = await uploadPackageArtifact({
      archive: bigPackage,
      name: 'model-package',
      retentionDays: 7,
      env: service.env,
    });
    // The env given was used for the upload only.
    expect(process.env.ACTIONS_RUNTIME_TOKEN).toBe(tokenBefore);

    const [stored] = service.artifacts();
    expect(stored).toMatchObject({
      name: 'model-package',
      finalized: true,
      mimeType: 'application/zip',
      version: 7,
    });
    // An id above 2^31 survived the int64-as-string round trip.
    expect(uploaded.artifactId).toBe(stored.id);
    expect(uploaded.artifactId).toBeGreaterThan(2 ** 31);
    expect(uploaded.artifactUrl).toBe(
      `https://github.com/octo-org/mlops-demo/actions/runs/1000000001/artifacts/${stored.id}`,
    );
    // Random bytes do not compress: the zip is our file plus headers.
    expect(uploaded.size).toBe(stored.size);
    expect(uploaded.size).toBeGreaterThan(bigBytes.length);
    expect(uploaded.size).toBeLessThan(bigBytes.length + 64 * 1024);
    expect(uploaded.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.digest).toBe(`sha256:${uploaded.digest}`);
    // retentionDays became an expiry about a week out.
    const days = ((stored.expiresAt?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const zip = await service.download('model-package');
    expect(zip.length).toBe(uploaded.size);
    expect(sha256(zip)).toBe(uploaded.digest);
    const entries = await unzip(zip);
    expect([...entries.keys()]).toEqual(['pkg.zip']);
    expect(sha256(entries.get('pkg.zip')!)).toBe(sha256(bigBytes));

    expect(service.calls().map((call) => `${call.method} ${call.status}`)).toEqual([
      'CreateArtifact 200',
      'FinalizeArtifact 200',
      'GetSignedArtifactURL 200',
    ]);
  }, 20_000);

  it('refuses a second artifact with the same name in the run, saying how to fix it', async () => {
    const small = join(dir, 'small.zip');
    await writeFile(small, 'tiny package');
    const first = await uploadPackageArtifact({ archive: small, name: 'tiny', env: service.env });
    expect(first.size).toBeGreaterThan(0);
    expect(await unzip(await service.download('tiny'))).toEqual(
      new Map([['small.zip', Buffer.from('tiny package')]]),
    );

    const error = await uploadPackageArtifact({ archive: small, name: 'tiny', env: service.env }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/already has an artifact named 'tiny'.*unique within a run/);
    // The library's own message is kept.
    expect(error.message).toContain(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: ' +
        'an artifact with this name already exists on the workflow run',
    );
    const last = service.calls().at(-1);
    expect(last).toMatchObject({
      method: 'CreateArtifact',
      status: 409,
      response: { code: 'already_exists' },
    });
    expect(service.artifacts().filter((artifact) => artifact.name === 'tiny')).toHaveLength(1);
  }, 20_000);

  it("is found, downloaded and deleted by the library's own client", async () => {
    const uploaded = await uploadPackageArtifact({
      archive: bigPackage,
      name: 'round-trip',
      env: service.env,
    });
    const into = join(dir, 'downloaded');
    const { artifact, download } = await withProcessEnv(service.env, async () => {
      const client = new DefaultArtifactClient();
      const found = await client.getArtifact('round-trip');
      const downloaded = await client.downloadArtifact(found.artifact.id, { path: into });
      expect(await client.deleteArtifact('round-trip')).toEqual({ id: found.artifact.id });
      return { artifact: found.artifact, download: downloaded };
    });
    expect(service.artifacts().map((stored) => stored.name)).not.toContain('round-trip');
    // Listing reports the digest with its algorithm; the upload response gives the bare hex.
    expect(artifact).toMatchObject({
      id: uploaded.artifactId,
      name: 'round-trip',
      size: uploaded.size,
      digest: `sha256:${uploaded.digest}`,
    });
    expect(download).toEqual({ downloadPath: into, digestMismatch: false });
    expect(sha256(await readFile(join(into, 'pkg.zip')))).toBe(sha256(bigBytes));
  }, 20_000);

  it('explains that uploads need a workflow run when ACTIONS_RUNTIME_TOKEN is missing', async () => {
    const callsBefore = service.calls().length;
    const { ACTIONS_RUNTIME_TOKEN: _, ...env } = service.env;
    const error = await uploadPackageArtifact({ archive: bigPackage, name: 'no-token', env }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'uploading a workflow artifact works only inside a GitHub Actions workflow run (ACTIONS_RUNTIME_TOKEN ' +
        'is not set); outside one, the CLI writes the package to disk: use `mlops package`',
    );
    expect(service.calls()).toHaveLength(callsBefore);
  });
});

/** Runs `body` with `env` merged into process.env (the library reads only that), then restores it. */
async function withProcessEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file entry of a zip, by name. */
async function unzip(zip: Uint8Array): Promise<Map<string, Buffer>> {
  const file = await fromBufferPromise(Buffer.from(zip), { lazyEntries: true });
  const entries = new Map<string, Buffer>();
  for await (const entry of file.eachEntry()) {
    if (entry.fileName.endsWith('/')) continue;
    const chunks: Buffer[] = [];
    for await (const chunk of await file.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    entries.set(entry.fileName, Buffer.concat(chunks));
  }
  return entries;
}
