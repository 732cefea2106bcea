/**
 * The pull-request report and the check runs, rendered from real gate reports
 * (test/fixtures/reports, made by make-reports.js there with the built CLI).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { fitMarkdown, truncateMarkdown } from '../../src/core/markdown.ts';
import {
  findReportFiles,
  type GateReport,
  nameGateChecks,
  readGateReports,
} from '../../src/core/report/gate-reports.ts';
import {
  annotateFindings,
  concludeGate,
  renderGateCheckRun,
} from '../../src/core/report/render-check-run.ts';
import { renderMetricBars } from '../../src/core/report/render-model-report.ts';
import {
  allGatesPassed,
  COMMENT_LIMIT,
  commentMarker,
  renderPullRequestReport,
} from '../../src/core/report/render-pr-report.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const dir = 'test/fixtures/reports';

async function load(...names: string[]): Promise<GateReport[]> {
  return readGateReports(
    names.map((name) => `${dir}/${name}.json`),
    repoRoot,
  );
}

function fixture(name: string) {
  return JSON.parse(readFileSync(join(repoRoot, dir, `${name}.json`), 'utf8'));
}

/** Every `<details>` closed and every code fence closed, so GitHub renders the rest normally. */
function expectBalanced(markdown: string) {
  expect((markdown.match(/<details>/g) ?? []).length).toBe((markdown.match(/<\/details>/g) ?? []).length);
  expect((markdown.match(/^```/gm) ?? []).length % 2).toBe(0);
}

describe('the pull-request report', () => {
  it('starts with the marker and the verdict of every gate, worst findings first', async () => {
    const reports = await load('data-failed', 'model-failed');
    const markdown = renderPullRequestReport(reports, { title: 'CI', names: nameGateChecks(reports) });
    expect(markdown.startsWith(`${commentMarker('CI')}\n## ❌ CI: 2 of 2 gates failed`)).toBe(true);
    expect(markdown).toContain(
      '| **mlops / data** | ❌ failed | 3 errors, 1 warning; 1 of 4 columns drifted in 46 rows |',
    );
    expect(markdown).toContain('| **mlops / model** | ❌ failed | 1 of 2 gates failed |');
    const worst = markdown.slice(markdown.indexOf('**Worst findings**'), markdown.indexOf('### '));
    const items = worst.split('\n').filter((line) => line.startsWith('- '));
    // Errors of both gates before the data gate's warning.
    expect(items.map((line) => line.split(' ')[1])).toEqual(['❌', '❌', '❌', '❌', '⚠️']);
    expect(worst).toContain('`log_loss <= baseline + 5%`: log_loss rose by 48.07%');
    expect(worst).toContain('(lines 2, 8, 10, 13, 17, …)');
    expect(allGatesPassed(reports)).toBe(false);
    expectBalanced(markdown);
  });

  it('shows candidate vs baseline with deltas and intervals, drift per column and charts', async () => {
    const reports = await load('data-failed', 'model-passed');
    const markdown = renderPullRequestReport(reports, {
      title: 'CI',
      names: nameGateChecks(reports),
      commit: '0123456789abcdef',
      runUrl: 'https://github.com/octo-org/mlops-demo/actions/runs/7',
    });
    expect(markdown).toContain('**Metrics: candidate vs baseline**');
    expect(markdown).toMatch(
      /\| `roc_auc` ↑ \| 0\.9954 \[0\.9821, 1\] \| 0\.9907 \| \+0\.00463 \[-0\.004638, \+0\.01653\] \| ▲ better \|/,
    );
    expect(markdown).toContain(
      '#### Drift against test/fixtures/models/iris-train.csv: 1 of 4 columns drifted',
    );
    expect(markdown).toContain(
      '| `petal length (cm)` | kolmogorov-smirnov | 0.5828 | 1.102e-10 | 4.410e-10 | 0.5828 (0.1) | **drifted** |',
    );
    expect(markdown.match(/```mermaid\n%%\{init: .*\}%%\nxychart-beta/g)).toHaveLength(2);
    expect(markdown).toContain('| true \\ predicted | `0` | `1` |');
    expect(markdown).toContain('<details><summary>Data and models</summary>');
    expect(markdown).toContain('`0123456789ab`');
    expect(markdown).toContain('[workflow run](https://github.com/octo-org/mlops-demo/actions/runs/7)');
    expectBalanced(markdown);
  });

  it('says when every gate passed', async () => {
    const reports = await load('data-passed', 'model-passed');
    const markdown = renderPullRequestReport(reports, { title: 'CI', names: nameGateChecks(reports) });
    expect(markdown).toContain('## ✅ CI: all 2 gates passed');
    expect(markdown).not.toContain('**Worst findings**');
    expect(allGatesPassed(reports)).toBe(true);
  });

  it('stays under the size limit: details go first, the verdicts stay, and it says so', async () => {
    const reports = await load('data-failed', 'model-failed', 'model-passed');
    const names = nameGateChecks(reports);
    const whole = renderPullRequestReport(reports, { title: 'CI', names });
    expect(whole.length).toBeLessThan(COMMENT_LIMIT);
    for (const limit of [12_000, 6_000, 2_500]) {
      const cut = renderPullRequestReport(reports, { title: 'CI', names, limit });
      expect(cut.length).toBeLessThanOrEqual(limit);
      expect(cut.startsWith(`${commentMarker('CI')}\n## ❌ CI: 2 of 3 gates failed`)).toBe(true);
      expect(cut).toContain('✂️');
      expectBalanced(cut);
    }
    // Lots of findings (a badly broken file) still fit GitHub's limit.
    const data = reports[0] as Extract<GateReport, { kind: 'data-validation' }>;
    const finding = data.report.findings[0];
    const huge: GateReport = {
      ...data,
      report: {
        ...data.report,
        findings: Array.from({ length: 3000 }, (_, i) => ({ ...finding, column: `column ${i}` })),
      },
    };
    const big = renderPullRequestReport([huge], { title: 'CI', names: ['mlops / data'] });
    expect(big.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(big).toContain('✂️');
    expectBalanced(big);
  });

  it('keys the marker on the title, so that each workflow has its own comment', () => {
    expect(commentMarker('CI')).toBe('<!-- mlops-actions:report title="CI" -->');
    expect(commentMarker('CI')).not.toBe(commentMarker('Nightly'));
    // Nothing in a title can end the HTML comment early.
    expect(commentMarker('a --> b "c"')).toBe('<!-- mlops-actions:report title="a %2D%2D%3E b %22c%22" -->');
  });
});

describe('truncating Markdown', () => {
  it('cuts at a line, closes what the cut left open, and leaves short text alone', () => {
    const text = `intro\n\n<details><summary>x</summary>\n\n\`\`\`mermaid\n${'line\n'.repeat(200)}\`\`\`\n\n</details>\n`;
    expect(truncateMarkdown('short', 100, 'hint')).toBe('short');
    const cut = truncateMarkdown(text, 400, 'See the report.');
    expect(cut.length).toBeLessThanOrEqual(400);
    expect(cut).toMatch(/line\n```\n\n<\/details>\n\n> ✂️ Truncated .* See the report\.\n$/);
  });

  it('drops the most droppable blocks, last first, before cutting', () => {
    const blocks = [
      { text: 'keep' },
      { text: 'a'.repeat(50), drop: 1 },
      { text: 'b'.repeat(50), drop: 2 },
      { text: 'c'.repeat(50), drop: 1 },
    ];
    const fitted = fitMarkdown(blocks, 120, 'left out');
    expect(fitted).toBe(`keep\n\n${'a'.repeat(50)}\n\n> ✂️ left out\n`);
  });
});

describe('check runs', () => {
  it('concludes, titles and annotates each gate', async () => {
    const [data, failedModel, passedModel] = await load('data-failed', 'model-failed', 'model-passed');
    const run = renderGateCheckRun(data, 'mlops / data', repoRoot);
    expect(run).toMatchObject({
      name: 'mlops / data',
      conclusion: 'failure',
      title: 'Failed: 3 errors, 1 warning; 1 of 4 columns drifted in 46 rows',
    });
    expect(run.summary.startsWith('## ❌ Data gate failed')).toBe(true);
    // One per example line of the findings with lines (10 + 3 + 1); the first of each finding
    // lists the others; the drift finding has no line and no annotation.
    expect(run.annotations).toHaveLength(14);
    expect(run.annotations.slice(0, 3).map((a) => [a.start_line, a.annotation_level])).toEqual([
      [2, 'failure'],
      [6, 'failure'],
      [47, 'warning'],
    ]);
    expect(run.annotations[0].message).toMatch(/\(lines 2, 8, 10, 13, 17, 18, 21, 22, 25, 27\)$/);
    expect(renderGateCheckRun(failedModel, 'mlops / model')).toMatchObject({
      conclusion: 'failure',
      title: 'Failed: 1 of 2 gates failed',
      annotations: [],
    });
    expect(renderGateCheckRun(passedModel, 'mlops / model')).toMatchObject({
      conclusion: 'success',
      title: 'Passed: 2 of 2 gates passed',
    });
  });

  it('is neutral when the model gate skipped every gate', async () => {
    const [model] = await load('model-passed');
    const skipped = {
      ...model,
      report: {
        ...model.report,
        gates: (model.report as { gates: object[] }).gates.map((g) => ({
          ...g,
          status: 'skipped',
          passed: null,
        })),
      },
    } as GateReport;
    expect(concludeGate(skipped)).toBe('neutral');
    expect(renderGateCheckRun(skipped, 'mlops / model').title).toMatch(/^Skipped: every gate was skipped/);
  });

  it('caps annotations at 50 and makes paths relative to the repository', () => {
    const finding = {
      check: 'contract' as const,
      severity: 'error' as const,
      message: 'bad',
      count: 10,
      lines: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    };
    const findings = [
      ...Array.from({ length: 8 }, (_, i) => ({ ...finding, file: `/work/repo/data/part-${i}.csv` })),
      { ...finding, file: '/elsewhere/outside.csv' },
      { ...finding, file: './data/relative.csv', severity: 'warning' as const },
    ];
    const annotations = annotateFindings(findings, '/work/repo');
    expect(annotations).toHaveLength(50);
    // The first line of every finding before the second lines of any.
    expect(annotations.slice(0, 9).map((a) => a.path)).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `data/part-${i}.csv`),
      'data/relative.csv',
    ]);
    expect(annotations.some((a) => a.path.includes('outside'))).toBe(false);
  });

  it('names checks by gate, with the file name when a gate has several reports', async () => {
    const reports = await load('data-passed', 'model-passed', 'model-failed');
    expect(nameGateChecks(reports)).toEqual([
      'mlops / data',
      'mlops / model (model-passed)',
      'mlops / model (model-failed)',
    ]);
    // The same file name in two folders: the paths keep the names apart.
    const [, model] = reports;
    const twins = [
      { ...model, file: join('reports', 'eu', 'model-validation.json') },
      { ...model, file: join('reports', 'us', 'model-validation.json') },
    ];
    expect(nameGateChecks(twins)).toEqual([
      'mlops / model (reports/eu/model-validation)',
      'mlops / model (reports/us/model-validation)',
    ]);
  });
});

describe('metric bars', () => {
  it('draws candidate and baseline as bars side by side, abbreviated, on a zoomed axis', () => {
    const chart = renderMetricBars(fixture('model-passed'));
    const lines = chart.split('\n');
    expect(lines[0]).toBe('```mermaid');
    expect(lines[1]).toMatch(
      /^%%\{init: \{"themeVariables":\{"xyChart":\{"plotColorPalette":"#1f6feb, #c4620e"/,
    );
    expect(lines[2]).toBe('xychart-beta');
    const list = (prefix: string) =>
      JSON.parse(
        (lines.find((line) => line.trimStart().startsWith(prefix)) ?? '').trim().slice(prefix.length - 1),
      );
    // The gated metric first; per metric a candidate slot, a baseline slot and a gap (not after the last).
    const slots = list('x-axis [') as string[];
    const visible = slots.filter((label) => label.replaceAll('\u200b', '') !== '');
    expect(visible).toEqual(['AUC', 'AP', 'Acc', 'BalAcc', 'Prec', 'Rec']);
    expect(slots).toHaveLength(visible.length * 3 - 1);
    expect(new Set(slots).size).toBe(slots.length);
    const [candidate, baseline] = lines
      .filter((line) => line.trimStart().startsWith('bar ['))
      .map((line) => JSON.parse(line.trim().slice('bar '.length)) as number[]);
    expect(candidate).toHaveLength(slots.length);
    expect(baseline).toHaveLength(slots.length);
    expect(lines.some((line) => line.trimStart().startsWith('line ['))).toBe(false);
    const report = fixture('model-passed');
    expect(candidate[0]).toBeCloseTo(report.metrics.roc_auc.value, 5);
    expect(baseline[1]).toBeCloseTo(report.baselineMetrics.roc_auc.value, 5);
    // Zoomed: the axis starts at 0.9, the title says so, and the hidden slots lie below it.
    expect(chart).toContain('  y-axis "score, higher is better" 0.9 --> 1');
    expect(chart).toContain('  title "Candidate (blue) vs baseline (orange), y axis from 0.9"');
    expect(candidate[1]).toBeLessThan(0.9);
    expect(baseline[0]).toBeLessThan(0.9);
    // The legend line spells out the abbreviations.
    expect(chart).toContain('The y axis starts at 0.9, not 0');
    expect(chart).toContain('AUC = `roc_auc`, AP = `average_precision`');
  });

  it('draws regression errors (lower is better) and nothing when no metric fits', () => {
    const report = fixture('model-passed');
    const regression = {
      ...report,
      task: 'regression',
      metrics: { rmse: { value: 59.5 }, mae: { value: 46.7 }, r2: { value: 0.41 } },
      baselineMetrics: { rmse: { value: 56.4 }, mae: { value: 45.1 }, r2: { value: 0.45 } },
      gates: [],
    };
    const chart = renderMetricBars(regression);
    expect(chart).toContain('x-axis ["RMSE", ');
    expect(chart).toContain('y-axis "error (target units), lower is better" 30 --> 70');
    expect(renderMetricBars({ ...regression, metrics: { r2: { value: 0.41 } } })).toBe('');
  });
});

describe('reading reports', () => {
  it('refuses files that are not gate reports of a known version, naming them', async () => {
    const folder = await temporaryDirectory();
    const { writeFile } = await import('node:fs/promises');
    const cases: [string, string, RegExp][] = [
      [
        'profile.json',
        JSON.stringify({ kind: 'data-profile' }),
        /profile\.json is not a gate report: its kind is "data-profile"/,
      ],
      [
        'v3.json',
        JSON.stringify({ ...fixture('model-passed'), version: 3 }),
        /v3\.json is a model-validation report of version 3; this version of mlops-actions reads versions 1 and 2/,
      ],
      ['broken.json', '{"kind":', /broken\.json is not JSON/],
      [
        'invalid.json',
        JSON.stringify({ ...fixture('data-passed'), passed: 'yes' }),
        /invalid\.json does not match the data-validation report schema \(version 2\) at \/passed/,
      ],
    ];
    for (const [name, text, message] of cases) {
      await writeFile(join(folder, name), text);
      const error = await readGateReports([name], folder).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(message);
      expect((error as InputError).location.file).toBe(name);
    }
    await expect(readGateReports(['missing.json'], folder)).rejects.toThrow(
      /Report missing\.json cannot be read \(ENOENT\)/,
    );
    await expect(findReportFiles(['nothing/*.json'], folder)).rejects.toThrow(
      /No file matches "nothing\/\*\.json"/,
    );
  });

  it('reads version-1 reports (earlier runs, deployed packages) upgraded to the current shape', async () => {
    const [data, model] = await readGateReports(
      [`${dir}/v1/data-failed.json`, `${dir}/v1/model-passed.json`],
      repoRoot,
    );
    expect(data.report.version).toBe(2);
    if (data.kind !== 'data-validation') throw new Error('data report expected');
    const drift = data.report.drift!;
    expect(drift).toMatchObject({ correction: 'none', level: 0.05 });
    const petal = drift.columns.find((c) => c.column === 'petal length (cm)')!;
    expect(petal).toMatchObject({
      decision: 'drifted',
      drifted: true,
      effectSize: { measure: 'ks-statistic' },
    });
    expect(petal.rule).toBe('version 1 report: p-value below 0.05, not adjusted across columns');
    expect(drift.columns.find((c) => c.column === 'sepal length (cm)')!.decision).toBe('stable');
    expect(model.report.version).toBe(2);
    const markdown = renderPullRequestReport([data, model], {
      title: 'CI',
      names: nameGateChecks([data, model]),
    });
    expect(markdown).toContain(
      '| `petal length (cm)` | kolmogorov-smirnov | 0.5828 | 1.102e-10 |  | 0.5828 (0) | **drifted** |',
    );
  });

  it('expands globs sorted and without duplicates', async () => {
    const files = await findReportFiles([`${dir}/model-*.json`, `${dir}/model-failed.json`], repoRoot);
    expect(files).toEqual([`${dir}/model-failed.json`, `${dir}/model-passed.json`]);
  });
});
