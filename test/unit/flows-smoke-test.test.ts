/**
 * runPackageSmokeTest (src/core/flows/smoke-test.ts), in process: real packages of the fixture
 * models served on loopback by ONNX Runtime. Checks the decisions behind the smoke-test action's
 * outputs (passed, failed checks, p95), mlops.yaml found from the folder the run starts in (its
 * budget and golden file) over the package's own, and mistakes named in the adapter's words.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { runPackageSmokeTest, type SmokeTestFlowRequest } from '../../src/core/flows/smoke-test.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { buildPackage } from '../../src/core/package/build-package.ts';
import { unpackPackage } from '../../src/core/package/verify-package.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { FIXTURE_MODELS, TEST_LINEAGE } from '../helpers/packages.ts';

const GOLDEN = join(FIXTURE_MODELS, 'torch-mlp.golden.json');
const NAMES = {
  package: 'input "package"',
  golden: 'input "golden"',
  runs: 'input "runs"',
  report: 'input "report-path"',
};
const ports = { logger: silentLogger };

/** The torch MLP, packaged without gate reports (so without a budget of its own). */
let mlp: string;
/** The same network with a shifted bias: its outputs no longer match the golden file. */
let drifted: string;

beforeAll(async () => {
  const build = async (file: string, version: string) =>
    (
      await buildPackage({
        model: join(FIXTURE_MODELS, file),
        name: 'breast-cancer',
        version,
        out: await temporaryDirectory('flows-smoke-package-'),
        lineage: TEST_LINEAGE,
      })
    ).archive;
  mlp = await build('torch-mlp-logits.onnx', '1.0.0');
  drifted = await build('torch-mlp-drifted.onnx', '1.1.0');
}, 60_000);

async function request(overrides: Partial<SmokeTestFlowRequest>): Promise<SmokeTestFlowRequest> {
  return { cwd: await temporaryDirectory('flows-smoke-'), names: NAMES, runs: '10', ...overrides };
}

describe('runPackageSmokeTest', () => {
  it('takes the budget and the golden file from the mlops.yaml of the folder: over budget fails the latency check', async () => {
    const project = await temporaryDirectory('flows-smoke-project-');
    await mkdir(join(project, 'build'));
    await copyFile(GOLDEN, join(project, 'build/golden.json'));
    await writeFile(
      join(project, 'mlops.yaml'),
      'version: 1\nmodel:\n  budgets:\n    latency-p95-ms: 0.001\n  golden:\n    path: build/golden.json\n    atol: 0.001\n',
    );
    const reportPath = join(project, 'out/smoke-test.json');
    const result = await runPackageSmokeTest(
      await request({ cwd: project, package: mlp, report: reportPath }),
      ports,
    );
    expect(result.outputs).toEqual({
      passed: false,
      failedChecks: ['latency'],
      p95Ms: result.report.latency?.p95Ms,
    });
    expect(result.outputs.p95Ms).toBeGreaterThan(0.001);
    expect(result.report.latency).toMatchObject({ runs: 10, budget: { limitMs: 0.001 } });
    expect(result.report.parity).toMatchObject({ atol: 0.001, passed: true });
    expect(result.report.parity?.golden).toMatch(/build\/golden\.json$/);
    expect(result.reportPath).toBe(reportPath);
    expect(JSON.parse(await readFile(reportPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result.report)));
  });

  it('passes with no budget anywhere (latency skipped) and fails parity for drifted outputs', async () => {
    const passed = await runPackageSmokeTest(await request({ package: mlp, golden: GOLDEN }), ports);
    expect(passed.outputs).toMatchObject({ passed: true, failedChecks: [] });
    expect(passed.report.checks.find((c) => c.check === 'latency')?.status).toBe('skipped');
    expect(passed.reportPath).toBeUndefined();

    const failed = await runPackageSmokeTest(await request({ package: drifted, golden: GOLDEN }), ports);
    expect(failed.outputs).toMatchObject({ passed: false, failedChecks: ['parity'] });
  });

  it('hands an oci:// reference to the pull port, and refuses one without it', async () => {
    const reference = 'oci://registry.example/models/breast-cancer:1.0.0';
    const pulled: string[] = [];
    // The port as the adapters give it (the real pull is tested in test/integration/oci.test.ts):
    // the package's files into the folder given.
    const pull = async (from: string, folder: string) => {
      pulled.push(from);
      await unpackPackage(mlp, folder);
    };
    const result = await runPackageSmokeTest(await request({ package: reference, golden: GOLDEN }), {
      ...ports,
      pull,
    });
    expect(pulled).toEqual([reference]);
    expect(result.outputs.passed).toBe(true);
    expect(result.report.package).toMatchObject({ path: reference, name: 'breast-cancer', version: '1.0.0' });
    await expect(runPackageSmokeTest(await request({ package: reference }), ports)).rejects.toThrow(
      /an oci:\/\/ package cannot be pulled here/,
    );
  });

  it('names a missing or wrong input in the adapter’s words', async () => {
    const refused = async (overrides: Partial<SmokeTestFlowRequest>) => {
      const error = await runPackageSmokeTest(await request(overrides), ports).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      return (error as Error).message;
    };
    expect(await refused({})).toMatch(/^No package to test: set input "package"/);
    expect(await refused({ package: mlp, runs: '0' })).toMatch(/^input "runs" must be a whole number from 1/);
    expect(await refused({ package: mlp, golden: GOLDEN, report: GOLDEN })).toMatch(
      /input "report-path" .*input "golden"/,
    );
  });
});
