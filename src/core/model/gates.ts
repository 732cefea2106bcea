/**
 * Model gates: one threshold on one metric.
 *
 * A gate is written either as an expression (CLI `--gate`, the action's multi-line input) or as
 * an entry of `model.thresholds` in mlops.yaml; both become the same {@link GateSpec}.
 *
 * Rules
 * - `min` / `max`: the candidate's value must be `>= min` / `<= max`. Inclusive: a value equal to
 *   the threshold passes.
 * - `max-decrease d`: the change `candidate − baseline` must be `>= −d` (it may fall by at most d).
 *   `max-increase d`: the change must be `<= d` (it may rise by at most d). A rule limits the
 *   change in the direction it names, whatever the metric's direction: a `max-decrease` on a
 *   lower-is-better metric (`log_loss >= baseline - 0.1`) is allowed and limits an improvement;
 *   failure reasons point that out. A negative d asks for a gain: `max-decrease -0.01`
 *   (`f1_macro >= baseline + 0.01`) fails unless the candidate is at least 0.01 better.
 * - `relative: true` measures the change as `(candidate − baseline) / |baseline|`. A baseline of
 *   0 makes that a division by zero: the gate reports an error, never a pass.
 *
 * Expressions: `<metric> >= | <= <threshold> [@point | @interval | @noninferior]`
 *     roc_auc >= 0.95                  min 0.95
 *     rmse <= 60                       max 60
 *     r2 >= baseline                   max-decrease 0 (no worse than the baseline)
 *     f1_macro >= baseline - 0.01      max-decrease 0.01
 *     mae <= baseline + 2.5            max-increase 2.5
 *     roc_auc >= baseline - 1%         max-decrease 0.01, relative
 *     roc_auc >= baseline * 0.99       the same: a factor f means a relative change of f − 1
 *     log_loss <= baseline * 1.05      max-increase 0.05, relative
 *     rmse <= 60 @interval             confidence: interval (default: point)
 *     f1_macro >= baseline - 0.02 @noninferior   fails only when shown worse than 0.02
 *   `>=` gives `min` or `max-decrease`, `<=` gives `max` or `max-increase`. Only `>=` and `<=`
 *   exist: thresholds are inclusive, and `>` or `==` would suggest a strictness that the
 *   floating-point tolerance below cannot honour. `baseline * f` is shorthand for the relative
 *   rule: for a positive baseline it is exactly `candidate >= baseline × f`; for a negative one
 *   (r2 can be) the change is still measured on |baseline|, so `* 0.99` still allows 1% worse.
 *
 * Confidence
 * - `point` checks the rule on the point value.
 * - `interval` requires the whole bootstrap interval to satisfy it: `min` → low end `>= min`;
 *   `max` → high end `<= max`; `max-decrease` → low end of the interval of the paired
 *   difference `candidate − baseline` `>= −d`; `max-increase` → its high end `<= d` (relative
 *   rules divide the difference interval by |baseline|). No interval available → error. This is
 *   proof that the candidate is not worse, which a small holdout can rarely give.
 * - `noninferior` fails only when the whole interval breaks the rule, i.e. the data show the
 *   candidate worse than the margin: `min` → high end `< min`; `max` → low end `> max`;
 *   `max-decrease` → high end of the difference interval `< −d`; `max-increase` → its low end
 *   `> d`. An interval that reaches the allowed side passes (the holdout cannot tell the models
 *   apart at that margin). Equivalent models are blocked in at most about 2.5 % of runs per gate
 *   (one tail of a 95 % interval), whatever the holdout's size. No interval available → error.
 * - Every change rule with a difference interval reports its `resolution`: the interval's
 *   half-width, the smallest change this holdout can resolve (in the rule's units).
 *
 * Missing and undefined values
 * - A candidate metric that is undefined (NaN, or a reason from the metric code) → error; it
 *   never passes. An undefined (NaN) baseline value under a change rule → error. An error has
 *   `passed: false`; only a skipped gate has `passed: null`.
 * - No baseline under a change rule, by `on-missing-baseline`: `fail` → failed; `skip` →
 *   skipped; `value-only` → skipped, and the caller reports the candidate's value only.
 *
 * Slices (`slice: region` or `slice: region=EU` in `model.thresholds`)
 * - A slice gate applies to every value of the column, or to the one value named; each slice is
 *   checked as a gate of its own on its point values (no intervals per slice), its reason starting
 *   with the slice (`region=EU: …`).
 * - A slice name that matches no slice of the holdout → error; it never passes.
 * - A slice with fewer rows than the minimum slice size (`slices.min-rows`) → skipped: reported,
 *   not gated.
 *
 * Floating-point tolerance
 *   Changes are computed (0.95 − 0.96 is −0.010000000000000009, not −0.01), so every comparison
 *   gives way by 1e-12 × the magnitude of the numbers involved, in the passing direction only:
 *   max(1, |threshold|) for min/max; for changes also |candidate| and |baseline| (absolute) or
 *   |candidate| / |baseline| (relative), since a difference carries the rounding of its operands.
 *   A value exactly at the threshold passes; one 1e-9 beyond it (on metrics of order 1) fails.
 */
import { ConfigurationError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';
import type { MetricName, Task } from './metric-names.ts';
import { isMetricName, METRIC_NAMES, METRICS, metricsOfTask } from './metric-names.ts';

export type GateRule = 'min' | 'max' | 'max-decrease' | 'max-increase';
export type GateConfidence = 'point' | 'interval' | 'noninferior';

export const GATE_RULES = [
  'min',
  'max',
  'max-decrease',
  'max-increase',
] as const satisfies readonly GateRule[];
export const GATE_CONFIDENCES = [
  'point',
  'interval',
  'noninferior',
] as const satisfies readonly GateConfidence[];

/** One threshold on one metric, from an expression or a config entry. */
export interface GateSpec {
  metric: MetricName;
  rule: GateRule;
  threshold: number;
  /** Change rules only: the change is measured relative to |baseline|. Always false for min/max. */
  relative: boolean;
  confidence: GateConfidence;
  /** Where the gate came from, for messages: the expression, or e.g. `config thresholds[3]`. */
  source: string;
  /** The slice of rows the gate applies to (config only; see "Slices" above and {@link evaluateSliceGate}). */
  slice?: string;
}

/** The outcome of one gate. */
export interface GateEvaluation {
  metric: MetricName;
  rule: GateRule;
  threshold: number;
  relative: boolean;
  confidence: GateConfidence;
  source: string;
  slice?: string;
  /** The candidate's value (min/max), or its change from the baseline (absolute or relative); null when not computed. */
  value: number | null;
  /** The interval of `value`, when known. */
  interval?: [number, number];
  /**
   * Change rules: the half-width of the paired interval of the change (relative when the rule is),
   * the smallest change this holdout can resolve; absent without an interval.
   */
  resolution?: number;
  /** True or false when checked; null when skipped. An error is never a pass: false. */
  passed: boolean | null;
  status: 'passed' | 'failed' | 'skipped' | 'error';
  /** One sentence a reviewer can act on, with the numbers. */
  reason: string;
}

/** What a gate is checked against: the metric values of the candidate and (optionally) the baseline. */
export interface GateInputs {
  candidate: { value: number; interval?: [number, number] };
  baseline?: { value: number };
  /** The paired bootstrap interval of candidate − baseline (absolute). */
  difference?: { interval?: [number, number] };
  /** Why the candidate's metric is undefined (e.g. only one class in the labels). */
  undefinedReason?: string;
  /** Confidence level of the intervals (e.g. 0.95), only for the wording of reasons. */
  level?: number;
}

/** A slice of the holdout as slice gates read it (the report's `slices`): its size and its metrics. */
export interface SliceReport {
  column: string;
  value: string;
  rows: number;
  /** Below the minimum slice size: reported, not gated. */
  tooSmall: boolean;
  metrics: Partial<Record<MetricName, number>>;
  baselineMetrics?: Partial<Record<MetricName, number>>;
}

/** What `on-missing-baseline` allows: what a change rule does when there is no baseline. */
export const ON_MISSING_BASELINE = ['fail', 'skip', 'value-only'] as const;
export type OnMissingBaseline = (typeof ON_MISSING_BASELINE)[number];

/** The expression forms, for error messages and help texts. */
export const GATE_EXPRESSION_FORMS =
  'Valid forms: "<metric> >= <number>", "<metric> <= <number>", "<metric> >= baseline", ' +
  '"<metric> >= baseline - <number>", "<metric> <= baseline + <number>", ' +
  '"<metric> >= baseline - <percent>%", "<metric> <= baseline * <factor>", each optionally ' +
  'followed by "@point" (default), "@interval" or "@noninferior"; e.g. "roc_auc >= 0.95", ' +
  '"f1_macro >= baseline - 0.01 @noninferior", "log_loss <= baseline * 1.05 @interval".';

/** The keys a `model.thresholds` entry may have. */
const CONFIG_KEYS = ['metric', ...GATE_RULES, 'relative', 'confidence', 'slice'] as const;

/** Relative tolerance of every comparison (see the top of this file). */
const TOLERANCE = 1e-12;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const UNSIGNED_NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longer operators first, so that `>=` is not read as `>` followed by `=`. */
const OPERATOR = />=|<=|=>|=<|==|!=|≥|≤|>|<|=/;

const OPERATOR_ERRORS: Record<string, string> = {
  '>': 'thresholds are inclusive (a value equal to the threshold passes): write ">="',
  '<': 'thresholds are inclusive (a value equal to the threshold passes): write "<="',
  '==': 'a metric is never gated on equality: write ">=" for a floor or "<=" for a ceiling',
  '=': 'a metric is never gated on equality: write ">=" for a floor or "<=" for a ceiling',
  '!=': 'a metric is never gated on inequality: write ">=" for a floor or "<=" for a ceiling',
  '=>': 'did you mean ">="?',
  '=<': 'did you mean "<="?',
};

/** Parses a gate expression such as `f1_macro >= baseline - 0.01 @interval`. */
export function parseGateExpression(text: string): GateSpec {
  const source = text.trim();
  const fail = (problem: string): never => {
    const stop = /[.?!]$/.test(problem) ? '' : '.';
    throw new ConfigurationError(`Gate "${source}": ${problem}${stop} ${GATE_EXPRESSION_FORMS}`);
  };
  if (source === '') fail('the gate is empty');

  let body = source;
  let confidence: GateConfidence = 'point';
  const at = body.indexOf('@');
  if (at >= 0) {
    const suffix = body.slice(at + 1).trim();
    if (!(GATE_CONFIDENCES as readonly string[]).includes(suffix)) {
      fail(
        `"@${suffix}" is not a confidence; end with "@point", "@interval" or "@noninferior".${didYouMean(suffix, GATE_CONFIDENCES)}`,
      );
    }
    confidence = suffix as GateConfidence;
    body = body.slice(0, at);
  }

  const match = OPERATOR.exec(body);
  if (!match) fail('there is no comparison; write ">=" or "<=" between the metric and the threshold');
  const operator = match![0];
  if (operator in OPERATOR_ERRORS) fail(`"${operator}" is not supported: ${OPERATOR_ERRORS[operator]}`);
  const left = body.slice(0, match!.index).trim();
  const right = body.slice(match!.index + operator.length).trim();
  if (OPERATOR.test(right)) fail('a gate has one comparison; write a range as two gates');

  if (left === '') fail('the metric is missing before the comparison');
  if (!IDENTIFIER.test(left) || left === 'baseline') {
    fail(`the metric comes first, then the threshold (e.g. "roc_auc >= 0.95"); got "${left}" on the left`);
  }
  if (!isMetricName(left)) fail(unknownMetricProblem(left));
  const metric = left as MetricName;
  const atLeast = operator === '>=' || operator === '≥';

  if (right === '') fail(`the threshold is missing after "${operator}"`);
  if (NUMBER.test(right)) {
    return {
      metric,
      rule: atLeast ? 'min' : 'max',
      threshold: Number(right),
      relative: false,
      confidence,
      source,
    };
  }
  if (/^[+-]?[\d.]+\s*%$/.test(right)) {
    fail(
      `a percent only applies to a change from the baseline ("baseline - 1%"); write a fixed threshold as a fraction, e.g. 0.9 for 90%`,
    );
  }
  const change = /^baseline\s*(?:([-+*])\s*(.*))?$/.exec(right);
  if (!change) {
    const word = /^[A-Za-z_]+/.exec(right)?.[0];
    if (word && word !== 'baseline') fail(`"${word}" is not a threshold.${didYouMean(word, ['baseline'])}`);
    fail(`cannot read the threshold "${right}"`);
  }
  const rule: GateRule = atLeast ? 'max-decrease' : 'max-increase';
  const sign = change![1];
  if (sign === undefined) return { metric, rule, threshold: 0, relative: false, confidence, source };
  // With a sign, the second group always matched (perhaps nothing). `right` is trimmed and `\s*`
  // took the spaces after the sign: the operand has none around it.
  const operand = change![2]!;
  if (operand === '') fail(`a number is missing after "baseline ${sign}"`);

  if (sign === '*') {
    if (!UNSIGNED_NUMBER.test(operand))
      fail(`"baseline * ${operand}": the factor must be a non-negative number, e.g. 0.99`);
    const factor = Number(operand);
    // `>= baseline * 0.99` allows a relative change of −0.01: max-decrease 0.01.
    const threshold = clean(atLeast ? 1 - factor : factor - 1);
    return { metric, rule, threshold, relative: true, confidence, source };
  }
  const percent = operand.endsWith('%');
  const digits = percent ? operand.slice(0, -1).trim() : operand;
  if (!UNSIGNED_NUMBER.test(digits)) {
    fail(`"baseline ${sign} ${operand}": write a number without a sign after "${sign}", e.g. 0.01 or 1%`);
  }
  const amount = percent ? clean(Number(digits) / 100) : Number(digits);
  // `>= baseline - d` is max-decrease d; `>= baseline + d` asks for a gain: max-decrease −d.
  const towardsRule = (sign === '-') === atLeast;
  return { metric, rule, threshold: towardsRule ? amount : -amount, relative: percent, confidence, source };
}

/** Parses one `model.thresholds` entry, e.g. `{ metric: 'f1_macro', 'max-decrease': 0.01 }`; `where` names it in messages and becomes its source. */
export function parseGateConfig(entry: unknown, where: string): GateSpec {
  const fail = (problem: string): never => {
    throw new ConfigurationError(`${where}: ${problem}`, { key: where });
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail(
      `a threshold is a mapping such as { metric: roc_auc, min: 0.9 }; got ${entry === null ? 'null' : Array.isArray(entry) ? 'a list' : typeof entry}.`,
    );
  }
  const record = entry as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      fail(`unknown key "${key}".${didYouMean(key, CONFIG_KEYS)} Allowed keys: ${CONFIG_KEYS.join(', ')}.`);
    }
  }
  const metric = record.metric;
  if (metric === undefined) fail(`"metric" is missing; name one of: ${METRIC_NAMES.join(', ')}.`);
  if (typeof metric !== 'string') fail(`"metric" must be a metric name; got ${JSON.stringify(metric)}.`);
  if (!isMetricName(metric as string)) fail(`${unknownMetricProblem(metric as string)}.`);

  const rules = GATE_RULES.filter((rule) => record[rule] !== undefined);
  if (rules.length === 0) fail(`"${metric}" needs a threshold: one of ${GATE_RULES.join(', ')}.`);
  if (rules.length > 1) {
    fail(
      `has ${rules.join(' and ')}; an entry holds exactly one of ${GATE_RULES.join(', ')} (write a range as two entries).`,
    );
  }
  const rule = rules[0];
  const threshold = record[rule];
  // Number.isFinite is false for anything but a finite number (a string included).
  if (!Number.isFinite(threshold)) {
    fail(`"${rule}" must be a finite number; got ${showValue(threshold)}.`);
  }

  const relative = record.relative ?? false;
  if (typeof relative !== 'boolean')
    fail(`"relative" must be true or false; got ${JSON.stringify(relative)}.`);
  if (relative && (rule === 'min' || rule === 'max')) {
    fail(`"relative" applies to max-decrease and max-increase only; ${rule} is a fixed value.`);
  }
  const confidence = record.confidence ?? 'point';
  if (typeof confidence !== 'string' || !(GATE_CONFIDENCES as readonly string[]).includes(confidence)) {
    fail(
      `"confidence" must be point, interval or noninferior; got ${JSON.stringify(confidence)}.${typeof confidence === 'string' ? didYouMean(confidence, GATE_CONFIDENCES) : ''}`,
    );
  }
  const slice = record.slice;
  if (slice !== undefined && (typeof slice !== 'string' || slice === '')) {
    fail(`"slice" must be a non-empty string; got ${JSON.stringify(slice)}.`);
  }
  const gate: GateSpec = {
    metric: metric as MetricName,
    rule,
    threshold: threshold as number,
    relative: relative as boolean,
    confidence: confidence as GateConfidence,
    source: where,
  };
  if (slice !== undefined) gate.slice = slice as string;
  return gate;
}

/** Throws a ConfigurationError naming every gate whose metric the task does not have (e.g. rmse on a binary model). */
export function checkGatesForTask(gates: readonly GateSpec[], task: Task): void {
  const wrong = gates.filter((gate) => !(METRICS[gate.metric].tasks as readonly Task[]).includes(task));
  if (wrong.length === 0) return;
  const lines = wrong.map(
    (gate) =>
      `"${gate.source}" gates ${gate.metric}, a metric of ${METRICS[gate.metric].tasks.join(' and ')} models`,
  );
  throw new ConfigurationError(
    `${wrong.length === 1 ? 'A gate uses a metric' : `${wrong.length} gates use metrics`} that a ${task} model does not have: ${lines.join('; ')}. Metrics of a ${task} model: ${metricsOfTask(task).join(', ')}.`,
  );
}

/** The expression of a gate, e.g. `f1_macro >= baseline - 0.01`; parseGateExpression reads it back (the slice is not part of the expression language). */
export function describeGate(gate: GateSpec): string {
  const suffix = gate.confidence === 'point' ? '' : ` @${gate.confidence}`;
  const { metric, rule, threshold } = gate;
  if (rule === 'min') return `${metric} >= ${threshold}${suffix}`;
  if (rule === 'max') return `${metric} <= ${threshold}${suffix}`;
  const operator = rule === 'max-decrease' ? '>=' : '<=';
  if (threshold === 0 && !gate.relative) return `${metric} ${operator} baseline${suffix}`;
  // max-decrease d reads `baseline - d`, max-increase d `baseline + d`; a negative d flips the sign.
  const towards = rule === 'max-decrease' ? '-' : '+';
  const away = rule === 'max-decrease' ? '+' : '-';
  const sign = threshold < 0 ? away : towards;
  const amount = gate.relative ? `${clean(Math.abs(threshold) * 100)}%` : `${Math.abs(threshold)}`;
  return `${metric} ${operator} baseline ${sign} ${amount}${suffix}`;
}

/** The fields of a gate that every evaluation of it repeats. */
export function describeGateFields(
  gate: GateSpec,
): Omit<GateEvaluation, 'status' | 'passed' | 'value' | 'reason'> {
  return {
    metric: gate.metric,
    rule: gate.rule,
    threshold: gate.threshold,
    relative: gate.relative,
    confidence: gate.confidence,
    source: gate.source,
    ...(gate.slice === undefined ? {} : { slice: gate.slice }),
  };
}

/**
 * Checks one gate. `onMissingBaseline` says what a change rule does without a baseline (see the
 * top of this file). Never throws for data: undefined values and impossible checks are `error`.
 */
export function evaluateGate(
  gate: GateSpec,
  inputs: GateInputs,
  onMissingBaseline: OnMissingBaseline,
): GateEvaluation {
  const base = describeGateFields(gate);
  const { metric, rule, threshold } = gate;
  const outcome = (
    status: GateEvaluation['status'],
    reason: string,
    value: number | null = null,
    interval?: [number, number],
  ): GateEvaluation => ({
    ...base,
    value,
    ...(interval === undefined ? {} : { interval }),
    passed: status === 'passed' ? true : status === 'skipped' ? null : false,
    status,
    reason,
  });
  const intervalName = inputs.level === undefined ? 'interval' : `${clean(inputs.level * 100)}% interval`;

  const candidate = inputs.candidate.value;
  if (inputs.undefinedReason !== undefined)
    return outcome('error', `${metric} is undefined: ${inputs.undefinedReason}`);
  if (Number.isNaN(candidate))
    return outcome('error', `${metric} is undefined (NaN), so the gate cannot be checked`);

  if (rule === 'min' || rule === 'max') {
    const tolerance = TOLERANCE * Math.max(1, Math.abs(threshold));
    const within = (x: number) => (rule === 'min' ? x >= threshold - tolerance : x <= threshold + tolerance);
    if (gate.confidence === 'point') {
      const passed = within(candidate);
      const comparison = passed ? (rule === 'min' ? '>=' : '<=') : rule === 'min' ? '<' : '>';
      return outcome(
        passed ? 'passed' : 'failed',
        `${metric} ${formatNear(candidate, threshold, tolerance)} ${comparison} ${rule} ${threshold}`,
        candidate,
        inputs.candidate.interval,
      );
    }
    const interval = inputs.candidate.interval;
    if (interval === undefined)
      return outcome('error', missingIntervalReason(metric, gate.confidence), candidate);
    if (interval.some(Number.isNaN)) {
      return outcome('error', `the ${intervalName} of ${metric} is undefined (NaN)`, candidate, interval);
    }
    const shown = `the ${intervalName} [${formatNear(interval[0], threshold, tolerance)}, ${formatNear(interval[1], threshold, tolerance)}] of ${metric}`;
    if (gate.confidence === 'noninferior') {
      // Fails only when even the favourable end breaks the rule.
      const passed = within(rule === 'min' ? interval[1] : interval[0]);
      const side = rule === 'min' ? 'below' : 'above';
      return outcome(
        passed ? 'passed' : 'failed',
        passed
          ? `${shown} reaches ${rule} ${threshold} or beyond: not shown ${rule === 'min' ? 'below' : 'above'} it`
          : `${shown} lies wholly ${side} ${rule} ${threshold}`,
        candidate,
        interval,
      );
    }
    const end = rule === 'min' ? interval[0] : interval[1];
    const passed = within(end);
    const side = rule === 'min' ? 'below' : 'above';
    return outcome(
      passed ? 'passed' : 'failed',
      `${shown} ${passed ? `lies at or ${rule === 'min' ? 'above' : 'below'}` : `reaches ${side}`} ${rule} ${threshold}`,
      candidate,
      interval,
    );
  }

  // Change rules.
  if (inputs.baseline === undefined) {
    if (onMissingBaseline === 'fail') {
      return outcome(
        'failed',
        'no baseline: change threshold cannot be checked (on-missing-baseline: fail); give a baseline, or set on-missing-baseline to skip or value-only',
      );
    }
    return outcome(
      'skipped',
      `no baseline: change threshold not checked (on-missing-baseline: ${onMissingBaseline})`,
    );
  }
  const baseline = inputs.baseline.value;
  if (Number.isNaN(baseline)) {
    return outcome('error', `the baseline's ${metric} is undefined (NaN), so its change cannot be checked`);
  }
  if (gate.relative && baseline === 0) {
    return outcome(
      'error',
      `the baseline's ${metric} is 0, so a relative change cannot be computed (division by zero); use an absolute threshold`,
    );
  }
  const scale = gate.relative ? Math.abs(baseline) : 1;
  const change = (candidate - baseline) / scale;
  if (Number.isNaN(change)) {
    return outcome('error', `the change in ${metric} is undefined (${baseline} → ${candidate})`);
  }
  const magnitude = gate.relative
    ? Math.max(1, Math.abs(threshold), Math.abs(candidate) / scale)
    : Math.max(1, Math.abs(threshold), Math.abs(candidate), Math.abs(baseline));
  const tolerance = TOLERANCE * (Number.isFinite(magnitude) ? magnitude : 1);
  // max-decrease d: change >= −d; max-increase d: change <= d.
  const bound = rule === 'max-decrease' ? -threshold : threshold;
  const within = (x: number) => (rule === 'max-decrease' ? x >= bound - tolerance : x <= bound + tolerance);
  const limit = `${rule} ${formatAmount(threshold, gate.relative)}`;
  const values = `(${formatNear(baseline, candidate)} → ${formatNear(candidate, baseline)})`;
  const wrongWay = wrongWayNote(gate);

  let pointOutcome: GateEvaluation | undefined;
  if (gate.confidence === 'point') {
    const passed = within(change);
    let moved = 'did not change';
    if (change !== 0) {
      // Stryker disable next-line EqualityOperator: change is not 0 here
      const direction = change < 0 ? 'fell' : 'rose';
      moved = `${direction} by ${formatChange(change, bound, gate.relative, tolerance).replace(/^-/, '')}`;
    }
    let verdict: string;
    if (threshold >= 0) verdict = `${passed ? 'within' : 'more than'} ${limit}`;
    else {
      // A negative threshold demands a gain of at least |threshold|.
      const gain = `${rule === 'max-decrease' ? 'rise' : 'fall'} of ${formatAmount(-threshold, gate.relative)}`;
      verdict = `${passed ? 'meeting' : 'short of'} the required ${gain} (${limit})`;
    }
    pointOutcome = outcome(
      passed ? 'passed' : 'failed',
      `${metric} ${moved} ${values}, ${verdict}${passed ? '' : wrongWay}`,
      change,
    );
    // Without an interval the point decision stands alone; with one, the resolution is added below.
    const usable = inputs.difference?.interval;
    if (usable === undefined || usable.some(Number.isNaN)) return pointOutcome;
  }
  const absolute = inputs.difference?.interval;
  if (absolute === undefined)
    return outcome('error', missingIntervalReason(`the change in ${metric}`, gate.confidence), change);
  const interval: [number, number] = [absolute[0] / scale, absolute[1] / scale];
  if (interval.some(Number.isNaN)) {
    return outcome(
      'error',
      `the ${intervalName} of the change in ${metric} is undefined (NaN)`,
      change,
      interval,
    );
  }
  const resolution = (interval[1] - interval[0]) / 2;
  // Two significant digits: the half-width of a bootstrap interval is an estimate, not a measurement.
  const resolves = `; this holdout resolves changes of about ±${formatAmount(Number((gate.relative ? resolution * 100 : resolution).toPrecision(2)) / (gate.relative ? 100 : 1), gate.relative)}`;
  const kind = gate.relative ? 'relative change' : 'change';
  const boundText = formatAmount(bound, gate.relative);
  const shown = `the ${intervalName} [${formatChange(interval[0], bound, gate.relative, tolerance)}, ${formatChange(interval[1], bound, gate.relative, tolerance)}] of the ${kind} in ${metric} ${values}`;
  const checked = (status: 'passed' | 'failed', reason: string): GateEvaluation => ({
    ...outcome(status, reason, change, interval),
    resolution,
  });
  if (gate.confidence === 'noninferior') {
    // Non-inferiority: blocked only when the favourable end is beyond the margin too.
    const passed = within(rule === 'max-decrease' ? interval[1] : interval[0]);
    const worse = rule === 'max-decrease' ? 'below' : 'above';
    return checked(
      passed ? 'passed' : 'failed',
      passed
        ? `${shown} reaches ${boundText} or beyond: not shown worse than ${limit}${resolves}`
        : `${shown} lies wholly ${worse} ${boundText}: shown worse than ${limit}${resolves}${wrongWay}`,
    );
  }
  if (pointOutcome) return { ...pointOutcome, resolution, reason: `${pointOutcome.reason}${resolves}` };
  const passed = within(rule === 'max-decrease' ? interval[0] : interval[1]);
  const where = passed
    ? `lies at or ${rule === 'max-decrease' ? 'above' : 'below'}`
    : `reaches ${rule === 'max-decrease' ? 'below' : 'above'}`;
  return checked(
    passed ? 'passed' : 'failed',
    `${shown} ${where} ${boundText} (${limit})${resolves}${passed ? '' : wrongWay}`,
  );
}

/** "unknown metric …" with a suggestion and the valid names. */
/**
 * Checks a slice gate (its `slice` set) on the slices of the holdout, by the rules at the top of
 * this file: one result per slice it applies to, or one error when it matches none.
 */
export function evaluateSliceGate(
  gate: GateSpec & { slice: string },
  slices: readonly SliceReport[],
  onMissingBaseline: OnMissingBaseline,
): (GateEvaluation & { expression: string })[] {
  const expression = describeGate(gate);
  const [column, value] = gate.slice.split(/=(.*)/s, 2);
  const targets = slices.filter((s) => s.column === column && (value === undefined || s.value === value));
  if (targets.length === 0) {
    return [
      {
        ...describeGateFields(gate),
        expression,
        status: 'error',
        passed: false,
        value: null,
        reason: `slice ${gate.slice} matches no slice of the holdout (slices: ${[...new Set(slices.map((s) => `${s.column}=${s.value}`))].join(', ') || 'none configured'})`,
      },
    ];
  }
  return targets.map((slice) => {
    const label = `${slice.column}=${slice.value}`;
    if (slice.tooSmall) {
      return {
        ...describeGateFields(gate),
        slice: label,
        expression,
        status: 'skipped',
        passed: null,
        value: null,
        reason: `slice ${label} has ${slice.rows} rows, fewer than the minimum slice size: not gated`,
      };
    }
    const baselineValue = slice.baselineMetrics?.[gate.metric];
    const evaluation = evaluateGate(
      { ...gate, slice: label },
      {
        candidate: { value: slice.metrics[gate.metric] ?? Number.NaN },
        ...(baselineValue !== undefined ? { baseline: { value: baselineValue } } : {}),
      },
      onMissingBaseline,
    );
    return { ...evaluation, expression, reason: `${label}: ${evaluation.reason}` };
  });
}

/** A value as written in messages: JSON, except numbers JSON cannot show (NaN, Infinity from YAML's .nan, .inf). */
function showValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function unknownMetricProblem(name: string): string {
  const suggestion = didYouMean(name, METRIC_NAMES);
  return `unknown metric "${name}".${suggestion} Valid metrics: ${METRIC_NAMES.join(', ')}`;
}

/** Why an interval gate could not be checked. */
function missingIntervalReason(what: string, confidence: GateConfidence): string {
  return `confidence is ${confidence} but no interval of ${what} is available: turn on bootstrap intervals or use @point`;
}

/** For a failed change rule that limits the metric's good direction: say so, since it is probably a mistake. */
function wrongWayNote(gate: GateSpec): string {
  const direction = METRICS[gate.metric].direction;
  const limitsImprovement =
    (gate.rule === 'max-decrease' && direction === 'lower') ||
    (gate.rule === 'max-increase' && direction === 'higher');
  if (!limitsImprovement) return '';
  return ` (${direction} is better for ${gate.metric}, so this gate limits an improvement)`;
}

/** A threshold as written in reasons: absolute as given, relative in percent. */
function formatAmount(amount: number, relative: boolean): string {
  return relative ? `${clean(amount * 100)}%` : `${amount}`;
}

/** A change (or an end of its interval) as written in reasons, precise enough to show its side of `bound`. */
function formatChange(x: number, bound: number, relative: boolean, tolerance: number): string {
  return relative ? `${formatNear(x * 100, bound * 100, tolerance * 100)}%` : formatNear(x, bound, tolerance);
}

/**
 * `x` with 4 significant digits, or more when needed to show on which side of `reference` it
 * lies (0.94999 against 0.95 prints as 0.94999, not 0.95). Within `tolerance` of the reference,
 * where the gate treats it as equal, the shortest form that rounds to the reference will do.
 */
function formatNear(x: number, reference: number, tolerance = 0): string {
  // (±Infinity prints as itself at the first step; NaN, never on a side, falls through to the end.)
  // Stryker disable next-line EqualityOperator: |x − reference| equals the tolerance exactly only for reference 0 and x = ±tolerance, which prints alike either way
  const side = Math.abs(x - reference) <= tolerance ? 0 : Math.sign(x - reference);
  // Stryker disable next-line EqualityOperator: 17 digits always round-trip, so a 17th step prints what the fallback prints
  for (let digits = 4; digits < 17; digits++) {
    const shown = Number(x.toPrecision(digits));
    // Stryker disable next-line EqualityOperator: as above, exactly at the tolerance only around 0
    const shownSide = Math.abs(shown - reference) <= tolerance ? 0 : Math.sign(shown - reference);
    if (shownSide === side) return `${shown}`;
  }
  return `${x}`;
}

/** Drops the binary noise of decimal arithmetic: 1 − 0.99 is 0.010000000000000009, cleaned 0.01. */
function clean(x: number): number {
  return Number(x.toPrecision(15));
}
