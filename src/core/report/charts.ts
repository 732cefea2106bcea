/**
 * The Mermaid charts of the reports (ROC curve, metric bars), drawn so people can read them on
 * GitHub's light and dark backgrounds:
 * - an explicit palette, set per chart by an init directive: every series has a contrast ratio of
 *   at least 3:1 (WCAG's minimum for graphics) against both #ffffff and #0d1117, where Mermaid's
 *   default theme draws the first series in a pale lavender (#ECECFF, 1.2:1 on white);
 * - the chance diagonal is grey, thinner and dashed (`themeCSS`), drawn under the candidate;
 * - bar charts zoom their y axis to the plotted values with a margin, and say so in the title
 *   when the axis does not start at 0 (the ROC stays 0 → 1 by definition);
 * - metric names on the x axis are abbreviated, with a legend line under the chart.
 * Each chart is followed by one line of Markdown that says which series is which, by colour and
 * line style, so the chart reads without Mermaid's (version-dependent) legend.
 */
import type { MetricName, Task } from '../model/metric-names.ts';
import type { ModelValidationReport } from '../model/report-types.ts';
import { formatNumber, isNumber, type ReportNumber } from './format.ts';

/** GitHub's page backgrounds: the light theme's and the dark theme's. */
export const GITHUB_BACKGROUNDS = { light: '#ffffff', dark: '#0d1117' } as const;

/** The colours of the chart series; each has a contrast of ≥ 3:1 on both {@link GITHUB_BACKGROUNDS}. */
export const CHART_COLORS = {
  /** The candidate model: blue (4.6:1 on white, 4.1:1 on #0d1117). */
  candidate: '#1f6feb',
  /** The baseline model: orange, told apart from blue also by colour-blind readers (4.1:1, 4.6:1). */
  baseline: '#c4620e',
  /** The chance diagonal: grey, and thinner and dashed than the data (3.4:1, 5.6:1). */
  chance: '#848d97',
} as const;

/** WCAG's minimum contrast ratio for graphical objects (success criterion 1.4.11). */
export const MIN_GRAPHICS_CONTRAST = 3;

/** WCAG 2 relative luminance of a `#rrggbb` colour. */
export function relativeLuminance(hex: string): number {
  const match = /^#([\da-f]{2})([\da-f]{2})([\da-f]{2})$/i.exec(hex);
  if (!match) throw new Error(`Not a #rrggbb colour: ${hex}`);
  const [r, g, b] = match.slice(1).map((part) => {
    const c = Number.parseInt(part, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours, from 1 (same) to 21 (black on white). */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** Points of the ROC line in the chart: FPR 0, 1, …, 100 %. */
const ROC_CHART_POINTS = 101;

/**
 * The first line of a chart: Mermaid's init directive with the series' colours in plot order, a
 * transparent chart background (the page's, which the palette was chosen for) and, for the
 * plots listed in `quiet`, a thinner dashed line. Only the xychart's own theme variables are set:
 * titles and axes keep the colours of the theme GitHub picks for the reader (light or dark).
 */
export function mermaidInit(palette: readonly string[], quiet: readonly number[] = []): string {
  const config: Record<string, unknown> = {
    themeVariables: { xyChart: { plotColorPalette: palette.join(', '), backgroundColor: 'transparent' } },
  };
  if (quiet.length > 0) {
    config.themeCSS = quiet
      .map((index) => `.line-plot-${index} path { stroke-dasharray: 6 4; stroke-width: 1.25px; }`)
      .join(' ');
  }
  return `%%{init: ${JSON.stringify(config)}}%%`;
}

/** The ROC curve as a Mermaid line chart over the chance diagonal, with a line saying which is which. */
export function renderRocChart(report: ModelValidationReport): string {
  const roc = report.roc;
  const tpr = roc ? sampleRocCurve(roc, ROC_CHART_POINTS) : undefined;
  if (!tpr) return 'The ROC curve is undefined: the labels hold only one class.';
  const auc = report.metrics.roc_auc?.value;
  const diagonal = Array.from({ length: ROC_CHART_POINTS }, (_, j) => roundRate(j / (ROC_CHART_POINTS - 1)));
  // Mermaid spaces a line's values evenly over a numeric x range, with a step of
  // (max − min + 1) / count: a 0 → 1 range would plot only half the values. With 101 values
  // over 0 → 100 the step is exactly 1 under that rule and under the (max − min) / (count − 1)
  // one, so the x axis is the false positive rate in percent. The diagonal comes first so that
  // the candidate's line is drawn over it.
  return [
    '```mermaid',
    mermaidInit([CHART_COLORS.chance, CHART_COLORS.candidate], [0]),
    'xychart-beta',
    `  title "ROC curve${isNumber(auc) ? ` (AUC ${formatNumber(auc)})` : ''}"`,
    '  x-axis "False positive rate (%)" 0 --> 100',
    '  y-axis "True positive rate" 0 --> 1',
    `  line [${diagonal.join(', ')}]`,
    `  line [${tpr.join(', ')}]`,
    '```',
    '',
    'Solid blue line: the candidate. Dashed grey diagonal: a model that guesses (AUC 0.5).',
  ].join('\n');
}

/**
 * True positive rates at `points` evenly spaced false positive rates from 0 to 1, interpolated
 * linearly between the curve's points. Where the curve rises vertically (several points at one
 * FPR), the highest TPR counts. Undefined when the curve has no extent (one class only).
 */
export function sampleRocCurve(roc: { fpr: number[]; tpr: number[] }, points: number): number[] | undefined {
  const { fpr, tpr } = roc;
  const n = Math.min(fpr.length, tpr.length);
  if (n < 2 || points < 2) return undefined;
  const values: number[] = [];
  let i = 0;
  for (let j = 0; j < points; j++) {
    const x = j / (points - 1);
    // The last point at or left of x (FPR is non-decreasing, so i only moves right).
    while (i + 1 < n && fpr[i + 1] <= x) i++;
    let y = tpr[i];
    if (i + 1 < n && fpr[i + 1] > fpr[i] && x > fpr[i]) {
      y = tpr[i] + ((tpr[i + 1] - tpr[i]) * (x - fpr[i])) / (fpr[i + 1] - fpr[i]);
    }
    values.push(roundRate(Math.min(1, Math.max(0, y))));
  }
  return values;
}

function roundRate(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/**
 * Metrics drawn as bars, per task: ones that share an axis and a direction (scores in [0, 1]
 * where higher is better; regression errors in the target's units where lower is better).
 */
const BAR_CHART_METRICS: Record<Task, MetricName[]> = {
  binary: ['roc_auc', 'average_precision', 'accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1'],
  multiclass: ['accuracy', 'balanced_accuracy', 'f1_macro', 'precision_macro', 'recall_macro', 'roc_auc'],
  regression: ['rmse', 'mae'],
};

/** Bars at most: more would crowd the x axis. */
export const MAX_BARS = 6;

/** Short x-axis labels; the legend under the chart spells them out. */
export const METRIC_ABBREVIATIONS: Partial<Record<MetricName, string>> = {
  roc_auc: 'AUC',
  average_precision: 'AP',
  accuracy: 'Acc',
  balanced_accuracy: 'BalAcc',
  precision: 'Prec',
  recall: 'Rec',
  f1: 'F1',
  f1_macro: 'mF1',
  precision_macro: 'mPrec',
  recall_macro: 'mRec',
  rmse: 'RMSE',
  mae: 'MAE',
};

/** The y range of a bar chart, and whether it leaves out 0 (which the title must then say). */
export interface AxisRange {
  min: number;
  max: number;
  /** True when the axis starts above 0: bars then exaggerate differences. */
  zoomed: boolean;
}

/**
 * A y range around `values` with a margin (half their spread, at least 1 % of the scale), its
 * ends on a round step, kept within `[floor, ceiling]` (0 → 1 for scores; 0 → ∞ for errors).
 */
export function zoomAxis(
  values: readonly number[],
  floor = 0,
  ceiling = Number.POSITIVE_INFINITY,
): AxisRange {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const scale = Number.isFinite(ceiling) ? ceiling - floor : Math.max(Math.abs(high), Math.abs(low), 1e-9);
  const margin = Math.max((high - low) / 2, scale * 0.01);
  const step = roundStep((high - low + 2 * margin) / 5);
  const min = Math.max(floor, roundTo(Math.floor((low - margin) / step) * step));
  const max = Math.min(ceiling, roundTo(Math.ceil((high + margin) / step) * step));
  return { min, max, zoomed: min > 0 };
}

/** The smallest of 1, 2 and 5 times a power of ten that is at least `raw`. */
function roundStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((f) => f * power >= raw) ?? 10) * power;
}

function roundTo(value: number): number {
  return Number(value.toPrecision(12));
}

/** A number as Mermaid's xychart grammar reads it: plain decimals, no exponent. */
function mermaidNumber(value: number): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) return undefined;
  if (value === 0) return '0';
  const digits = Math.min(20, Math.max(0, 5 - Math.floor(Math.log10(Math.abs(value)))));
  const text = value
    .toFixed(digits)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  return /^-?\d+(\.\d+)?$/.test(text) ? text : undefined;
}

/** Labels of the x axis's unlabelled slots: distinct (Mermaid keys bars by label), and invisible. */
function blankLabel(index: number): string {
  return '\u200b'.repeat(index + 1);
}

/**
 * The candidate's headline metrics as a Mermaid bar chart, next to the baseline's when there is
 * one: a blue and an orange bar per metric, the pairs apart. (Mermaid draws bar series on top of
 * each other, so each series holds its value in its own slot and, in the other slots, a value
 * below the axis: Mermaid draws a bar at the axis floor a few pixels high, one below it not at
 * all, since its height is negative.) Gated metrics first, at most {@link MAX_BARS}; the y axis is zoomed
 * to the values. Followed by a legend line. Empty when no metric can be drawn.
 */
export function renderMetricBars(report: ModelValidationReport): string {
  const chartable = BAR_CHART_METRICS[report.task];
  const unit = report.task !== 'regression';
  const fits = (value: ReportNumber): value is number =>
    isNumber(value) && mermaidNumber(value) !== undefined && value >= 0 && (!unit || value <= 1);
  const gated = report.gates.map((g) => g.metric);
  const names = [...new Set([...gated, ...chartable])]
    .filter(
      (name) =>
        chartable.includes(name) &&
        fits(report.metrics[name]?.value) &&
        (!report.baselineMetrics || fits(report.baselineMetrics[name]?.value)),
    )
    .slice(0, MAX_BARS);
  if (names.length === 0) return '';
  const series = (entries: Partial<Record<MetricName, { value: ReportNumber }>>) =>
    names.map((name) => entries[name]?.value as number);
  const candidate = series(report.metrics);
  const baseline = report.baselineMetrics ? series(report.baselineMetrics) : undefined;
  const range = zoomAxis([...candidate, ...(baseline ?? [])], 0, unit ? 1 : Number.POSITIVE_INFINITY);
  const [low, high] = [mermaidNumber(range.min), mermaidNumber(range.max)];
  if (low === undefined || high === undefined) return '';
  const labels = names.map((name) => METRIC_ABBREVIATIONS[name] ?? name);
  // With a baseline: slots candidate, baseline, gap for each metric (no gap after the last).
  const slots = baseline
    ? names.flatMap((_, i) => [
        labels[i],
        blankLabel(2 * i),
        ...(i < names.length - 1 ? [blankLabel(2 * i + 1)] : []),
      ])
    : labels;
  const floor = range.min - (range.max - range.min);
  if (mermaidNumber(floor) === undefined) return '';
  const spread = (values: number[], at: 0 | 1) =>
    baseline
      ? values.flatMap((value, i) => [
          at === 0 ? value : floor,
          at === 1 ? value : floor,
          ...(i < values.length - 1 ? [floor] : []),
        ])
      : values;
  const what = baseline ? 'Candidate (blue) vs baseline (orange)' : 'Candidate';
  const title = range.zoomed ? `${what}, y axis from ${low}` : what;
  const direction = unit ? 'higher is better' : 'lower is better';
  const values = (list: number[]) => list.map((value) => mermaidNumber(value)).join(', ');
  const lines = [
    '```mermaid',
    mermaidInit([CHART_COLORS.candidate, CHART_COLORS.baseline]),
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis [${slots.map((label) => `"${label}"`).join(', ')}]`,
    `  y-axis "${unit ? 'score' : 'error (target units)'}, ${direction}" ${low} --> ${high}`,
    `  bar [${values(spread(candidate, 0))}]`,
  ];
  if (baseline) lines.push(`  bar [${values(spread(baseline, 1))}]`);
  lines.push('```', '', renderBarLegend(names, baseline !== undefined, range));
  return lines.join('\n');
}

/** Which series is which, what the abbreviations stand for, and a zoomed axis said in words. */
function renderBarLegend(names: readonly MetricName[], withBaseline: boolean, range: AxisRange): string {
  const series = withBaseline
    ? 'Blue bars: the candidate; orange bars, right of each blue one: the baseline.'
    : 'Blue bars: the candidate.';
  const zoom = range.zoomed
    ? ` The y axis starts at ${formatNumber(range.min)}, not 0, so small differences look large.`
    : '';
  const abbreviations = names.map((name) => `${METRIC_ABBREVIATIONS[name] ?? name} = \`${name}\``).join(', ');
  return `${series}${zoom} ${abbreviations}.`;
}
