/**
 * Real model packages for deployment tests, built with buildPackage from the fixture models and
 * the committed gate reports (test/fixtures/reports, made by make-reports.js): a model report is
 * packaged with the model it validated (model-passed.json: the logistic regression; model-failed.json:
 * the random forest), so the package's custody checks pass as they would in a workflow.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuiltPackage, buildPackage } from '../../src/core/package/build-package.ts';
import type { Lineage } from '../../src/core/package/lineage.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from './example.ts';

export const FIXTURE_REPORTS = join(repoRoot, 'test/fixtures/reports');
export const FIXTURE_MODELS = join(repoRoot, 'test/fixtures/models');

/** The committed gate reports a package can carry. */
export type FixtureReport = 'model-passed' | 'model-failed' | 'data-passed' | 'data-failed';

export interface TestPackageOptions {
  name?: string;
  version: string;
  /** Default: a passed data and model report. `[]`: an unvalidated package. */
  reports?: FixtureReport[];
  lineage?: Partial<Lineage>;
  /** Package failed reports on purpose. */
  allowFailedGates?: { by: string; reason?: string };
  /** A data contract file (recorded in signature.json). */
  contract?: string;
  out?: string;
}

/** The lineage of a package built in a tag run of octo-org/mlops-demo. */
export const TEST_LINEAGE: Lineage = {
  repository: 'octo-org/mlops-demo',
  commit: 'c0ffee'.padEnd(40, '0'),
  ref: null,
  runUrl: 'https://github.com/octo-org/mlops-demo/actions/runs/7',
  commitTime: '2026-11-01T00:00:00Z',
};

/** Builds a package `<name>-<version>.zip` with the given reports (see the module comment). */
export async function makeTestPackage(options: TestPackageOptions): Promise<BuiltPackage> {
  const reports = options.reports ?? ['data-passed', 'model-passed'];
  const folder = await temporaryDirectory('mlops-reports-');
  await mkdir(folder, { recursive: true });
  for (const report of reports) {
    const kind = report.startsWith('model') ? 'model-validation' : 'data-validation';
    await copyFile(join(FIXTURE_REPORTS, `${report}.json`), join(folder, `${kind}.json`));
  }
  const model = reports.includes('model-failed') ? 'sklearn-forest.onnx' : 'sklearn-logreg-zipmap.onnx';
  return buildPackage({
    model: join(FIXTURE_MODELS, model),
    name: options.name ?? 'breast-cancer',
    version: options.version,
    ...(reports.length > 0 ? { reports: folder } : {}),
    out: options.out ?? (await temporaryDirectory('mlops-package-')),
    lineage: { ...TEST_LINEAGE, ...options.lineage },
    ...(options.allowFailedGates ? { allowFailedGates: options.allowFailedGates } : {}),
    ...(options.contract ? { contract: options.contract } : {}),
  });
}
