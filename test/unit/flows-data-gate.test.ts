/**
 * runDataGate (src/core/flows/data-gate.ts), in process, on the example's real data: the decisions
 * behind the validate-data action's outputs and failure (passed, counts, drifted columns, fail-on),
 * the order input > mlops.yaml > built-in default, and mistakes named in the adapter's own words.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DataRequestNames } from '../../src/core/config/data-options.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type DataGateFlowRequest, runDataGate } from '../../src/core/flows/data-gate.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const NAMES: DataRequestNames = {
  data: 'input "data"',
  failOn: 'input "fail-on"',
  format: 'input "format"',
  report: 'input "report-path"',
  parallel: '--parallel',
};

/** A folder outside any repository with no mlops.yaml: only what the request says applies. */
async function request(overrides: Partial<DataGateFlowRequest>): Promise<DataGateFlowRequest> {
  return { cwd: await temporaryDirectory('flows-data-'), names: NAMES, ...overrides };
}

/** The example holdout with its first row repeated: one duplicate row, a warning by default. */
async function withDuplicate(dir: string): Promise<string> {
  const lines = (await readFile(example.test, 'utf8')).trimEnd().split('\n');
  const path = join(dir, 'duplicated.csv');
  await writeFile(path, `${[...lines, lines[1]].join('\n')}\n`);
  return path;
}

describe('runDataGate', () => {
  it('passes the example holdout against its training data, writes the report and counts the findings', async () => {
    const dir = await temporaryDirectory('flows-data-');
    const reportPath = join(dir, 'out/report.json');
    const result = await runDataGate(
      await request({
        data: example.test,
        reference: example.train,
        contract: example.contract,
        target: 'target',
        report: reportPath,
      }),
      { logger: silentLogger },
    );
    expect(result.outputs).toEqual({ passed: true, findings: 0, errors: 0, warnings: 0, driftedColumns: [] });
    expect(result.reportPath).toBe(reportPath);
    expect(JSON.parse(await readFile(reportPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result.report)));
    expect(result.report.drift?.columns).toHaveLength(30); // the target is left out
  });

  it('fails drifted data and names the drifted columns; fail-on never reports without failing', async () => {
    const base = {
      data: example.drifted,
      reference: example.train,
      contract: example.contract,
      target: 'target',
    };
    const failed = await runDataGate(await request(base), { logger: silentLogger });
    expect(failed.outputs.passed).toBe(false);
    expect(failed.reportPath).toBeUndefined();
    expect(failed.outputs.errors).toBeGreaterThan(0);
    expect(failed.outputs.errors).toBe(failed.report.findings.filter((f) => f.severity === 'error').length);
    expect(failed.outputs.findings).toBe(failed.report.findings.length);
    expect(failed.outputs.driftedColumns).toEqual(expect.arrayContaining(['mean radius', 'mean texture']));
    expect(failed.outputs.driftedColumns).toEqual(
      failed.report.drift?.columns.filter((c) => c.drifted).map((c) => c.column),
    );
    expect(failed.outputs.driftedColumns).not.toContain('target');

    const never = await runDataGate(await request({ ...base, failOn: 'never' }), { logger: silentLogger });
    expect(never.outputs.passed).toBe(true);
    expect(never.outputs.errors).toBe(failed.outputs.errors);
  });

  it('fails on a warning only with fail-on warning', async () => {
    const dir = await temporaryDirectory('flows-data-');
    const data = await withDuplicate(dir);
    const onError = await runDataGate(await request({ data }), { logger: silentLogger });
    // Without a reference nothing is compared: no drifted columns, and no drift section.
    expect(onError.outputs).toEqual({
      passed: true,
      findings: 1,
      errors: 0,
      warnings: 1,
      driftedColumns: [],
    });
    expect(onError.report.drift).toBeUndefined();
    expect(onError.report.failOn).toBe('error');
    const onWarning = await runDataGate(await request({ data, failOn: 'warning' }), { logger: silentLogger });
    expect(onWarning.outputs).toMatchObject({ passed: false, errors: 0, warnings: 1 });
    expect(onWarning.report.failOn).toBe('warning');
  });

  it('takes the input first, then mlops.yaml (found from cwd, paths relative to it), then the default', async () => {
    const project = await temporaryDirectory('flows-data-project-');
    await withDuplicate(project);
    await copyFile(example.train, join(project, 'train.csv'));
    await writeFile(
      join(project, 'mlops.yaml'),
      'version: 1\ndata:\n  data: duplicated.csv\n  reference: train.csv\n  target: target\n  fail-on: warning\n',
    );
    const fromConfig = await runDataGate(await request({ cwd: project }), { logger: silentLogger });
    expect(fromConfig.report.failOn).toBe('warning');
    expect(fromConfig.outputs.passed).toBe(false);
    expect(fromConfig.report.inputs.data.path).toBe(join(project, 'duplicated.csv'));
    expect(fromConfig.report.inputs.config?.path).toMatch(/mlops\.yaml$/);
    expect(fromConfig.report.drift?.reference).toContain('train.csv');

    const inputWins = await runDataGate(
      await request({ cwd: project, failOn: 'error', data: example.test }),
      {
        logger: silentLogger,
      },
    );
    expect(inputWins.report.failOn).toBe('error');
    expect(inputWins.report.inputs.data.path).toBe(example.test);
    expect(inputWins.outputs.passed).toBe(true);

    // A config given explicitly is used as given, even from another folder.
    const given = await runDataGate(await request({ config: join(project, 'mlops.yaml'), failOn: 'never' }), {
      logger: silentLogger,
    });
    expect(given.report.failOn).toBe('never');
    expect(given.report.inputs.data.path).toBe(join(project, 'duplicated.csv'));
  });

  it('names a missing or wrong input in the adapter’s words, before any data is read', async () => {
    await expect(runDataGate(await request({}), { logger: silentLogger })).rejects.toThrow(
      /No data to validate: set input "data"/,
    );
    const wrong = await runDataGate(await request({ data: example.test, failOn: 'sometimes' }), {
      logger: silentLogger,
    }).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(ConfigurationError);
    expect((wrong as Error).message).toMatch(/^input "fail-on" must be one of error, warning, never/);
    await expect(
      runDataGate(await request({ data: example.test, parallel: 'sometimes' }), { logger: silentLogger }),
    ).rejects.toThrow(/^--parallel must be one of auto, always, never/);
    await expect(
      runDataGate(await request({ data: example.test, report: example.test }), { logger: silentLogger }),
    ).rejects.toThrow(/input "report-path" .* is input "data"/);
  });
});
