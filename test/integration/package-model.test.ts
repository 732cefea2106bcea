/**
 * Model packages: reproducible archives, verification, metadata in the model (loaded by ONNX
 * Runtime with identical outputs), bad input; and the package-model action bundle publishing to a
 * workflow artifact (real @actions/artifact against Azurite and a Twirp stand-in) and to a GitHub
 * Release (an OpenAPI-checked stand-in), including a re-run.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';
import { parseGateExpression } from '../../src/core/model/gates.ts';
import { inspectOnnxModel } from '../../src/core/model/onnx-inspect.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { validateModel } from '../../src/core/model/validate-model.ts';
import { buildPackage, METADATA_KEYS, type PackageOptions } from '../../src/core/package/build-package.ts';
import type { Lineage } from '../../src/core/package/lineage.ts';
import { verifyPackage } from '../../src/core/package/verify-package.ts';
import { readZipEntries } from '../../src/core/zip/zip.ts';
import { type ArtifactService, startArtifactService } from '../harness/artifact-service.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const models = join(repoRoot, 'test/fixtures/models');
const holdout = join(repoRoot, 'templates/example/data/test.csv');
const lineage: Lineage = {
  repository: 'octo-org/mlops-demo',
  commit: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/tags/v1.2.0',
  runUrl: 'https://github.com/octo-org/mlops-demo/actions/runs/42',
  commitTime: '2026-11-30T10:20:30.000Z',
};

let reports: string;
beforeAll(async () => {
  reports = await temporaryDirectory();
  const report = await validateModel(
    {
      model: join(models, 'sklearn-logreg-zipmap.onnx'),
      data: holdout,
      target: 'target',
      gates: [parseGateExpression('roc_auc >= 0.95')],
      bootstrap: { resamples: 100 },
      latency: false,
    },
    { info() {}, warning() {}, debug() {} },
  );
  await writeFile(join(reports, 'model-validation.json'), JSON.stringify(report));
});

async function build(overrides: Partial<PackageOptions> = {}) {
  return buildPackage({
    model: join(models, 'sklearn-logreg-zipmap.onnx'),
    name: 'breast-cancer',
    reports,
    contract: join(repoRoot, 'templates/example/contract.json'),
    out: await temporaryDirectory(),
    lineage,
    ...overrides,
  });
}

describe('model packages', () => {
  it('are reproducible: the same inputs give the same archive bytes', async () => {
    const [a, b] = [await build(), await build()];
    expect(a.digest).toBe(b.digest);
    expect(a.digest).toBe(
      createHash('sha256')
        .update(await readFile(a.archive))
        .digest('hex'),
    );
    expect(a.manifest.package).toEqual({ name: 'breast-cancer', version: '1.2.0' }); // from the tag
    expect(a.manifest.createdAt).toBe(lineage.commitTime);
    const entries = await readZipEntries(a.archive);
    // The payload sorted, then what describes it (written once its digests are known), sorted.
    expect(entries.map((e) => e.name)).toEqual([
      'reports/model-validation.json',
      'signature.json',
      'MODEL_CARD.md',
      'manifest.json',
      'model.onnx',
    ]);
    expect(entries.find((e) => e.name === 'model.onnx')?.method).toBe('store');
    // Another commit is another package.
    const c = await build({ lineage: { ...lineage, commit: 'f'.repeat(40) } });
    expect(c.digest).not.toBe(a.digest);
  });

  it('describe themselves: manifest, metadata in the model, provenance', async () => {
    const built = await build();
    const { manifest } = built;
    expect(manifest).toMatchObject({
      kind: 'model-package',
      version: 2,
      task: 'binary',
      gates: { model: { passed: true, report: 'reports/model-validation.json' } },
      lineage: { repository: 'octo-org/mlops-demo', commit: lineage.commit, ref: 'refs/tags/v1.2.0' },
    });
    expect(manifest.metrics.roc_auc).toBeGreaterThan(0.99);
    expect(manifest.lineage.data).toEqual([
      expect.objectContaining({ role: 'holdout', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    ]);
    const model = await inspectOnnxModel(join(built.directory, 'model.onnx'));
    expect(model.metadata).toMatchObject({
      [METADATA_KEYS.name]: 'breast-cancer',
      [METADATA_KEYS.version]: '1.2.0',
      [METADATA_KEYS.commit]: lineage.commit,
      [METADATA_KEYS.content]: manifest.contentSha256,
      'mlops.metric.roc_auc': String(manifest.metrics.roc_auc),
    });
    const provenance = JSON.parse(await readFile(built.provenance, 'utf8'));
    expect(provenance).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://mlops-actions.dev/attestations/model-package/v1',
      subject: [
        { name: 'breast-cancer-1.2.0.zip', digest: { sha256: built.digest } },
        {
          name: 'breast-cancer-1.2.0/model.onnx',
          digest: { sha256: manifest.files.find((f) => f.path === 'model.onnx')?.sha256 },
        },
      ],
      predicate: { builder: { id: lineage.runUrl }, gates: manifest.gates },
    });
  });

  it('tell a deployment pull request their metrics, and the body shows the deltas', async () => {
    const { readPackageSummary } = await import('../../src/core/deploy/deployed-baseline.ts');
    const { renderPullRequestBody } = await import('../../src/core/deploy/deploy.ts');
    const built = await build();
    const summary = await readPackageSummary(
      built.archive.startsWith('/') ? `file://${built.archive}` : built.archive,
      built.digest,
    );
    expect(summary?.metrics).toEqual(built.manifest.metrics);
    await expect(readPackageSummary(`file://${built.archive}`, '0'.repeat(64))).rejects.toThrow(
      new RegExp(`has sha256 ${built.digest}, but its reference names sha256 0{64}`),
    );
    expect(await readPackageSummary('artifact://42/x@sha256:abc', 'abc')).toBeUndefined();
    const body = renderPullRequestBody(
      {
        environment: 'staging',
        model: { name: 'breast-cancer', version: '1.2.0' },
        gates: { verdict: 'passed', model: true },
        source: { repository: null, commit: null },
      },
      { uri: 'file:///p.zip', sha256: 'a'.repeat(64) },
      undefined,
      {
        proposed: { metrics: { roc_auc: 0.99, log_loss: 0.08 }, drifted: ['mean radius'] },
        current: { metrics: { roc_auc: 0.97 } },
      },
    );
    expect(body).toContain('| roc_auc | 0.9700 | 0.9900 | +0.0200 |');
    expect(body).toContain('| log_loss | — | 0.08000 | — |');
    expect(body).toContain('Data drift: 1 column drifted (mean radius).');
  });

  it('keep the model working: ONNX Runtime gives identical outputs from the packaged model', async () => {
    // Without reports: the gate's report of another model would be refused.
    const built = await build({ model: join(models, 'torch-mlp-logits.onnx'), reports: undefined });
    const ort = await loadOnnxRuntime();
    const input = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 5 * 30 }, (_, i) => Math.sin(i) * 10),
      [5, 30],
    );
    const run = async (path: string) =>
      (await (await createOnnxSession(path)).run({ input }, ['logits'])).logits.data as Float32Array;
    expect(await run(join(built.directory, 'model.onnx'))).toEqual(
      await run(join(models, 'torch-mlp-logits.onnx')),
    );
  });

  it('carry external data, and verify catches a changed byte naming the file', async () => {
    const source = await temporaryDirectory();
    await copyFile(join(repoRoot, 'test/fixtures/onnx/external.onnx'), join(source, 'model.onnx'));
    await copyFile(join(repoRoot, 'test/fixtures/onnx/external.weights'), join(source, 'external.weights'));
    const built = await build({
      model: join(source, 'model.onnx'),
      reports: undefined,
      version: '2.0.0',
      lineage: { ...lineage, ref: 'refs/heads/main' },
    });
    expect(built.manifest.files.map((f) => f.path)).toContain('external.weights');
    expect((await verifyPackage(built.archive)).passed).toBe(true);
    expect((await verifyPackage(built.directory)).passed).toBe(true);
    // ONNX Runtime loads the packaged model with its weights next to it.
    await createOnnxSession(join(built.directory, 'model.onnx'));

    const weights = join(built.directory, 'external.weights');
    const bytes = await readFile(weights);
    bytes[3] ^= 0xff;
    await writeFile(weights, bytes);
    const folder = await verifyPackage(built.directory);
    expect(folder.passed).toBe(false);
    expect(folder.problems.join('\n')).toMatch(/^external\.weights: changed/m);

    // In the archive: flip one byte of the stored weights.
    const archive = await readFile(built.archive);
    const entry = (await readZipEntries(built.archive)).find((e) => e.name === 'external.weights');
    const offset = (entry?.offset ?? 0) + 30 + 'external.weights'.length + 10;
    archive[offset] ^= 0x01;
    const flipped = join(await temporaryDirectory(), 'flipped.zip');
    await writeFile(flipped, archive);
    const result = await verifyPackage(flipped);
    expect(result.passed).toBe(false);
    expect(result.problems.join('\n')).toMatch(/external\.weights/);
  });

  it('leave a smoke-test report in the reports folder out: it describes a package, not a gate it binds', async () => {
    const { cp, writeFile: write } = await import('node:fs/promises');
    const folder = await temporaryDirectory();
    await cp(reports, folder, { recursive: true });
    await write(join(folder, 'smoke-test.json'), JSON.stringify({ kind: 'smoke-test', version: 1 }));
    const withSmoke = await build({ reports: folder });
    const without = await build();
    expect(withSmoke.digest).toBe(without.digest);
    expect(withSmoke.manifest.files.map((f) => f.path)).not.toContain('reports/smoke-test.json');
  });

  it('refuse bad input with clear errors and leave nothing behind', async () => {
    await expect(build({ name: 'Breast Cancer' })).rejects.toThrow(
      /Package name "Breast Cancer" is not allowed/,
    );
    await expect(build({ version: '1.2' })).rejects.toThrow(/"1.2" is not a semantic version/);
    await expect(build({ version: '1.3.0' })).rejects.toThrow(/1.3.0 does not match the pushed tag v1.2.0/);
    await expect(build({ model: holdout })).rejects.toBeInstanceOf(InputError);
    const bad = await temporaryDirectory();
    await writeFile(
      join(bad, 'model.json'),
      JSON.stringify({ kind: 'model-validation', version: 1, passed: 'yes' }),
    );
    const out = await temporaryDirectory();
    const error = await build({ reports: bad, out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(
      /model\.json does not match the model-validation report schema \(version 1\)/,
    );
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(out)).toEqual([]); // no half-written package
    const noWeights = await temporaryDirectory();
    await copyFile(join(repoRoot, 'test/fixtures/onnx/external.onnx'), join(noWeights, 'model.onnx'));
    await expect(
      build({ model: join(noWeights, 'model.onnx'), version: '2.0.0', lineage: { ...lineage, ref: null } }),
    ).rejects.toThrow(/external/i);
  });
});

describe('mlops package (CLI)', () => {
  it('prints the package as JSON, and verify exits 0, then 1 naming a changed file', async () => {
    const mlops = (...args: string[]) =>
      runCli(args, { env: { ...process.env, SOURCE_DATE_EPOCH: '1764500000' } });
    const out = await temporaryDirectory();
    const built = await mlops(
      'package',
      '--model',
      join(models, 'sklearn-logreg-zipmap.onnx'),
      '--name',
      'tiny',
      '--version',
      '0.3.0',
      '--reports',
      reports,
      '--out',
      out,
      '--json',
    );
    expect(built.code).toBe(0);
    const result = JSON.parse(built.stdout);
    expect(Object.keys(result).sort()).toEqual(['archive', 'digest', 'directory', 'manifest', 'packageRef']);
    expect(result.packageRef).toBe(`file://${result.archive}#sha256=${result.digest}`);
    expect(result.manifest.createdAt).toBe(new Date(1764500000 * 1000).toISOString());
    const ok = await mlops('package', 'verify', result.archive);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`sha256:${result.digest}`);
    await writeFile(join(result.directory, 'signature.json'), '{}\n');
    const changed = await mlops('package', 'verify', result.directory);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/signature\.json: changed/);
    const usage = await mlops(
      'package',
      '--model',
      join(models, 'torch-sigmoid.onnx'),
      '--name',
      'tiny',
      '--version',
      'one',
    );
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/"one" is not a semantic version/);
  });
});

describe('package-model action (bundle)', () => {
  let artifacts: ArtifactService;
  let github: GitHubApi;
  beforeAll(async () => {
    [artifacts, github] = await Promise.all([startArtifactService(), startGitHubApi()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([artifacts?.stop(), github?.stop()]);
  });

  it('uploads the artifact and publishes the release on a tag push; a re-run changes nothing', async () => {
    const workspace = await temporaryDirectory();
    await mkdir(join(workspace, 'mlops-reports'));
    await copyFile(
      join(reports, 'model-validation.json'),
      join(workspace, 'mlops-reports/model-validation.json'),
    );
    const env = {
      ...artifacts.env,
      GITHUB_REPOSITORY: 'octo-org/mlops-demo',
      GITHUB_REF: 'refs/tags/v1.2.0',
      GITHUB_SHA: lineage.commit as string,
      GITHUB_API_URL: github.baseUrl,
      SOURCE_DATE_EPOCH: String(Date.parse(lineage.commitTime as string) / 1000),
    };
    const inputs = {
      model: join(models, 'sklearn-logreg-zipmap.onnx'),
      name: 'breast-cancer',
      reports: 'mlops-reports',
      release: 'true',
      token: github.token,
    };
    const first = await runAction('package-model', {
      cwd: workspace,
      env,
      inputs: { ...inputs, 'artifact-name': 'pkg-first' },
    });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.outputs).toMatchObject({
      version: '1.2.0',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const digest = first.outputs.digest;
    // Every output of the action (actions/package-model/action.yml), those of OCI in oci.test.ts.
    const out = join(workspace, 'mlops-package');
    expect(first.outputs.directory).toBe(join(out, 'breast-cancer-1.2.0'));
    expect(first.outputs.archive).toBe(join(out, 'breast-cancer-1.2.0.zip'));
    expect(first.outputs.manifest).toBe(join(out, 'breast-cancer-1.2.0/manifest.json'));
    expect(
      createHash('sha256')
        .update(await readFile(first.outputs.archive))
        .digest('hex'),
    ).toBe(digest);
    expect(JSON.parse(await readFile(first.outputs.manifest, 'utf8')).package).toEqual({
      name: 'breast-cancer',
      version: '1.2.0',
    });
    expect(first.outputs['artifact-id']).toMatch(/^[1-9]\d*$/);
    expect(first.outputs['artifact-url']).toBe(
      `https://github.com/octo-org/mlops-demo/actions/runs/${artifacts.env.GITHUB_RUN_ID}/artifacts/${first.outputs['artifact-id']}`,
    );
    expect(first.outputs['release-url']).toBe(`${github.baseUrl}/octo-org/mlops-demo/releases/tag/v1.2.0`);
    expect(first.outputs['package-ref']).toMatch(
      new RegExp(
        `/octo-org/mlops-demo/releases/download/v1\\.2\\.0/breast-cancer-1\\.2\\.0\\.zip#sha256=${digest}$`,
      ),
    );
    // The artifact round-trips: @actions/artifact's zip holds our archive, byte for byte.
    const downloaded = await artifacts.download('pkg-first');
    const { default: yauzl } = await import('yauzl');
    const inner = await new Promise<Buffer>((resolve, reject) => {
      yauzl.fromBuffer(Buffer.from(downloaded), { lazyEntries: true }, (error, zip) => {
        if (error || !zip) return reject(error);
        zip.on('entry', (entry) => {
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return reject(e);
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
          });
        });
        zip.readEntry();
      });
    });
    expect(createHash('sha256').update(inner).digest('hex')).toBe(digest);
    // The release holds the archive, its manifest and the provenance.
    const release = github.state.findRelease('octo-org/mlops-demo', 'v1.2.0');
    expect(release?.assets.map((a) => a.name).sort()).toEqual([
      'breast-cancer-1.2.0.intoto.json',
      'breast-cancer-1.2.0.manifest.json',
      'breast-cancer-1.2.0.zip',
    ]);
    expect(first.summary).toContain(`sha256:${digest}`);

    // Re-run (same commit): the same digest, and the release is left as it is.
    const writes = github.requests.filter((r) => r.method !== 'GET').length;
    const again = await runAction('package-model', {
      cwd: workspace,
      env,
      inputs: { ...inputs, 'artifact-name': 'pkg-again' },
    });
    expect(again.exitCode).toBe(0);
    expect(again.outputs.digest).toBe(digest);
    expect(github.requests.filter((r) => r.method !== 'GET').length).toBe(writes);
    expect(github.violations).toEqual([]);
  }, 60_000);

  it('refuses release: true outside a tag push, and explains a missing runtime token', async () => {
    const workspace = await temporaryDirectory();
    const branch = await runAction('package-model', {
      cwd: workspace,
      env: { ...artifacts.env, GITHUB_REF: 'refs/heads/main', GITHUB_SHA: lineage.commit as string },
      inputs: { model: join(models, 'torch-sigmoid.onnx'), name: 'm', release: 'true', token: 't' },
    });
    expect(branch.exitCode).toBe(1);
    expect(branch.annotations.find((a) => a.level === 'error')?.message).toMatch(/not a tag/);
    const outside = await runAction('package-model', {
      cwd: workspace,
      env: {
        GITHUB_REF: 'refs/heads/main',
        GITHUB_SHA: lineage.commit as string,
        ACTIONS_RUNTIME_TOKEN: '',
        ACTIONS_RESULTS_URL: '',
      },
      inputs: { model: join(models, 'torch-sigmoid.onnx'), name: 'm' },
    });
    expect(outside.exitCode).toBe(1);
    expect(outside.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /only inside a GitHub Actions workflow run/,
    );
  }, 60_000);

  it('publishes a run that is not a tag push to the release it names, created as a prerelease at its commit', async () => {
    const workspace = await temporaryDirectory();
    const commit = 'a1'.repeat(20);
    const env = {
      ...artifacts.env,
      GITHUB_REPOSITORY: 'octo-org/mlops-demo',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: commit,
      GITHUB_API_URL: github.baseUrl,
    };
    const inputs = {
      model: join(models, 'torch-sigmoid.onnx'),
      name: 'churn',
      version: '1.4.1-ct.7',
      upload: 'false',
      release: 'true',
      'release-tag': 'churn-1.4.1-ct.7',
      token: github.token,
    };
    const run = await runAction('package-model', { cwd: workspace, env, inputs });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const release = github.state.findRelease('octo-org/mlops-demo', 'churn-1.4.1-ct.7');
    expect(release).toMatchObject({ prerelease: true, targetCommitish: commit });
    expect(release?.assets.map((a) => a.name)).toContain('churn-1.4.1-ct.7.zip');
    expect(run.outputs['package-ref']).toMatch(
      new RegExp(
        `/releases/download/churn-1\\.4\\.1-ct\\.7/churn-1\\.4\\.1-ct\\.7\\.zip#sha256=${run.outputs.digest}$`,
      ),
    );
    // release-tag without release: true is a mistake, said as such.
    const half = await runAction('package-model', {
      cwd: workspace,
      env,
      inputs: { ...inputs, release: 'false' },
    });
    expect(half.exitCode).toBe(1);
    expect(half.annotations.find((a) => a.level === 'error')?.message).toMatch(/release-tag.*release: true/);
    expect(github.violations).toEqual([]);
  }, 60_000);
});
