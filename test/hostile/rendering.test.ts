/**
 * Hostile text in gate reports (issue #12, "the PR comment can be steered by data"): column names,
 * categories and class labels with backticks around a Markdown link, `@mentions`, HTML, GFM
 * autolinks (`www.`, `http://`, e-mail), `#123` references, table pipes, and a 70,000-character
 * name. Everything is rendered by the real renderers and then to HTML by micromark with its GFM
 * extension (CommonMark + GFM tables and autolink literals, the rules GitHub renders comments by);
 * GitHub's own mention and reference linking, which runs on the rendered text, is checked on the
 * text outside code. The same reports go through the report action bundle against the
 * OpenAPI-checked GitHub stand-in. A report that claims `passed: true` while listing errors is
 * shown and counted as failed.
 *
 * A new hostile name goes into `HOSTILE`: every check below runs on it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeMarkdown,
  MAX_NAME_LENGTH,
  renderCode,
  renderDetails,
  renderTable,
} from '../../src/core/markdown.ts';
import { type GateReport, nameGateChecks, readGateReports } from '../../src/core/report/gate-reports.ts';
import { type CheckAnnotation, renderGateCheckRun } from '../../src/core/report/render-check-run.ts';
import { renderDataReport } from '../../src/core/report/render-data-report.ts';
import { renderModelReport } from '../../src/core/report/render-model-report.ts';
import { COMMENT_LIMIT, renderPullRequestReport } from '../../src/core/report/render-pr-report.ts';
import { type GitHubApi, startGitHubApi } from '../harness/github-api.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const HUGE = 'n'.repeat(70_000);

/** Names a pull request's data could carry; each must render as itself and steer nothing. */
const HOSTILE: Record<string, string> = {
  'backticks around a link': 'tick` [link](https://evil.example) `x',
  'double backticks': '``a`` ![img](https://evil.example/i.png)',
  mention: '@octocat',
  'mention after text': 'ping @octo-org/admins now',
  html: '<img src=x onerror=alert(1)><script>alert(2)</script>',
  autolinks: 'www.evil.example http://evil.example/x https://evil.example mail@evil.example',
  'angle autolink': '<https://evil.example>',
  'issue references': '#1 and owner/repo#2',
  pipes: 'a|b\\|c',
  'entities and escapes': '&lt;b&gt; \\[x\\](y) *bold* _em_ ~~gone~~ $x$',
  'leading markers': '# heading',
  'line breaks': 'one\ntwo\r\n- three',
  'starts and ends with backticks': '`x`',
  'spaces around': ' padded ',
};

/** GitHub-flavoured HTML of some Markdown, raw HTML kept (as GitHub keeps what it allows). */
function toHtml(markdown: string): string {
  return micromark(markdown, {
    allowDangerousHtml: true,
    extensions: [gfm()],
    htmlExtensions: [gfmHtml()],
  });
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The text a reader sees outside code (where GitHub links mentions and references). */
function textOutsideCode(html: string): string {
  return decodeEntities(html.replace(/<code[^>]*>[\s\S]*?<\/code>/g, ' ').replace(/<[^>]+>/g, ' '));
}

/**
 * What must hold for any Markdown we render from hostile reports: no link but the ones we put
 * there, no image or raw HTML from the data, no mention or issue reference GitHub would link.
 */
function expectInert(markdown: string, allowedLinks: readonly string[] = []): void {
  const html = toHtml(markdown);
  const links = [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((match) => decodeEntities(match[1]));
  expect(links.filter((href) => !allowedLinks.includes(href))).toEqual([]);
  expect(html).not.toMatch(/<(img|script|iframe)\b|<[^>]*\sonerror=/i);
  const text = textOutsideCode(html);
  // GitHub links @name after a non-word character, and #123 references; a joiner after @ or # breaks both.
  expect(text).not.toMatch(/(^|[^\w])@[A-Za-z0-9]/);
  expect(text).not.toMatch(/(^|[^\w&])#\d/);
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/reports', `${name}.json`), 'utf8'));
}

interface DataReportJson {
  findings: { column?: string; message: string; severity: string }[];
  drift: { columns: { column: string }[] };
  profile: { columns: { name: string }[] };
}

interface ModelReportJson {
  confusionMatrix: { classes: (string | number)[] };
  perClass: { class: string | number }[];
  output: { classes: (string | number)[] };
}

const names = Object.values(HOSTILE);

/**
 * The failed data report with hostile column names: findings (each message quoting its column,
 * as the gate writes them), drift and profile columns, and the 70,000-character name on the
 * worst finding. The other findings keep their messages, so their presence can be checked.
 */
function hostileDataReport(): Record<string, unknown> {
  const json = fixture('data-failed') as unknown as DataReportJson & Record<string, unknown>;
  const [worst, ...rest] = json.findings;
  worst.column = HUGE;
  worst.message = `Column "${HUGE}": 18 values above the maximum 7.49.`;
  json.findings = [
    worst,
    ...names.map((name) => ({
      ...rest[0],
      column: name,
      message: `Column "${name}": 3 missing values, but the column is not nullable.`,
    })),
    ...rest,
  ];
  json.drift.columns.forEach((column, index) => {
    column.column = names[index % names.length];
  });
  json.profile.columns.forEach((column, index) => {
    column.name = names[(index + 3) % names.length];
  });
  return json;
}

/** The failed model report with hostile class labels (the two classes of a binary model). */
function hostileModelReport(): Record<string, unknown> {
  const json = fixture('model-failed') as unknown as ModelReportJson & Record<string, unknown>;
  const labels = [HOSTILE['backticks around a link'], HOSTILE.mention];
  json.confusionMatrix.classes = labels;
  json.output.classes = labels;
  json.perClass.forEach((entry, index) => {
    entry.class = labels[index];
  });
  return json;
}

async function readHostileReports(): Promise<{ dir: string; reports: GateReport[] }> {
  const dir = await temporaryDirectory('mlops-hostile-render-');
  await mkdir(join(dir, 'mlops-reports'));
  await writeFile(join(dir, 'mlops-reports/data-validation.json'), JSON.stringify(hostileDataReport()));
  await writeFile(join(dir, 'mlops-reports/model-validation.json'), JSON.stringify(hostileModelReport()));
  const reports = await readGateReports(
    ['mlops-reports/data-validation.json', 'mlops-reports/model-validation.json'],
    dir,
  );
  return { dir, reports };
}

describe.each(Object.entries(HOSTILE))('the name "%s"', (_label, name) => {
  const shown = name.replace(/\r\n?|\n/g, ' ');

  it('renders as itself in inline code, in text and in a table cell, and steers nothing', () => {
    const code = toHtml(`x ${renderCode(name, false)}`);
    expect(decodeEntities(/<code>([\s\S]*)<\/code>/.exec(code)?.[1] ?? '')).toBe(shown);
    expectInert(`x ${renderCode(name, false)}`);

    const text = toHtml(`x ${escapeMarkdown(name)}`);
    expect(textOutsideCode(text).replaceAll('\u200D', '').trim()).toBe(`x ${shown}`.trim());
    expectInert(`x ${escapeMarkdown(name)}`);

    const table = renderTable(['name', 'text'], [[renderCode(name), escapeMarkdown(name)]], true);
    const html = toHtml(table);
    const cells = [...html.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((match) => match[1]);
    // One row, two cells: a pipe in the name did not split the row.
    expect(cells).toHaveLength(2);
    expect(decodeEntities(cells[0].replace(/^<code>|<\/code>$/g, '')).replaceAll('\u200D', '')).toBe(shown);
    expect(decodeEntities(cells[1]).replaceAll('\u200D', '').trim()).toBe(shown.trim());
    expectInert(table);

    expectInert(renderDetails(name, 'body'));
  });
});

describe('hostile reports through the renderers', () => {
  let reports: GateReport[];
  beforeAll(async () => {
    ({ reports } = await readHostileReports());
  });

  it('keep every finding in the PR comment, the long name cut, under GitHub’s limit, steering nothing', () => {
    const markdown = renderPullRequestReport(reports, {
      title: 'CI @octocat',
      names: nameGateChecks(reports),
      runUrl: 'https://github.com/octo-org/mlops-demo/actions/runs/7',
    });
    expect(markdown.length).toBeLessThan(COMMENT_LIMIT);
    expectInert(markdown, ['https://github.com/octo-org/mlops-demo/actions/runs/7']);
    // The long name is cut to the documented limit, with its length.
    expect(markdown).toContain(`${'n'.repeat(MAX_NAME_LENGTH)}… (70,000 characters)`);
    expect(markdown).not.toContain('n'.repeat(MAX_NAME_LENGTH + 1));
    // Nothing was left out to make room: the other findings and both gates' sections are there.
    expect(markdown).not.toContain('✂️');
    expect(markdown).toContain('3 missing values, but the column is not nullable');
    expect(markdown).toContain('### ❌ mlops / data: data gate');
    expect(markdown).toContain('### ❌ mlops / model: model gate');
    const html = toHtml(markdown);
    for (const name of names) {
      // Each name is in the findings table as itself: the HTML of a cell holding just that name.
      const cell = /<td>([\s\S]*?)<\/td>/.exec(
        toHtml(renderTable(['column'], [[renderCode(name)]], true)),
      )?.[1];
      expect(cell).toBeDefined();
      expect(html).toContain(`<td>${cell}</td>`);
    }
  });

  it('keep the job summaries and check runs inert too', () => {
    const [data, model] = reports;
    if (data.kind !== 'data-validation' || model.kind !== 'model-validation') throw new Error('order');
    for (const markdown of [
      renderDataReport(data.report, data.file),
      renderModelReport(model.report, model.file),
      renderGateCheckRun(data, 'mlops / data').summary,
      renderGateCheckRun(model, 'mlops / model').summary,
    ]) {
      expectInert(markdown);
      expect(markdown).not.toContain('n'.repeat(MAX_NAME_LENGTH + 1));
    }
    const labels = toHtml(renderModelReport(model.report));
    expect(labels).toContain('<code>tick` [link](https://evil.example) `x</code>');
    expect(labels).toContain('<code>@octocat</code>');
  });
});

describe('hostile reports through the report action (bundle)', () => {
  const REPOSITORY = 'octo-org/mlops-demo';
  let github: GitHubApi;
  beforeAll(async () => {
    github = await startGitHubApi({ repositories: [REPOSITORY] });
  });
  afterAll(async () => {
    await github?.stop();
  });

  async function runReport(cwd: string) {
    const head = '2'.repeat(40);
    const pr = github.state.addPullRequest(REPOSITORY, { head: 'feature/hostile', headSha: head });
    const run = await runAction('report', {
      cwd,
      event: { pull_request: { number: pr.number, head: { sha: head, ref: 'feature/hostile' } } },
      eventName: 'pull_request',
      githubToken: github.token,
      env: { GITHUB_API_URL: github.baseUrl, GITHUB_SHA: 'f'.repeat(40) },
    });
    const comments = github.state.comments.filter((c) => c.issueNumber === pr.number);
    const checkRuns = github.state.checkRuns.filter((r) => r.headSha === head);
    return { run, comments, checkRuns };
  }

  it('posts a comment and check runs in which nothing links, pings or disappears', async () => {
    const { dir } = await readHostileReports();
    const { run, comments, checkRuns } = await runReport(dir);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(comments).toHaveLength(1);
    const body = comments[0].body;
    expect(body.length).toBeLessThan(COMMENT_LIMIT);
    expectInert(body, [`https://github.com/${REPOSITORY}/actions/runs/1000000001`]);
    expect(body).toContain('3 missing values, but the column is not nullable');
    expect(body).toContain('… (70,000 characters)');
    expectInert(run.summary, [`https://github.com/${REPOSITORY}/actions/runs/1000000001`]);
    expect(checkRuns.map((r) => r.conclusion).sort()).toEqual(['failure', 'failure']);
    for (const checkRun of checkRuns) {
      expectInert(checkRun.output.summary ?? '');
      for (const annotation of checkRun.output.annotations as CheckAnnotation[]) {
        expect(annotation.title?.length ?? 0).toBeLessThanOrEqual(255);
        expect(annotation.message.length).toBeLessThan(2_000);
      }
    }
    expect(github.violations).toEqual([]);
  });

  it('treats a report that says passed but lists errors as failed, and says it is inconsistent', async () => {
    const dir = await temporaryDirectory('mlops-hostile-render-');
    await mkdir(join(dir, 'mlops-reports'));
    const forged = { ...fixture('data-failed'), passed: true };
    await writeFile(join(dir, 'mlops-reports/data-validation.json'), JSON.stringify(forged));
    const model = fixture('model-failed');
    await writeFile(
      join(dir, 'mlops-reports/model-validation.json'),
      JSON.stringify({ ...model, passed: true }),
    );
    const { run, comments, checkRuns } = await runReport(dir);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.passed).toBe('false');
    expect(checkRuns.map((r) => [r.name, r.conclusion]).sort()).toEqual([
      ['mlops / data', 'failure'],
      ['mlops / model', 'failure'],
    ]);
    const body = comments[0].body;
    expect(body).toContain('## ❌ CI: 2 of 2 gates failed');
    expect(body).toMatch(
      /Inconsistent report: mlops-reports\/data-validation\.json says it passed but lists 3 findings at or above fail-on: error/,
    );
    expect(body).toMatch(
      /Inconsistent report: mlops-reports\/model-validation\.json says it passed but lists 1 failed gate/,
    );
    const data = checkRuns.find((r) => r.name === 'mlops / data');
    expect(data?.output.title).toMatch(/^Failed: inconsistent report/);
    expect(run.annotations.filter((a) => a.level === 'warning').map((a) => a.title)).toEqual([
      'mlops report: inconsistent report',
      'mlops report: inconsistent report',
    ]);
  });
});
