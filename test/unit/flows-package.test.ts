/**
 * runPackage (src/core/flows/package.ts), in process, with the fixture models and the committed gate
 * reports (test/fixtures/reports: model-passed.json validated the logistic regression,
 * model-failed.json the random forest): the lineage and the actor come from the adapter's
 * environment, failed gates are refused unless overridden (and then recorded and flagged), the
 * adapter's admit port runs before any work, and mistakes are named in the adapter's words.
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type PackageNames, type PackageRequest, runPackage } from '../../src/core/flows/package.ts';
import type { Lineage } from '../../src/core/package/lineage.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { FIXTURE_MODELS, FIXTURE_REPORTS } from '../helpers/packages.ts';

const NAMES: PackageNames = {
  model: '--model',
  reports: '--reports',
  profile: '--profile',
  contract: '--contract',
  out: '--out',
  allowFailedGates: '--allow-failed-gates',
  overrideReason: '--override-reason',
};

/** A tag run of octo-org/mlops-demo, as the runner describes it (no git needed). */
const TAG_RUN = {
  GITHUB_SHA: 'ab12'.padEnd(40, '0'),
  GITHUB_REF: 'refs/tags/v1.4.0',
  GITHUB_REPOSITORY: 'octo-org/mlops-demo',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '42',
  GITHUB_ACTOR: 'octocat',
  SOURCE_DATE_EPOCH: '1764547200',
};

/** A folder holding the given committed reports, named as the gates write them. */
async function reportsFolder(
  ...reports: ('model-passed' | 'model-failed' | 'data-passed')[]
): Promise<string> {
  const folder = join(await temporaryDirectory('flows-package-reports-'), 'reports');
  await mkdir(folder);
  for (const report of reports) {
    const kind = report.startsWith('model') ? 'model-validation' : 'data-validation';
    await copyFile(join(FIXTURE_REPORTS, `${report}.json`), join(folder, `${kind}.json`));
  }
  return folder;
}

async function request(overrides: Partial<PackageRequest>): Promise<PackageRequest> {
  return {
    model: join(FIXTURE_MODELS, 'sklearn-logreg-zipmap.onnx'),
    name: 'breast-cancer',
    out: join(await temporaryDirectory('flows-package-out-'), 'package'),
    cwd: await temporaryDirectory('flows-package-cwd-'),
    hostEnv: TAG_RUN,
    names: NAMES,
    ...overrides,
  };
}

/** The out folder's entries, [] when it was never made. */
async function entries(folder: string): Promise<string[]> {
  return readdir(folder).catch(() => []);
}

describe('runPackage', () => {
  it('packages a validated model with the lineage of the run, after the admit port saw it', async () => {
    const admitted: Lineage[] = [];
    const req = await request({ reports: await reportsFolder('data-passed', 'model-passed') });
    const built = await runPackage(req, {
      async admit(lineage) {
        expect(await entries(req.out)).toEqual([]); // nothing built yet
        admitted.push(lineage);
      },
    });
    expect(admitted).toEqual([built.lineage]);
    expect(built.lineage).toMatchObject({
      repository: 'octo-org/mlops-demo',
      commit: TAG_RUN.GITHUB_SHA,
      ref: 'refs/tags/v1.4.0',
      runUrl: 'https://github.com/octo-org/mlops-demo/actions/runs/42',
      commitTime: '2025-12-01T00:00:00.000Z',
    });
    // The tag's version; the manifest records where the package comes from.
    expect(built.manifest.package).toEqual({ name: 'breast-cancer', version: '1.4.0' });
    expect(built.manifest.lineage).toMatchObject({
      commit: TAG_RUN.GITHUB_SHA,
      repository: 'octo-org/mlops-demo',
    });
    expect(built.gates).toBe('data passed, model passed');
    expect(built.gatesNeedAttention).toBe(false);
    expect(built.manifest.gates.override).toBeUndefined();
    expect(await entries(req.out)).toEqual(expect.arrayContaining(['breast-cancer-1.4.0.zip']));
  });

  it('refuses a failed gate report without the override, and records who overrode it with the override', async () => {
    const forest = join(FIXTURE_MODELS, 'sklearn-forest.onnx');
    const reports = await reportsFolder('model-failed');
    const refused = await request({ model: forest, reports });
    const error = await runPackage(refused).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/--allow-failed-gates/);
    expect(await entries(refused.out)).toEqual([]);

    const overridden = await runPackage(
      await request({ model: forest, reports, allowFailedGates: true, overrideReason: 'hotfix' }),
    );
    // The actor is the run's (GITHUB_ACTOR of the adapter's environment), not this machine's user.
    expect(overridden.manifest.gates.override).toMatchObject({
      allowedFailed: ['model'],
      by: 'octocat',
      reason: 'hotfix',
    });
    expect(overridden.gates).toBe('model FAILED; failed gates packaged anyway by octocat ("hotfix")');
    expect(overridden.gatesNeedAttention).toBe(true);
  });

  it('flags a package without gate reports as needing attention', async () => {
    const built = await runPackage(await request({}));
    expect(built.gates).toMatch(/^none packaged \(UNVALIDATED/);
    expect(built.gatesNeedAttention).toBe(true);
  });

  it('refuses a wrong request in the adapter’s words before the lineage is read or anything is written', async () => {
    let admitted = 0;
    const ports = {
      admit() {
        admitted++;
      },
    };
    const reason = await request({ overrideReason: 'hotfix' });
    await expect(runPackage(reason, ports)).rejects.toThrow(
      /^--override-reason goes with --allow-failed-gates \(it says why failed gates are packaged\)/,
    );
    const refusal = await runPackage(reason, ports).catch((e: unknown) => e);
    expect((refusal as ConfigurationError).location).toEqual({ key: '--override-reason' });
    // The model inside the package folder that packaging would replace.
    const out = await temporaryDirectory('flows-package-out-');
    await mkdir(join(out, 'breast-cancer-1.4.0'));
    const model = join(out, 'breast-cancer-1.4.0/model.onnx');
    await copyFile(join(FIXTURE_MODELS, 'sklearn-logreg-zipmap.onnx'), model);
    await expect(runPackage(await request({ model, out }), ports)).rejects.toThrow(/^--out .*--model/);
    expect(admitted).toBe(0);
    expect(await entries(reason.out)).toEqual([]);
  });

  it('refuses inputs that packaging would replace in the out folder, and takes the others', async () => {
    const out = await temporaryDirectory('flows-package-out-');
    const modelAt = async (relative: string) => {
      const path = join(out, relative);
      await mkdir(dirname(path), { recursive: true });
      await copyFile(join(FIXTURE_MODELS, 'sklearn-logreg-zipmap.onnx'), path);
      return path;
    };
    // Replaced: the provenance, and any <name>-<version> package folder or archive.
    for (const relative of [
      'provenance.intoto.json',
      'breast-cancer-2.0.0/model.onnx',
      'breast-cancer-1.4.0.zip',
    ]) {
      await expect(
        runPackage(await request({ model: await modelAt(relative), out })),
        relative,
      ).rejects.toThrow(/^--out .*--model/);
    }
    // Not replaced: a folder named after the model but not a version, or with a digit elsewhere.
    for (const relative of ['breast-cancer-notes2/model.onnx', 'older-versions2/model.onnx']) {
      const built = await runPackage(await request({ model: await modelAt(relative), out }));
      expect(built.manifest.package.version, relative).toBe('1.4.0');
    }
  });

  it('stops before any work when the admit port refuses', async () => {
    const req = await request({ reports: await reportsFolder('model-passed') });
    await expect(
      runPackage(req, {
        admit(lineage) {
          throw new ConfigurationError(`cannot publish ${lineage.ref}`);
        },
      }),
    ).rejects.toThrow('cannot publish refs/tags/v1.4.0');
    expect(await entries(req.out)).toEqual([]);
  });
});
