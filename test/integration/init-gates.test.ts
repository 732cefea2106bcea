/**
 * The gates `mlops init` writes, sized to the holdout, give the same decision through the built CLI
 * and through the validate-model bundle run as the runner runs it (action.yml defaults applied):
 * the action's inputs that mlops.yaml also sets have no defaults of their own, so the config decides.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config/config.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const models = join(repoRoot, 'test/fixtures/models');

const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd });

describe('init-written gates on a small holdout', () => {
  it('decide the same through the CLI and the action bundle, with min-rows from the holdout', async () => {
    const repo = await temporaryDirectory();
    await mkdir(join(repo, 'data'));
    // iris: 104 training rows, a 45-row holdout (fewer than the old fixed min-rows of 50).
    await copyFile(join(models, 'iris-train.csv'), join(repo, 'data/train.csv'));
    await copyFile(join(models, 'iris-test.csv'), join(repo, 'data/test.csv'));
    const init = await mlops(repo, 'init', '--data', 'data/train.csv', '--target', 'class', '--name', 'iris');
    expect(init.code, init.stderr).toBe(0);
    const config = await loadConfig(join(repo, 'mlops.yaml'));
    expect(config.config.model).toMatchObject({ task: 'multiclass', 'min-rows': 45 });
    expect(config.config.model?.gates).toEqual([
      'balanced_accuracy >= 0.3334 @interval',
      'f1_macro >= baseline - 0.03 @noninferior',
      'log_loss <= baseline + 0.03 @noninferior',
    ]);
    const text = await readFile(join(repo, 'mlops.yaml'), 'utf8');
    expect(text).toContain('# above chance (1/3 for 3 classes), with the whole 95 % interval');
    expect(text).toContain('one row of the 45-row holdout moves it by 0.022');

    const model = join(models, 'sklearn-multiclass-zipmap.onnx');
    const viaCli = await mlops(
      repo,
      'validate-model',
      '--config',
      'mlops.yaml',
      '--model',
      model,
      '--baseline',
      model,
      '--report',
      'cli.json',
    );
    expect(viaCli.code, viaCli.stderr).toBe(0);
    const viaAction = await runAction('validate-model', {
      cwd: repo,
      inputs: { config: 'mlops.yaml', model, baseline: model, 'report-path': 'action.json' },
    });
    expect(viaAction.stderr).toBe('');
    expect(viaAction.exitCode).toBe(0);
    const cliReport = JSON.parse(await readFile(join(repo, 'cli.json'), 'utf8'));
    const actionReport = JSON.parse(await readFile(join(repo, 'action.json'), 'utf8'));
    for (const report of [cliReport, actionReport]) {
      expect(report.minRows).toMatchObject({ required: 45, rows: 45, passed: true });
      expect(report.passed).toBe(true);
      expect(report.onMissingBaseline).toBe('value-only');
      expect(report.bootstrap).toMatchObject({ resamples: 1000, seed: 0 });
    }
    const decisions = (report: { gates: { expression: string; status: string; resolution?: number }[] }) =>
      report.gates.map((gate) => [gate.expression, gate.status, gate.resolution]);
    expect(decisions(actionReport)).toEqual(decisions(cliReport));
    // Change gates state what the holdout can resolve.
    expect(cliReport.gates[1].resolution).toBeGreaterThanOrEqual(0);
  });
});
