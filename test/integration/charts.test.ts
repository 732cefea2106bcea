/**
 * The Mermaid charts of the reports, rendered by mermaid (npm) in Debian's headless Chromium as
 * GitHub renders them: the light theme on #ffffff and the dark theme on #0d1117. For a binary, a
 * multiclass and a regression report, every Mermaid block of the PR comment and of the job
 * summary must render without error, draw its series in the palette's colours (each ≥ 3:1
 * against the page), zoom the bar charts' y axis (tick values) and keep the x-axis labels apart
 * (bounding boxes). Screenshots go to $CHARTS_SCREENSHOTS (default: a folder in the system's
 * temporary directory) for people to look at.
 *
 * Chromium comes from Debian (`apt-get install -y chromium`; the README's test command and
 * .ci/run install it). Without it the suite is skipped with the reason, except under CI=true,
 * where it fails saying what to install.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGateExpression } from '../../src/core/model/gates.ts';
import { type ModelValidationReport, validateModel } from '../../src/core/model/validate-model.ts';
import {
  CHART_COLORS,
  contrastRatio,
  GITHUB_BACKGROUNDS,
  MIN_GRAPHICS_CONTRAST,
} from '../../src/core/report/charts.ts';
import type { GateReport } from '../../src/core/report/gate-reports.ts';
import { renderModelReport } from '../../src/core/report/render-model-report.ts';
import { renderPullRequestReport } from '../../src/core/report/render-pr-report.ts';
import { repoRoot } from '../harness/run-action.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const missing = `Debian's Chromium is not at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (the README's test command and .ci/run do).`;
if (!haveChromium && !inCi) console.warn(`Skipping the chart rendering tests. ${missing}`);

const screenshots = process.env.CHARTS_SCREENSHOTS ?? join(tmpdir(), 'mlops-actions-charts');
const mermaidDist = join(repoRoot, 'node_modules/mermaid/dist');
const models = join(repoRoot, 'test/fixtures/models');
const silent = { info() {}, warning() {}, debug() {} };

/** GitHub's two page themes, and the Mermaid theme GitHub draws with on each. */
const THEMES = [
  { name: 'light', background: GITHUB_BACKGROUNDS.light, mermaid: 'default' },
  { name: 'dark', background: GITHUB_BACKGROUNDS.dark, mermaid: 'dark' },
] as const;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>charts</title>
<style>
  body { margin: 0; padding: 16px; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
  #chart { width: 760px; }
  #chart svg { display: block; }
</style></head>
<body><div id="chart"></div>
<script type="module">
  import mermaid from '/mermaid/mermaid.esm.min.mjs';
  let count = 0;
  window.renderChart = async (code, theme, background) => {
    document.body.style.background = background;
    const target = document.getElementById('chart');
    target.innerHTML = '';
    mermaid.initialize({ startOnLoad: false, theme, securityLevel: 'strict' });
    try {
      const { svg } = await mermaid.render('chart' + ++count, code);
      target.innerHTML = svg;
    } catch (error) {
      return { error: String(error && error.message ? error.message : error) };
    }
    const box = (element) => {
      const r = element.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const svg = target.querySelector('svg');
    const style = (element) => getComputedStyle(element);
    const plots = (kind) =>
      [...svg.querySelectorAll('g[class^="' + kind + '-plot-"]')].map((group) => {
        const index = Number(group.getAttribute('class').split('-').pop());
        const shapes = [...group.querySelectorAll(kind === 'line' ? 'path' : 'rect')];
        return {
          index,
          colours: [...new Set(shapes.map((s) => kind === 'line' ? style(s).stroke : style(s).fill))],
          dash: shapes.map((s) => style(s).strokeDasharray)[0],
          width: shapes.map((s) => Number.parseFloat(style(s).strokeWidth))[0],
        };
      });
    const texts = (selector) => [...svg.querySelectorAll(selector)].map((t) => ({ text: t.textContent, box: box(t) }));
    const backdrop = svg.querySelector('rect.background');
    return {
      error: svg.textContent.includes('Syntax error') ? svg.textContent : undefined,
      lines: plots('line'),
      bars: plots('bar'),
      background: backdrop ? style(backdrop).fill : undefined,
      title: svg.querySelector('.chart-title text')?.textContent,
      yTicks: texts('.left-axis .label text').map((t) => t.text),
      xLabels: texts('.bottom-axis .label text'),
    };
  };
  window.ready = true;
</script></body></html>`;

interface Rendered {
  error?: string;
  lines: { index: number; colours: string[]; dash: string; width: number }[];
  bars: { index: number; colours: string[] }[];
  background?: string;
  title?: string;
  yTicks: string[];
  xLabels: { text: string; box: { x: number; y: number; width: number; height: number } }[];
}

/** The page on loopback: the test page, and mermaid's files from node_modules. */
async function serve(): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const file = normalize(join(mermaidDist, path.replace(/^\/mermaid\//, '')));
    if (!path.startsWith('/mermaid/') || !file.startsWith(mermaidDist + sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const type =
        extname(file) === '.mjs' || extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream';
      response.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** `#rrggbb` from the `rgb(r, g, b)` a computed style gives. */
function toHex(colour: string): string {
  const match = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(colour);
  if (!match) return colour.toLowerCase();
  return `#${match
    .slice(1, 4)
    .map((part) => Number(part).toString(16).padStart(2, '0'))
    .join('')}`;
}

function intersects(a: Rendered['xLabels'][number]['box'], b: Rendered['xLabels'][number]['box']): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((match) => match[1]);
}

async function evaluate(
  model: string,
  data: string,
  target: string,
  gates: string[],
  baseline?: string,
): Promise<ModelValidationReport> {
  return validateModel(
    {
      model: join(models, model),
      baseline: baseline ? join(models, baseline) : undefined,
      data: join(models, data),
      target,
      gates: gates.map(parseGateExpression),
      bootstrap: { resamples: 200 },
      latency: false,
      minRows: 10,
    },
    silent,
  );
}

/** Every Mermaid block the PR comment and the job summary of one report hold, each once. */
function chartsOf(name: string, report: ModelValidationReport): { name: string; code: string }[] {
  const entry = { kind: 'model-validation', gate: 'model', file: `${name}.json`, report } as GateReport;
  const comment = renderPullRequestReport([entry], { title: 'CI', names: ['mlops / model'] });
  const summary = renderModelReport(report);
  const blocks = [...new Set([...mermaidBlocks(comment), ...mermaidBlocks(summary)])];
  return blocks.map((code) => ({
    name: `${name}-${code.includes('ROC curve') ? 'roc' : 'bars'}`,
    code,
  }));
}

describe.skipIf(!haveChromium && !inCi)('charts in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  const charts: { name: string; code: string; report: ModelValidationReport }[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(missing);
    await mkdir(screenshots, { recursive: true });
    const binary = JSON.parse(
      await readFile(join(repoRoot, 'test/fixtures/reports/model-passed.json'), 'utf8'),
    ) as ModelValidationReport;
    const multiclass = await evaluate('sklearn-multiclass-zipmap.onnx', 'iris-test.csv', 'class', [
      'accuracy >= 0.9',
      'f1_macro >= 0.9',
    ]);
    const regression = await evaluate(
      'sklearn-gbr.onnx',
      'diabetes-test.csv',
      'progression',
      ['rmse <= 60', 'mae <= baseline * 1.1'],
      'sklearn-linear-regression.onnx',
    );
    for (const [name, report] of [
      ['binary', binary],
      ['multiclass', multiclass],
      ['regression', regression],
    ] as const) {
      for (const chart of chartsOf(name, report)) charts.push({ ...chart, report });
    }
    server = await serve();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('requestfailed', (request) => problems.push(`${request.url()}: ${request.failure()?.errorText}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page
      .waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true, undefined, {
        timeout: 30_000,
      })
      .catch((error: Error) => {
        throw new Error(`The chart page did not load mermaid: ${[error.message, ...problems].join('; ')}`);
      });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((resolve) => server.close(resolve));
  });

  it('finds the charts of each task: bars for all three, the ROC curve for binary', () => {
    expect(charts.map((c) => c.name).sort()).toEqual([
      'binary-bars',
      'binary-roc',
      'multiclass-bars',
      'regression-bars',
    ]);
  });

  for (const theme of THEMES) {
    it(`renders every chart readably on GitHub's ${theme.name} background`, async () => {
      for (const chart of charts) {
        const where = `${chart.name} (${theme.name})`;
        const rendered = (await page.evaluate(
          ([code, mermaidTheme, background]) =>
            (
              globalThis as unknown as { renderChart: (c: string, t: string, b: string) => Promise<unknown> }
            ).renderChart(code, mermaidTheme, background),
          [chart.code, theme.mermaid, theme.background] as const,
        )) as Rendered;
        await page
          .locator('#chart')
          .screenshot({ path: join(screenshots, `${chart.name}-${theme.name}.png`) });

        expect(rendered.error, where).toBeUndefined();
        // The chart lets the page show through, so the palette's contrast is the real one.
        expect(rendered.background, where).toMatch(/^(transparent|rgba\(0, 0, 0, 0\)|none)$/);
        const colours = [
          ...rendered.lines.flatMap((l) => l.colours),
          ...rendered.bars.flatMap((b) => b.colours),
        ].map(toHex);
        for (const colour of colours) {
          expect(contrastRatio(colour, theme.background), `${where}: ${colour}`).toBeGreaterThanOrEqual(
            MIN_GRAPHICS_CONTRAST,
          );
        }
        const line = (index: number) => rendered.lines.find((l) => l.index === index);
        const ticks = rendered.yTicks.map(Number);
        expect(ticks.length, where).toBeGreaterThan(2);
        expect(ticks.every(Number.isFinite), `${where}: ${rendered.yTicks.join(', ')}`).toBe(true);

        if (chart.name.endsWith('-roc')) {
          // The chance diagonal under the candidate: grey, dashed and thinner.
          expect(line(0)?.colours.map(toHex), where).toEqual([CHART_COLORS.chance]);
          expect(line(1)?.colours.map(toHex), where).toEqual([CHART_COLORS.candidate]);
          expect(line(0)?.dash, where).not.toBe('none');
          expect(line(1)?.dash, where).toBe('none');
          expect(line(0)?.width ?? 0, where).toBeLessThan(line(1)?.width ?? 0);
          // ROC axes are 0 → 1 by definition.
          expect(Math.min(...ticks), where).toBe(0);
          expect(Math.max(...ticks), where).toBe(1);
        } else {
          expect(rendered.bars.find((b) => b.index === 0)?.colours.map(toHex), where).toEqual([
            CHART_COLORS.candidate,
          ]);
          const withBaseline = chart.report.baselineMetrics !== undefined;
          // The baseline as bars of its own colour beside the candidate's; no lines.
          if (withBaseline)
            expect(rendered.bars.find((b) => b.index === 1)?.colours.map(toHex), where).toEqual([
              CHART_COLORS.baseline,
            ]);
          else expect(rendered.bars, where).toHaveLength(1);
          expect(rendered.lines, where).toHaveLength(0);
          // Zoomed around the plotted values, and the title says the axis does not start at 0.
          const axis = /y-axis "[^"]*" ([\d.]+) --> ([\d.]+)/.exec(chart.code);
          expect(axis, where).not.toBeNull();
          const floor = Number(axis?.[1]);
          const plotted = chart.code
            .split('\n')
            .filter((l) => /^\s*bar \[/.test(l))
            .flatMap((l) => JSON.parse(l.trim().replace(/^bar /, '')) as number[])
            .filter((value) => value > floor);
          expect(plotted.length, where).toBeGreaterThan(0);
          const [low, high] = [Math.min(...ticks), Math.max(...ticks)];
          const spread = Math.max(...plotted) - Math.min(...plotted);
          expect(low, `${where}: ticks ${rendered.yTicks.join(', ')}`).toBeGreaterThan(0);
          expect(low, where).toBeGreaterThanOrEqual(floor);
          expect(low, where).toBeLessThanOrEqual(Math.min(...plotted));
          expect(rendered.title, where).toContain(`y axis from ${axis?.[1]}`);
          // The axis spans the values with a margin, not far more than their spread (0 → 1 did).
          expect(high - low, `${where}: ticks ${rendered.yTicks.join(', ')}`).toBeLessThan(
            Math.max(spread * 6, Math.max(...plotted) * 0.2),
          );
          if (chart.report.task !== 'regression') expect(high).toBeLessThanOrEqual(1);
          // One visible label per metric (the baseline's and the gaps' slots are unlabelled).
          const visible = rendered.xLabels.filter((l) => l.text.replaceAll('\u200b', '') !== '');
          expect(visible.length, where).toBe(plotted.length / (withBaseline ? 2 : 1));
        }

        // The x-axis labels keep apart.
        expect(rendered.xLabels.length, where).toBeGreaterThan(1);
        for (let i = 0; i < rendered.xLabels.length; i++) {
          for (let j = i + 1; j < rendered.xLabels.length; j++) {
            const [a, b] = [rendered.xLabels[i], rendered.xLabels[j]];
            expect(intersects(a.box, b.box), `${where}: "${a.text}" and "${b.text}" overlap`).toBe(false);
          }
        }
      }
    }, 60_000);
  }
});
