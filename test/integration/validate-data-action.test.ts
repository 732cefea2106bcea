/**
 * The bundled validate-data action, run as the GitHub runner runs it (test/harness): pass, fail with
 * annotations, and bad input reported as one clear error.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAction } from '../harness/run-action.ts';
import { example, reportSchemaErrors, temporaryDirectory } from '../helpers/example.ts';

const gateInputs = {
  reference: example.train,
  train: example.train,
  contract: example.contract,
  target: 'target',
};

describe('validate-data action (bundle)', () => {
  it('passes on the example holdout and writes outputs, report and summary', async () => {
    const run = await runAction('validate-data', { inputs: { data: example.test, ...gateInputs } });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      passed: 'true',
      'report-path': 'mlops-reports/data-validation.json',
      errors: '0',
      'drifted-columns': '[]',
    });
    const report = JSON.parse(readFileSync(join(run.workspace, run.outputs['report-path']), 'utf8'));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report).toMatchObject({
      kind: 'data-validation',
      version: 2,
      passed: true,
      summary: { rows: 114, columns: 31 },
    });
    expect(report.inputs.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.drift.columns).toHaveLength(30); // the target is left out
    expect(run.summary).toContain('Data gate passed');
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
  });

  it('fails on drifted data with annotations that point at the file and line', async () => {
    const run = await runAction('validate-data', {
      inputs: { data: example.drifted, ...gateInputs, 'report-path': 'out/report.json' },
    });
    expect(run.exitCode).toBe(1);
    // Exactly these two drifted (the other 28 compared columns did not); 3 errors, no warning.
    expect(run.outputs).toEqual({
      passed: 'false',
      'report-path': 'out/report.json',
      findings: '3',
      errors: '3',
      warnings: '0',
      'drifted-columns': '["mean radius","mean texture"]',
    });
    const errors = run.annotations.filter((a) => a.level === 'error');
    // `worst area` is empty in 17 rows: a contract finding with the first line, on the data file.
    const missing = errors.find((a) => a.message.includes('worst area') && a.file === example.drifted);
    expect(missing?.line).toBeGreaterThan(1);
    expect(errors.some((a) => a.title?.startsWith('drift') && a.message.includes('mean radius'))).toBe(true);
    // One final summary error names the report.
    expect(errors.at(-1)?.message).toMatch(/Data gate failed: \d+ errors? .*out\/report\.json/);
    expect(run.summary).toContain('Data gate failed');
    expect(run.summary).toContain('mean radius');
    const report = JSON.parse(readFileSync(join(run.workspace, 'out/report.json'), 'utf8'));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.passed).toBe(false);
  });

  it('reports but does not fail with fail-on: never', async () => {
    const run = await runAction('validate-data', {
      inputs: { data: example.drifted, ...gateInputs, 'fail-on': 'never' },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.passed).toBe('true');
    expect(Number(run.outputs.errors)).toBeGreaterThan(0);
  });

  it('fails a warning-only run with fail-on: warning and passes it with fail-on: error', async () => {
    // The example holdout with its first row repeated: one duplicate-row warning, nothing else (the
    // example contract makes duplicate rows an error, so it is left out here).
    const { contract: _, ...inputs } = gateInputs;
    const dir = await temporaryDirectory();
    const data = join(dir, 'with-duplicate.csv');
    const lines = readFileSync(example.test, 'utf8').trimEnd().split('\n');
    await writeFile(data, `${[...lines, lines[1]].join('\n')}\n`);
    const warning = await runAction('validate-data', {
      inputs: { data, ...inputs, 'fail-on': 'warning' },
    });
    expect(warning.exitCode).toBe(1);
    expect(warning.outputs).toEqual({
      passed: 'false',
      'report-path': 'mlops-reports/data-validation.json',
      findings: '1',
      errors: '0',
      warnings: '1',
      'drifted-columns': '[]',
    });
    const annotations = warning.annotations.filter((a) => a.level !== 'notice');
    expect(annotations.some((a) => a.level === 'warning' && /repeat an earlier row/.test(a.message))).toBe(
      true,
    );
    const error = await runAction('validate-data', { inputs: { data, ...inputs, 'fail-on': 'error' } });
    expect(error.exitCode).toBe(0);
    expect(error.outputs).toMatchObject({ passed: 'true', findings: '1', errors: '0', warnings: '1' });
    // The default is error.
    const byDefault = await runAction('validate-data', { inputs: { data, ...inputs } });
    expect(byDefault.exitCode).toBe(0);
    expect(byDefault.outputs.passed).toBe('true');
  });

  it('turns bad input into one error naming the file and line, without a stack trace', async () => {
    const dir = await temporaryDirectory();
    const ragged = join(dir, 'ragged.csv');
    await writeFile(ragged, 'a,b,c\n1,2,3\n4,5\n');
    const cases: { inputs: Record<string, string>; file: string; line?: number; text: RegExp }[] = [
      { inputs: { data: join(dir, 'missing.csv') }, file: join(dir, 'missing.csv'), text: /not found/ },
      { inputs: { data: ragged }, file: ragged, line: 3, text: /2 fields.*header has 3/ },
      {
        inputs: { data: example.test, 'fail-on': 'sometimes' },
        file: '',
        text: /fail-on.*must be one of error, warning, never/,
      },
    ];
    const config = join(dir, 'mlops.yaml');
    await writeFile(config, `data:\n  data: ${example.test}\n  chekcs:\n    duplicates: error\n`);
    cases.push({
      inputs: { config },
      file: config,
      line: 3,
      text: /unknown key "data.chekcs".*Did you mean "checks"/,
    });
    for (const { inputs, file, line, text } of cases) {
      const run = await runAction('validate-data', { inputs });
      expect(run.exitCode, JSON.stringify(inputs)).toBe(1);
      const errors = run.annotations.filter((a) => a.level === 'error');
      expect(errors, run.stdout).toHaveLength(1);
      expect(errors[0].message).toMatch(text);
      expect(errors[0].title).toBe('Configuration error');
      if (file) expect(errors[0].file).toBe(file);
      if (line) expect(errors[0].line).toBe(line);
      expect(run.stdout + run.stderr).not.toMatch(/\n\s+at .+\.js:\d+/);
      expect(run.outputs.passed).toBeUndefined();
    }
  });

  it('starts fast: a tiny input is validated well within a second', async () => {
    const dir = await temporaryDirectory();
    const tiny = join(dir, 'tiny.csv');
    await writeFile(tiny, 'x,y\n1,a\n2,b\n');
    const run = await runAction('validate-data', { inputs: { data: tiny } });
    expect(run.exitCode).toBe(0);
    // Not a benchmark (see bench/), a guard against a bundle that loads something huge at start.
    expect(run.durationMs).toBeLessThan(5000);
  });
});
