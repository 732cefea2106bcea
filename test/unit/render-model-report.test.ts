import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { TABLE_FORMATS } from '../../src/core/data/batch.ts';
import { GATE_CONFIDENCES, GATE_RULES, ON_MISSING_BASELINE } from '../../src/core/model/gates.ts';
import { METRIC_NAMES, TASKS } from '../../src/core/model/metric-names.ts';
import { OUTPUT_KINDS } from '../../src/core/model/model-io.ts';
import type { ModelValidationReport } from '../../src/core/model/report-types.ts';
import { summarizeModelReport } from '../../src/core/report/model-summary.ts';
import { renderModelReport, sampleRocCurve } from '../../src/core/report/render-model-report.ts';
import { renderModelReportText } from '../../src/core/report/render-model-text.ts';
import schema from '../../src/core/schemas/model-validation-report.schema.json' with { type: 'json' };

// Strict, as the config schema is compiled: unknown keywords, union types or loose tuples fail here.
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

function schemaErrors(report: unknown): string[] {
  return validate(report) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** What a report.json holds: NaN became null on the way. */
function throughJson(report: ModelValidationReport): Record<string, unknown> {
  return JSON.parse(JSON.stringify(report));
}

const SHA = (digit: string) => digit.repeat(64);

const CANDIDATE = {
  path: 'models/candidate.onnx',
  sha256: SHA('a'),
  bytes: 48_213,
  externalBytes: 0,
  irVersion: 8,
  producer: 'skl2onnx 1.17.0',
  opsets: [
    { domain: '', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ],
  inputs: [{ name: 'float_input', type: 'float32[N, 4]' }],
  outputs: [
    { name: 'label', type: 'int64[N]' },
    { name: 'probabilities', type: 'seq(map(int64, float32))' },
  ],
};

/** Binary, baseline model, paired bootstrap, slices, latency, parity; one gate fails. */
function binaryReport(): ModelValidationReport {
  return {
    kind: 'model-validation',
    version: 2,
    tool: { name: 'mlops-actions', version: '0.1.0' },
    passed: false,
    task: 'binary',
    target: 'churned',
    candidate: CANDIDATE,
    baseline: { ...CANDIDATE, path: 'models/baseline.onnx', sha256: SHA('b'), bytes: 45_002 },
    data: {
      path: 'data/holdout.csv',
      sha256: SHA('c'),
      bytes: 81_920,
      format: 'csv',
      rows: 1000,
      droppedRows: 0,
    },
    features: ['tenure', 'monthly_charges', 'support|calls', 'contract'],
    output: {
      name: 'probabilities',
      kind: 'probabilities',
      classes: ['stay', 'churn|left'],
      inferredFrom: 'the probability output of LinearClassifier',
      threshold: 0.5,
    },
    metrics: {
      accuracy: { value: 0.9, interval: [0.881, 0.918] },
      roc_auc: { value: 0.9312, interval: [0.9154, 0.9461] },
      f1: { value: 0.8837, interval: [0.8602, 0.9051] },
      log_loss: { value: 0.2714, interval: [0.2462, 0.2993] },
    },
    baselineMetrics: {
      accuracy: { value: 0.893 },
      roc_auc: { value: 0.9401 },
      f1: { value: 0.8795 },
      log_loss: { value: 0.2518 },
    },
    deltas: {
      accuracy: { value: 0.007, relative: 0.00784, interval: [-0.004, 0.018] },
      roc_auc: { value: -0.0089, relative: -0.00947, interval: [-0.0151, -0.0027] },
      f1: { value: 0.0042, relative: 0.00478, interval: [-0.0081, 0.0163] },
      log_loss: { value: 0.0196, relative: 0.0779, interval: [0.0088, 0.0311] },
    },
    undefinedMetrics: {},
    confusionMatrix: {
      classes: ['stay', 'churn|left'],
      matrix: [
        [520, 40],
        [60, 380],
      ],
    },
    perClass: [
      { class: 'stay', precision: 0.8966, recall: 0.9286, f1: 0.9123, support: 560 },
      { class: 'churn|left', precision: 0.9048, recall: 0.8636, f1: 0.8837, support: 440 },
    ],
    roc: { fpr: [0, 0, 0.1, 0.2, 0.5, 1], tpr: [0, 0.3, 0.5, 0.8, 0.95, 1] },
    slices: [
      {
        column: 'region',
        value: 'north',
        rows: 612,
        tooSmall: false,
        metrics: { accuracy: 0.9101, roc_auc: 0.9402, f1: 0.8911, log_loss: 0.2601 },
        baselineMetrics: { accuracy: 0.9003, roc_auc: 0.9455, f1: 0.8852, log_loss: 0.2433 },
      },
      {
        column: 'region',
        value: 'south',
        rows: 21,
        tooSmall: true,
        metrics: { accuracy: 0.8571, roc_auc: Number.NaN, f1: 0.8, log_loss: 0.3102 },
        baselineMetrics: { accuracy: 0.8095, roc_auc: Number.NaN, f1: 0.75, log_loss: 0.3544 },
      },
    ],
    minRows: { required: 50, rows: 1000, passed: true, sliceRequired: 30 },
    bootstrap: { resamples: 1000, seed: 0, level: 0.95, stratified: true, paired: true, unit: 'rows' },
    latency: {
      p50Ms: 0.052,
      p95Ms: 0.081,
      p99Ms: 0.133,
      runs: 200,
      warmupRuns: 20,
      throughputRowsPerSecond: 412_345.6,
      batchRows: 4096,
    },
    size: { modelBytes: 48_213, externalBytes: 0, totalBytes: 48_213 },
    parity: {
      golden: 'models/golden.json',
      atol: 1e-5,
      rtol: 1e-4,
      rows: 16,
      passed: true,
      maxAbsDiff: 2.4e-7,
      mismatches: 0,
      worst: [],
    },
    budgets: [
      {
        budget: 'latency-p95-ms',
        limit: 5,
        value: 0.081,
        passed: true,
        reason: 'latency-p95-ms 0.08100 ms ≤ budget 5 ms',
      },
    ],
    onMissingBaseline: 'value-only',
    // Deliberately not in reading order: the renderers must put failures first themselves.
    gates: [
      {
        metric: 'f1',
        rule: 'max-decrease',
        threshold: 0.01,
        relative: false,
        confidence: 'interval',
        source: 'f1 >= baseline - 0.01 @interval',
        value: 0.0042,
        interval: [-0.0081, 0.0163],
        resolution: 0.0122,
        passed: true,
        status: 'passed',
        reason: 'f1 changed by +0.0042 (interval [-0.0081, +0.0163]), within the allowed -0.01',
        expression: 'f1 >= baseline - 0.01 @interval',
      },
      {
        metric: 'recall',
        rule: 'min',
        threshold: 0.8,
        relative: false,
        confidence: 'point',
        source: 'config thresholds[2]',
        slice: 'region=south',
        value: null,
        passed: null,
        status: 'skipped',
        reason: 'slice region=south has 21 rows, fewer than the minimum slice size: not gated',
        expression: 'recall >= 0.8',
      },
      {
        metric: 'roc_auc',
        rule: 'min',
        threshold: 0.95,
        relative: false,
        confidence: 'point',
        source: 'roc_auc >= 0.95',
        value: 0.9312,
        interval: [0.9154, 0.9461],
        passed: false,
        status: 'failed',
        reason: 'roc_auc 0.9312 < 0.95',
        expression: 'roc_auc >= 0.95',
      },
    ],
  };
}

/** Regression, no baseline, bootstrap off, r2 undefined, latency not measured but budgeted. */
function regressionReport(): ModelValidationReport {
  return {
    kind: 'model-validation',
    version: 2,
    tool: { name: 'mlops-actions', version: '0.1.0' },
    passed: false,
    task: 'regression',
    target: 'price',
    candidate: {
      ...CANDIDATE,
      path: 'models/price.onnx',
      externalBytes: 1_572_864,
      outputs: [{ name: 'variable', type: 'float32[N, 1]' }],
    },
    data: {
      path: 'data/constant.parquet',
      sha256: SHA('d'),
      bytes: 4_096,
      format: 'parquet',
      rows: 120,
      droppedRows: 3,
    },
    features: ['area', 'rooms'],
    output: { name: 'variable', kind: 'values', classes: [], inferredFrom: 'the LinearRegressor output' },
    metrics: {
      mae: { value: 12.5 },
      mse: { value: 210.25 },
      rmse: { value: 14.5 },
      r2: { value: Number.NaN },
      mape: { value: 0.061 },
    },
    undefinedMetrics: { r2: 'all targets are equal (variance 0), so r2 divides by zero' },
    zeroTargets: 0,
    slices: [],
    minRows: { required: 50, rows: 120, passed: true, sliceRequired: 30 },
    bootstrap: null,
    size: { modelBytes: 2_048, externalBytes: 1_572_864, totalBytes: 1_574_912 },
    budgets: [
      {
        budget: 'latency-p95-ms',
        limit: 2,
        value: Number.NaN,
        passed: false,
        reason: 'latency-p95-ms budget set, but latency was not measured',
      },
    ],
    onMissingBaseline: 'value-only',
    gates: [
      {
        metric: 'rmse',
        rule: 'max',
        threshold: 60,
        relative: false,
        confidence: 'point',
        source: 'rmse <= 60',
        value: 14.5,
        passed: true,
        status: 'passed',
        reason: 'rmse 14.5 ≤ 60',
        expression: 'rmse <= 60',
      },
      {
        metric: 'mae',
        rule: 'max-increase',
        threshold: 2.5,
        relative: false,
        confidence: 'point',
        source: 'mae <= baseline + 2.5',
        value: null,
        passed: null,
        status: 'skipped',
        reason: 'no baseline: mae is reported (12.5) but not compared (on-missing-baseline: value-only)',
        expression: 'mae <= baseline + 2.5',
      },
      {
        metric: 'r2',
        rule: 'min',
        threshold: 0.5,
        relative: false,
        confidence: 'point',
        source: 'r2 >= 0.5',
        value: Number.NaN,
        passed: false,
        status: 'error',
        reason: 'r2 is undefined: all targets are equal (variance 0), so r2 divides by zero',
        expression: 'r2 >= 0.5',
      },
    ],
  };
}

/** The lines of the Markdown table whose header row starts with `firstHeader`. */
function tableAfter(markdown: string, firstHeader: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${firstHeader} |`));
  expect(start, `table starting with "${firstHeader}"`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  return lines.slice(start, end === -1 ? undefined : end);
}

/** Cells of a Markdown table row, split on unescaped pipes. */
function cellsOf(row: string): string[] {
  return row
    .replace(/^\|\s?/, '')
    .replace(/\s?\|$/, '')
    .split(/\s?(?<!\\)\|\s?/);
}

describe('model-validation report schema', () => {
  it('compiles in strict mode and accepts both reports as written to JSON (NaN as null)', () => {
    const binary = throughJson(binaryReport());
    const regression = throughJson(regressionReport());
    // The round trip really produced nulls where the report held NaN.
    expect((regression.metrics as { r2: { value: unknown } }).r2.value).toBeNull();
    expect((regression.budgets as { value: unknown }[])[0].value).toBeNull();
    expect((regression.gates as { value: unknown }[])[2].value).toBeNull();
    expect((binary.slices as { metrics: { roc_auc: unknown } }[])[1].metrics.roc_auc).toBeNull();
    expect(schemaErrors(binary)).toEqual([]);
    expect(schemaErrors(regression)).toEqual([]);
  });

  it('accepts a baseline given as a saved report, and null interval ends', () => {
    const report = binaryReport();
    report.baseline = { path: 'previous/report.json', sha256: SHA('e'), report: true, sameData: false };
    report.metrics.roc_auc = { value: 0.9312, interval: [Number.NaN, 0.95] };
    expect(schemaErrors(throughJson(report))).toEqual([]);
  });

  it('rejects a wrong kind, an unknown metric name, an extra top-level key', () => {
    const wrongKind = { ...throughJson(binaryReport()), kind: 'data-validation' };
    expect(schemaErrors(wrongKind)).toContainEqual(
      expect.stringMatching(/^\/kind must be equal to constant/),
    );

    const unknownMetric = throughJson(binaryReport());
    (unknownMetric.metrics as Record<string, unknown>).roc_auc_micro = { value: 0.9 };
    expect(schemaErrors(unknownMetric).join('\n')).toMatch(/\/metrics .*property name/);

    const unknownDelta = throughJson(binaryReport());
    (unknownDelta.deltas as Record<string, unknown>).auc = { value: 0.1, relative: 0.1 };
    expect(schemaErrors(unknownDelta).join('\n')).toMatch(/\/deltas .*property name/);

    const extraKey = { ...throughJson(regressionReport()), verdict: 'failed' };
    expect(schemaErrors(extraKey)).toContainEqual(' must NOT have additional properties');
  });

  it('rejects a metric entry without a value and a gate with an unknown status', () => {
    const noValue = throughJson(binaryReport());
    (noValue.metrics as Record<string, unknown>).f1 = { interval: [0.8, 0.9] };
    expect(schemaErrors(noValue)).toContainEqual("/metrics/f1 must have required property 'value'");

    const badStatus = throughJson(regressionReport());
    (badStatus.gates as { status: string }[])[0].status = 'warning';
    expect(schemaErrors(badStatus).join('\n')).toMatch(
      /\/gates\/0\/status must be equal to one of the allowed values/,
    );
  });

  it('names the same metrics, tasks and enums as the code', () => {
    const defs = schema.$defs;
    const properties = schema.properties;
    expect(defs.metricName.enum).toEqual(METRIC_NAMES);
    expect(defs.task.enum).toEqual([...TASKS]);
    expect(properties.onMissingBaseline.enum).toEqual([...ON_MISSING_BASELINE]);
    expect(properties.data.properties.format.enum).toEqual([...TABLE_FORMATS]);
    expect(properties.output.properties.kind.enum).toEqual([...OUTPUT_KINDS]);
    expect(defs.gate.properties.rule.enum).toEqual([...GATE_RULES]);
    expect(defs.gate.properties.confidence.enum).toEqual([...GATE_CONFIDENCES]);
  });
});

describe('renderModelReport (Markdown)', () => {
  const markdown = renderModelReport(binaryReport(), 'out/model-report.json');

  it('opens with the verdict and its one-line reason', () => {
    expect(markdown.startsWith('## ❌ Model gate failed\n')).toBe(true);
    expect(markdown).toContain('Model gate failed: roc_auc 0.9312 &lt; 0.95.');
    expect(markdown).toContain('Full report: `out/model-report.json`');
  });

  it('lists failed gates before passed and skipped ones', () => {
    const gates = tableAfter(markdown, 'gate');
    const failed = gates.findIndex((line) => line.includes('`roc_auc >= 0.95`'));
    const passed = gates.findIndex((line) => line.includes('`f1 >= baseline - 0.01 @interval`'));
    const skipped = gates.findIndex((line) => line.includes('`recall >= 0.8` on `region=south`'));
    expect(failed).toBeGreaterThan(1);
    expect(failed).toBeLessThan(passed);
    expect(passed).toBeLessThan(skipped);
    expect(cellsOf(gates[skipped])[1]).toBe('');
    expect(cellsOf(gates[failed])).toEqual([
      '`roc_auc >= 0.95`',
      '0.9312',
      '[0.9154, 0.9461]',
      '',
      '≥ 0.95',
      '❌ failed',
      'roc_auc 0.9312 &lt; 0.95',
    ]);
    // A change gate shows the signed change and the allowed change.
    // …and the smallest change this holdout resolves (the interval's half-width).
    expect(cellsOf(gates[passed]).slice(1, 5)).toEqual([
      '+0.0042',
      '[-0.0081, +0.0163]',
      '±0.0122',
      'Δ ≥ -0.01',
    ]);
  });

  it('compares candidate and baseline with intervals and says which way is better', () => {
    const metrics = tableAfter(markdown, 'metric');
    expect(cellsOf(metrics[0])).toEqual([
      'metric',
      'candidate (95% interval)',
      'baseline',
      'Δ (95% interval)',
      '',
    ]);
    const row = (name: string) => cellsOf(metrics.find((line) => line.startsWith(`| \`${name}\``)) ?? '');
    expect(row('roc_auc')).toEqual([
      '`roc_auc` ↑',
      '0.9312 [0.9154, 0.9461]',
      '0.9401',
      '-0.0089 [-0.0151, -0.0027]',
      '▼ worse',
    ]);
    expect(row('accuracy')[4]).toBe('▲ better');
    // log_loss rose, and lower is better: worse, with the arrow pointing up.
    expect(row('log_loss')).toEqual([
      '`log_loss` ↓',
      '0.2714 [0.2462, 0.2993]',
      '0.2518',
      '+0.0196 [+0.0088, +0.0311]',
      '▲ worse',
    ]);
  });

  it('draws the ROC curve as a well-formed Mermaid xychart, over a quieter chance diagonal', () => {
    const section = markdown.slice(markdown.indexOf('### ROC curve'));
    const block = section.match(/```mermaid\n([\s\S]*?)\n```/);
    expect(block).not.toBeNull();
    const lines = (block?.[1] ?? '').split('\n').map((line) => line.trim());
    // The palette: the diagonal grey and dashed, drawn first, the candidate blue over it.
    const init = JSON.parse(lines[0].replace(/^%%\{init: /, '').replace(/\}%%$/, ''));
    expect(init.themeVariables.xyChart.plotColorPalette).toBe('#848d97, #1f6feb');
    expect(init.themeCSS).toContain('.line-plot-0 path { stroke-dasharray');
    expect(lines[1]).toBe('xychart-beta');
    expect(lines).toContain('x-axis "False positive rate (%)" 0 --> 100');
    expect(lines).toContain('y-axis "True positive rate" 0 --> 1');
    const series = lines.filter((line) => line.startsWith('line ['));
    expect(series).toHaveLength(2);
    const diagonal = JSON.parse(series[0].slice('line '.length)) as number[];
    expect(diagonal.slice(0, 3)).toEqual([0, 0.01, 0.02]);
    expect(section).toContain('Solid blue line: the candidate. Dashed grey diagonal: a model that guesses');
    const tpr = JSON.parse(series[1].slice('line '.length)) as number[];
    // The x range 0 → 100 needs exactly 101 values for Mermaid to space them one percent apart.
    expect(tpr).toHaveLength(101);
    for (const value of tpr) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    for (let j = 1; j < tpr.length; j++) expect(tpr[j]).toBeGreaterThanOrEqual(tpr[j - 1]);
    // Interpolated: (0.1, 0.5) → (0.2, 0.8) gives 0.65 at FPR 15%; the vertical start gives 0.3 at 0.
    expect(tpr[0]).toBe(0.3);
    expect(tpr[15]).toBeCloseTo(0.65, 10);
    expect(tpr[100]).toBe(1);
  });

  it('writes the confusion matrix with the report’s counts, rows true and columns predicted', () => {
    const table = tableAfter(markdown, 'true \\ predicted');
    expect(table).toHaveLength(4);
    const header = cellsOf(table[0]);
    expect(header).toEqual(['true \\ predicted', '`stay`', '`churn\\|left`']);
    const counts = table.slice(2).map((line) =>
      cellsOf(line)
        .slice(1)
        .map((cell) => Number(cell.replaceAll(',', ''))),
    );
    expect(counts).toEqual(binaryReport().confusionMatrix?.matrix);
    expect(cellsOf(table[3])[0]).toBe('`churn\\|left`');
  });

  it('escapes a class label containing | so the table keeps its columns', () => {
    const perClass = tableAfter(markdown, 'class');
    const churn = perClass.find((line) => line.includes('churn'));
    expect(churn).toBe('| `churn\\|left` | 0.9048 | 0.8636 | 0.8837 | 440 |');
    expect(cellsOf(churn ?? '')).toHaveLength(5);
    expect(markdown).not.toMatch(/churn\|left/);
    expect(markdown).toContain('support\\|calls');
  });

  it('lists slices with the change from the baseline and marks small ones', () => {
    const slices = tableAfter(markdown, 'column');
    // recall is gated on a slice but the slices do not hold it: only metrics they hold are shown.
    expect(cellsOf(slices[0])).toEqual([
      'column',
      'value',
      'rows',
      '`roc_auc`',
      '`f1`',
      '`accuracy`',
      'note',
    ]);
    expect(cellsOf(slices[2])).toEqual([
      '`region`',
      '`north`',
      '612',
      '0.9402 (Δ -0.0053)',
      '0.8911 (Δ +0.0059)',
      '0.9101 (Δ +0.0098)',
      '',
    ]);
    expect(cellsOf(slices[3])).toEqual([
      '`region`',
      '`south`',
      '21',
      'n/a',
      '0.8 (Δ +0.05)',
      '0.8571 (Δ +0.0476)',
      'fewer than 30 rows: not gated',
    ]);
  });

  it('shows latency, size, parity and budgets, and the identity collapsed', () => {
    expect(markdown).toContain(
      '| latency p95 | 0.081 ms | single row, 200 runs after 20 warm-up | ≤ 5 ms | ✅ |',
    );
    expect(markdown).toContain('| throughput | 412,346 rows/s | 4,096 rows per call |  |  |');
    expect(markdown).toContain('| model size | 47.1 KiB |  |  |  |');
    expect(markdown).toMatch(
      /\| parity with models\/golden\.json \| 0 mismatches \| 16 rows, max \\\|diff\\\| 2\.400e-7/,
    );
    const details = markdown.slice(markdown.indexOf('<details><summary>Data and models</summary>'));
    expect(details).toContain('| sha256 | `aaaaaaaaaaaa` | `bbbbbbbbbbbb` |');
    expect(details).toContain('| opsets | ai.onnx 17, ai.onnx.ml 3 | ai.onnx 17, ai.onnx.ml 3 |');
    expect(details).toContain('`float_input`: float32\\[N, 4\\]');
    expect(details).toContain('</details>');
    // A baseline model and the bootstrap on: none of the notes apply.
    expect(markdown).not.toContain('> ℹ️');
  });

  it('notes a missing baseline (quoting on-missing-baseline), the bootstrap off and undefined metrics', () => {
    const regression = renderModelReport(regressionReport());
    expect(regression).toContain('`on-missing-baseline: value-only`');
    expect(regression).toContain('The bootstrap is off');
    expect(regression).toContain(
      '- `r2` is undefined: all targets are equal (variance 0), so r2 divides by zero',
    );
    // No ROC curve for regression; the errors as bars, the candidate's only.
    expect(regression).not.toContain('### ROC curve');
    expect(regression).toContain('x-axis ["RMSE", "MAE"]');
    expect(regression.match(/^ {2}bar \[/gm)).toHaveLength(1);
    expect(regression).not.toContain('Full report');
    // No baseline: the metric table has no baseline columns, and no interval in its header.
    const metrics = tableAfter(regression, 'metric');
    expect(cellsOf(metrics[0])).toEqual(['metric', 'candidate']);
    expect(metrics.find((line) => line.startsWith('| `r2`'))).toBe('| `r2` ↑ | n/a |');
    // The erroneous gate comes first; the unmeasured latency budget fails visibly.
    const gates = tableAfter(regression, 'gate');
    expect(cellsOf(gates[2])[0]).toBe('`r2 >= 0.5`');
    expect(cellsOf(gates[2])[5]).toBe('❌ error');
    expect(regression).toMatch(/\| latency p95 \| not measured \| .* \| ≤ 2 ms \| ❌ \|/);
    expect(regression).toContain('| model size | 1.5 MiB | 2 KiB + 1.5 MiB external data |  |  |');
  });

  it('renders a report read back from JSON like the one in memory', () => {
    for (const report of [binaryReport(), regressionReport()]) {
      const parsed = throughJson(report) as unknown as ModelValidationReport;
      expect(renderModelReport(parsed)).toBe(renderModelReport(report));
      expect(renderModelReportText(parsed)).toBe(renderModelReportText(report));
    }
  });
});

describe('sampleRocCurve', () => {
  it('interpolates linearly and takes the highest TPR where the curve rises vertically', () => {
    const curve = { fpr: [0, 0, 0.5, 0.5, 1], tpr: [0, 0.6, 0.7, 0.9, 1] };
    expect(sampleRocCurve(curve, 5)).toEqual([0.6, 0.65, 0.9, 0.95, 1]);
  });

  it('is undefined for a curve without extent (one class in the labels)', () => {
    expect(sampleRocCurve({ fpr: [0], tpr: [0] }, 101)).toBeUndefined();
  });
});

describe('renderModelReportText', () => {
  const text = renderModelReportText(binaryReport(), 'out/model-report.json');
  const lines = text.split('\n');

  it('starts with the verdict and the reason, and ends with the report path', () => {
    expect(lines[0]).toBe(
      'FAILED  model gate: models/candidate.onnx vs models/baseline.onnx on data/holdout.csv (binary, target churned, 1,000 rows)',
    );
    expect(lines[1]).toBe(`  ${summarizeModelReport(binaryReport())}`);
    expect(text.endsWith('report: out/model-report.json\n')).toBe(true);
    expect(text).not.toMatch(/\u001b\[/);
  });

  it('lists failed gates first', () => {
    const failed = lines.findIndex((line) => /^ {2}FAILED +roc_auc >= 0\.95 /.test(line));
    const passed = lines.findIndex((line) => /^ {2}PASSED +f1 >= baseline - 0\.01 @interval /.test(line));
    const skipped = lines.findIndex((line) => /^ {2}SKIPPED +recall >= 0\.8 \[region=south\] /.test(line));
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(passed);
    expect(passed).toBeLessThan(skipped);
  });

  it('aligns the metric columns', () => {
    const header = lines.find((line) => line.startsWith('  metric '));
    expect(header).toBeDefined();
    const columns = ['candidate', '95% interval', 'baseline', 'delta', 'delta interval'].map((name) =>
      (header ?? '').indexOf(name),
    );
    expect(columns.every((position, i) => position > (columns[i - 1] ?? 0))).toBe(true);
    const row = (name: string) => lines.find((line) => line.startsWith(`  ${name} `)) ?? '';
    const expected: Record<string, string[]> = {
      accuracy: ['0.9', '[0.881, 0.918]', '0.893', '+0.007', '[-0.004, +0.018]'],
      roc_auc: ['0.9312', '[0.9154, 0.9461]', '0.9401', '-0.0089', '[-0.0151, -0.0027]'],
      log_loss: ['0.2714', '[0.2462, 0.2993]', '0.2518', '+0.0196', '[+0.0088, +0.0311]'],
    };
    for (const [name, cells] of Object.entries(expected)) {
      const line = row(name);
      cells.forEach((cell, i) => {
        expect(line.slice(columns[i], columns[i] + cell.length), `${name}, column ${i}`).toBe(cell);
        // Nothing but padding between the cell and the next column.
        if (i + 1 < columns.length)
          expect(line.slice(columns[i] + cell.length, columns[i + 1]).trim()).toBe('');
      });
    }
    expect(row('roc_auc').trimEnd().endsWith('worse')).toBe(true);
    expect(row('accuracy').trimEnd().endsWith('better')).toBe(true);
  });

  it('prints the confusion matrix with right-aligned counts, latency and budgets', () => {
    const start = lines.indexOf('Confusion matrix (rows: true class, columns: predicted class)');
    expect(lines.slice(start + 1, start + 4)).toEqual([
      '  true \\ predicted  stay  churn|left',
      '  stay               520          40',
      '  churn|left          60         380',
    ]);
    expect(text).toContain(
      'latency   p50 0.052 ms, p95 0.081 ms, p99 0.133 ms (single row, 200 runs); 412,346 rows/s at 4,096 rows per call',
    );
    expect(text).toContain('budget    passed  latency-p95-ms 0.081 ms (budget ≤ 5 ms)');
    expect(text).toContain('parity    passed  models/golden.json: 0 mismatches on 16 rows');
  });

  it('notes the missing baseline and the bootstrap off, and shows undefined metrics as n/a', () => {
    const regression = renderModelReportText(regressionReport());
    expect(regression).toContain('  note: no baseline; change gates follow on-missing-baseline: value-only');
    expect(regression).toContain('  note: bootstrap off: no intervals, @interval gates cannot be checked');
    expect(regression).toContain(
      '  r2 is undefined: all targets are equal (variance 0), so r2 divides by zero',
    );
    expect(regression).toMatch(/^ {2}r2 +n\/a$/m);
    // No interval column when there are no intervals.
    expect(regression).toMatch(/^ {2}metric +candidate$/m);
    expect(regression).toMatch(/^ {2}ERROR +r2 >= 0\.5 /m);
    expect(regression).toContain('latency   not measured');
    expect(regression).toContain('budget    FAILED  latency-p95-ms not measured (budget ≤ 2 ms)');
    expect(regression).not.toContain('report:');
  });
});
