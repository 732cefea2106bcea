import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import type { GateEvaluation, GateInputs, GateSpec, SliceReport } from '../../src/core/model/gates.ts';
import {
  checkGatesForTask,
  describeGate,
  evaluateGate,
  evaluateSliceGate,
  parseGateConfig,
  parseGateExpression,
} from '../../src/core/model/gates.ts';

/** The spec without its source, for comparing the two ways of writing a gate. */
const rule = (gate: GateSpec) => {
  const { source: _source, ...rest } = gate;
  return rest;
};

/** The message of the ConfigurationError that `run` throws. */
function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseGateExpression', () => {
  const cases: [string, Omit<GateSpec, 'source'>][] = [
    [
      'roc_auc >= 0.95',
      { metric: 'roc_auc', rule: 'min', threshold: 0.95, relative: false, confidence: 'point' },
    ],
    [
      'log_loss <= 0.3',
      { metric: 'log_loss', rule: 'max', threshold: 0.3, relative: false, confidence: 'point' },
    ],
    ['r2 >= -0.5', { metric: 'r2', rule: 'min', threshold: -0.5, relative: false, confidence: 'point' }],
    [
      'accuracy>=1e-3',
      { metric: 'accuracy', rule: 'min', threshold: 0.001, relative: false, confidence: 'point' },
    ],
    [
      'rmse <= 60 @interval',
      { metric: 'rmse', rule: 'max', threshold: 60, relative: false, confidence: 'interval' },
    ],
    [
      'rmse <= 60 @point',
      { metric: 'rmse', rule: 'max', threshold: 60, relative: false, confidence: 'point' },
    ],
    [
      'f1_macro >= baseline - 0.01',
      { metric: 'f1_macro', rule: 'max-decrease', threshold: 0.01, relative: false, confidence: 'point' },
    ],
    [
      'f1_macro>=baseline-0.01',
      { metric: 'f1_macro', rule: 'max-decrease', threshold: 0.01, relative: false, confidence: 'point' },
    ],
    [
      'r2 >= baseline',
      { metric: 'r2', rule: 'max-decrease', threshold: 0, relative: false, confidence: 'point' },
    ],
    [
      'mae <= baseline',
      { metric: 'mae', rule: 'max-increase', threshold: 0, relative: false, confidence: 'point' },
    ],
    [
      'mae <= baseline + 2.5',
      { metric: 'mae', rule: 'max-increase', threshold: 2.5, relative: false, confidence: 'point' },
    ],
    [
      'log_loss <= baseline * 1.05',
      { metric: 'log_loss', rule: 'max-increase', threshold: 0.05, relative: true, confidence: 'point' },
    ],
    [
      'roc_auc >= baseline - 2%',
      { metric: 'roc_auc', rule: 'max-decrease', threshold: 0.02, relative: true, confidence: 'point' },
    ],
    [
      'roc_auc >= baseline * 0.99 @interval',
      { metric: 'roc_auc', rule: 'max-decrease', threshold: 0.01, relative: true, confidence: 'interval' },
    ],
    [
      'log_loss <= baseline + 5%',
      { metric: 'log_loss', rule: 'max-increase', threshold: 0.05, relative: true, confidence: 'point' },
    ],
    // Asking for a gain: a negative change threshold.
    [
      'f1_macro >= baseline + 0.01',
      { metric: 'f1_macro', rule: 'max-decrease', threshold: -0.01, relative: false, confidence: 'point' },
    ],
    [
      'mae <= baseline - 0.5',
      { metric: 'mae', rule: 'max-increase', threshold: -0.5, relative: false, confidence: 'point' },
    ],
    [
      'f1_macro >= baseline * 1.02',
      { metric: 'f1_macro', rule: 'max-decrease', threshold: -0.02, relative: true, confidence: 'point' },
    ],
    // The "wrong" way for a lower-is-better metric: allowed, and still a max-decrease.
    [
      'log_loss >= baseline - 0.1',
      { metric: 'log_loss', rule: 'max-decrease', threshold: 0.1, relative: false, confidence: 'point' },
    ],
  ];
  for (const [text, expected] of cases) {
    it(`reads "${text}"`, () => {
      const gate = parseGateExpression(text);
      expect(rule(gate)).toEqual(expected);
      expect(gate.source).toBe(text);
    });
  }

  it('makes "baseline - 1%" and "baseline * 0.99" the same gate', () => {
    expect(rule(parseGateExpression('roc_auc >= baseline - 1%'))).toEqual(
      rule(parseGateExpression('roc_auc >= baseline * 0.99')),
    );
    expect(rule(parseGateExpression('log_loss <= baseline + 5%'))).toEqual(
      rule(parseGateExpression('log_loss <= baseline * 1.05')),
    );
  });

  // The whole message: what is wrong, how to fix it, and the valid forms (written out here, not
  // imported, so that a changed form list fails).
  const FORMS =
    'Valid forms: "<metric> >= <number>", "<metric> <= <number>", "<metric> >= baseline", ' +
    '"<metric> >= baseline - <number>", "<metric> <= baseline + <number>", ' +
    '"<metric> >= baseline - <percent>%", "<metric> <= baseline * <factor>", each optionally ' +
    'followed by "@point" (default), "@interval" or "@noninferior"; e.g. "roc_auc >= 0.95", ' +
    '"f1_macro >= baseline - 0.01 @noninferior", "log_loss <= baseline * 1.05 @interval".';
  const METRIC_LIST =
    'accuracy, balanced_accuracy, precision, recall, f1, precision_macro, recall_macro, f1_macro, ' +
    'precision_weighted, recall_weighted, f1_weighted, roc_auc, roc_auc_weighted, average_precision, ' +
    'log_loss, brier, ece, mae, mse, rmse, r2, mape';
  const errors: [string, string][] = [
    [
      'accuracy > 0.9',
      '">" is not supported: thresholds are inclusive (a value equal to the threshold passes): write ">=".',
    ],
    [
      'accuracy < 0.9',
      '"<" is not supported: thresholds are inclusive (a value equal to the threshold passes): write "<=".',
    ],
    [
      'accuracy == 0.9',
      '"==" is not supported: a metric is never gated on equality: write ">=" for a floor or "<=" for a ceiling.',
    ],
    [
      'accuracy = 0.9',
      '"=" is not supported: a metric is never gated on equality: write ">=" for a floor or "<=" for a ceiling.',
    ],
    [
      'accuracy != 0.9',
      '"!=" is not supported: a metric is never gated on inequality: write ">=" for a floor or "<=" for a ceiling.',
    ],
    ['accuracy => 0.9', '"=>" is not supported: did you mean ">="?'],
    ['accuracy =< 0.9', '"=<" is not supported: did you mean "<="?'],
    ['roc_acu >= 0.9', `unknown metric "roc_acu". Did you mean "roc_auc"? Valid metrics: ${METRIC_LIST}.`],
    ['ROC_AUC >= 0.9', `unknown metric "ROC_AUC". Did you mean "roc_auc"? Valid metrics: ${METRIC_LIST}.`],
    ['roc_auc >=', 'the threshold is missing after ">=".'],
    ['roc_auc >= baseline -', 'a number is missing after "baseline -".'],
    [
      'roc_auc >= baseline - -0.1',
      '"baseline - -0.1": write a number without a sign after "-", e.g. 0.01 or 1%.',
    ],
    ['roc_auc >= baseline * -1', '"baseline * -1": the factor must be a non-negative number, e.g. 0.99.'],
    [
      'roc_auc >= baseline * 1.05%',
      '"baseline * 1.05%": the factor must be a non-negative number, e.g. 0.99.',
    ],
    ['roc_auc', 'there is no comparison; write ">=" or "<=" between the metric and the threshold.'],
    ['', 'the gate is empty.'],
    ['   ', 'the gate is empty.'],
    [' >= 0.9', 'the metric is missing before the comparison.'],
    [
      '0.9 <= roc_auc',
      'the metric comes first, then the threshold (e.g. "roc_auc >= 0.95"); got "0.9" on the left.',
    ],
    [
      'baseline >= 0.9',
      'the metric comes first, then the threshold (e.g. "roc_auc >= 0.95"); got "baseline" on the left.',
    ],
    [
      'my metric >= 0.9',
      'the metric comes first, then the threshold (e.g. "roc_auc >= 0.95"); got "my metric" on the left.',
    ],
    ['0.9 <= roc_auc <= 1', 'a gate has one comparison; write a range as two gates.'],
    ['roc_auc >= 0.9 >= 0.8', 'a gate has one comparison; write a range as two gates.'],
    [
      'accuracy >= 90%',
      'a percent only applies to a change from the baseline ("baseline - 1%"); write a fixed threshold as a fraction, e.g. 0.9 for 90%.',
    ],
    [
      'accuracy >= -5 %',
      'a percent only applies to a change from the baseline ("baseline - 1%"); write a fixed threshold as a fraction, e.g. 0.9 for 90%.',
    ],
    ['accuracy >= baseline / 2', 'cannot read the threshold "baseline / 2".'],
    ['accuracy >= 0.9x', 'cannot read the threshold "0.9x".'],
    ['accuracy >= 1e', 'cannot read the threshold "1e".'],
    ['accuracy >= .', 'cannot read the threshold ".".'],
    ['accuracy >= baseline0.1', 'cannot read the threshold "baseline0.1".'],
    ['accuracy >= x0.9', '"x" is not a threshold.'],
    ['accuracy >= 90%x', 'cannot read the threshold "90%x".'],
    ['accuracy >= xbaseline - 0.1', '"xbaseline" is not a threshold. Did you mean "baseline"?'],
    [
      '@interval >= 0.5',
      '"@interval >= 0.5" is not a confidence; end with "@point", "@interval" or "@noninferior".',
    ],
    ['accuracy >= baseine - 0.1', '"baseine" is not a threshold. Did you mean "baseline"?'],
    [
      'accuracy >= 0.9 @intervl',
      '"@intervl" is not a confidence; end with "@point", "@interval" or "@noninferior". Did you mean "interval"?',
    ],
    ['accuracy >= 0.9 @', '"@" is not a confidence; end with "@point", "@interval" or "@noninferior".'],
  ];
  for (const [text, problem] of errors) {
    it(`rejects "${text}"`, () => {
      expect(errorOf(() => parseGateExpression(text))).toBe(`Gate "${text.trim()}": ${problem} ${FORMS}`);
    });
  }

  it('reads numbers in every notation the threshold allows', () => {
    for (const [text, threshold] of [
      ['accuracy >= .5', 0.5],
      ['accuracy >= .55', 0.55],
      ['accuracy >= 5e1', 50],
      ['accuracy >= 5e-10', 5e-10],
      ['accuracy >= baseline - .55', 0.55],
      ['accuracy >= baseline - 5e1', 50],
      ['accuracy >= baseline - 1e-10', 1e-10],
      ['accuracy >= 5.', 5],
      ['accuracy >= +0.5', 0.5],
      ['accuracy >= 5E-1', 0.5],
      ['accuracy >= 5e+0', 5],
      ['accuracy >= 10', 10],
      ['accuracy >= baseline - .5', 0.5],
      ['accuracy >= baseline - 5.', 5],
      ['accuracy >= baseline - 5E-1', 0.5],
      ['accuracy >= baseline - 1.5 %', 0.015],
      ['accuracy >= baseline * .5', 0.5],
      ['accuracy >= baseline * 2E-1', 0.8],
      ['accuracy >= baseline*1', 0],
      ['accuracy ≥ 0.5', 0.5],
    ] as const) {
      expect(parseGateExpression(text).threshold, text).toBe(threshold);
    }
    expect(parseGateExpression('mae ≤ 2').rule).toBe('max');
    expect(parseGateExpression('mae ≤ baseline').rule).toBe('max-increase');
    expect(parseGateExpression('mae ≥ baseline').rule).toBe('max-decrease');
  });

  it('reads the metric name only as a whole identifier', () => {
    expect(parseGateExpression('f1 >= 0.5').metric).toBe('f1');
    expect(parseGateExpression('  r2   >=   0.5  @interval ').source).toBe('r2   >=   0.5  @interval');
    expect(parseGateExpression('r2 >= 0.5 @ interval').confidence).toBe('interval');
  });
});

describe('describeGate', () => {
  const texts = [
    'roc_auc >= 0.95',
    'log_loss <= 0.3',
    'r2 >= -0.5',
    'accuracy >= 0.001',
    'rmse <= 60 @interval',
    'f1_macro >= baseline - 0.01',
    'r2 >= baseline',
    'mae <= baseline',
    'mae <= baseline + 2.5',
    'log_loss <= baseline + 5%',
    'roc_auc >= baseline - 1.5% @interval',
    'f1_macro >= baseline + 0.01',
    'mae <= baseline - 0.5',
    'f1_macro >= baseline + 2%',
    'log_loss >= baseline - 0.1',
    'roc_auc >= baseline - 0%',
  ];
  for (const text of texts) {
    it(`writes "${text}" back as it was`, () => {
      const gate = parseGateExpression(text);
      expect(describeGate(gate)).toBe(text);
      expect(rule(parseGateExpression(describeGate(gate)))).toEqual(rule(gate));
    });
  }

  it('round-trips the other spellings to an equal gate', () => {
    for (const text of [
      'log_loss <= baseline * 1.05',
      'roc_auc >= baseline * 0.99',
      'f1_macro >= baseline * 1.02',
      'rmse<=60 @point',
      'roc_auc >= 1e-7',
    ]) {
      const gate = parseGateExpression(text);
      expect(rule(parseGateExpression(describeGate(gate)))).toEqual(rule(gate));
    }
    expect(describeGate(parseGateExpression('log_loss <= baseline * 1.05'))).toBe(
      'log_loss <= baseline + 5%',
    );
  });

  it('round-trips config gates', () => {
    const gate = parseGateConfig(
      { metric: 'log_loss', 'max-increase': 0.125, relative: true },
      'thresholds[0]',
    );
    expect(describeGate(gate)).toBe('log_loss <= baseline + 12.5%');
    expect(rule(parseGateExpression(describeGate(gate)))).toEqual(rule(gate));
  });
});

describe('parseGateConfig', () => {
  const pairs: [Record<string, unknown>, string][] = [
    [{ metric: 'roc_auc', min: 0.9 }, 'roc_auc >= 0.9'],
    [{ metric: 'log_loss', max: 0.3 }, 'log_loss <= 0.3'],
    [{ metric: 'f1_macro', 'max-decrease': 0.01 }, 'f1_macro >= baseline - 0.01'],
    [{ metric: 'log_loss', 'max-increase': 0.05, relative: true }, 'log_loss <= baseline * 1.05'],
    [{ metric: 'roc_auc', 'max-decrease': 0.01, relative: true }, 'roc_auc >= baseline - 1%'],
    [{ metric: 'r2', 'max-decrease': 0 }, 'r2 >= baseline'],
    [{ metric: 'mae', 'max-increase': 2.5, confidence: 'interval' }, 'mae <= baseline + 2.5 @interval'],
    [{ metric: 'rmse', max: 60, confidence: 'point' }, 'rmse <= 60'],
  ];
  for (const [entry, text] of pairs) {
    it(`reads ${JSON.stringify(entry)} as "${text}"`, () => {
      const gate = parseGateConfig(entry, 'model.thresholds[0]');
      expect(rule(gate)).toEqual(rule(parseGateExpression(text)));
      expect(gate.source).toBe('model.thresholds[0]');
    });
  }

  it('carries the slice', () => {
    const gate = parseGateConfig({ metric: 'roc_auc', min: 0.9, slice: 'country == "DE"' }, 'thresholds[1]');
    expect(gate.slice).toBe('country == "DE"');
    const evaluation = evaluateGate(gate, { candidate: { value: 0.95 } }, 'fail');
    expect(evaluation.slice).toBe('country == "DE"');
    expect('slice' in parseGateConfig({ metric: 'roc_auc', min: 0.9 }, 'thresholds[2]')).toBe(false);
  });

  const METRIC_LIST =
    'accuracy, balanced_accuracy, precision, recall, f1, precision_macro, recall_macro, f1_macro, ' +
    'precision_weighted, recall_weighted, f1_weighted, roc_auc, roc_auc_weighted, average_precision, ' +
    'log_loss, brier, ece, mae, mse, rmse, r2, mape';
  const errors: [unknown, string][] = [
    [
      { metric: 'roc_auc', min: 0.9, max: 1 },
      'has min and max; an entry holds exactly one of min, max, max-decrease, max-increase (write a range as two entries).',
    ],
    [
      { metric: 'roc_auc', 'max-increase': 0.1, min: 0.2, max: 0.3 },
      'has min and max and max-increase; an entry holds exactly one of min, max, max-decrease, max-increase (write a range as two entries).',
    ],
    [{ metric: 'roc_auc' }, '"roc_auc" needs a threshold: one of min, max, max-decrease, max-increase.'],
    [{ min: 0.9 }, `"metric" is missing; name one of: ${METRIC_LIST}.`],
    [{ metric: 3, min: 0.9 }, '"metric" must be a metric name; got 3.'],
    [
      { metric: 'roc_acu', min: 0.9 },
      `unknown metric "roc_acu". Did you mean "roc_auc"? Valid metrics: ${METRIC_LIST}.`,
    ],
    [
      { metric: 'roc_auc', maxDecrease: 0.1 },
      'unknown key "maxDecrease". Did you mean "max-decrease"? Allowed keys: metric, min, max, max-decrease, max-increase, relative, confidence, slice.',
    ],
    [{ metric: 'roc_auc', min: '0.9' }, '"min" must be a finite number; got "0.9".'],
    [{ metric: 'roc_auc', min: Number.NaN }, '"min" must be a finite number; got NaN.'],
    [{ metric: 'roc_auc', max: Number.POSITIVE_INFINITY }, '"max" must be a finite number; got Infinity.'],
    [{ metric: 'roc_auc', 'max-decrease': null }, '"max-decrease" must be a finite number; got null.'],
    [
      { metric: 'roc_auc', min: 0.9, relative: true },
      '"relative" applies to max-decrease and max-increase only; min is a fixed value.',
    ],
    [
      { metric: 'roc_auc', max: 0.9, relative: true },
      '"relative" applies to max-decrease and max-increase only; max is a fixed value.',
    ],
    [
      { metric: 'roc_auc', 'max-decrease': 0.1, relative: 'yes' },
      '"relative" must be true or false; got "yes".',
    ],
    [
      { metric: 'roc_auc', min: 0.9, confidence: 'intervals' },
      '"confidence" must be point, interval or noninferior; got "intervals". Did you mean "interval"?',
    ],
    [
      { metric: 'roc_auc', min: 0.9, confidence: 3 },
      '"confidence" must be point, interval or noninferior; got 3.',
    ],
    [{ metric: 'roc_auc', min: 0.9, slice: 3 }, '"slice" must be a non-empty string; got 3.'],
    [{ metric: 'roc_auc', min: 0.9, slice: '' }, '"slice" must be a non-empty string; got "".'],
    ['roc_auc >= 0.9', 'a threshold is a mapping such as { metric: roc_auc, min: 0.9 }; got string.'],
    [7, 'a threshold is a mapping such as { metric: roc_auc, min: 0.9 }; got number.'],
    [null, 'a threshold is a mapping such as { metric: roc_auc, min: 0.9 }; got null.'],
    [[1], 'a threshold is a mapping such as { metric: roc_auc, min: 0.9 }; got a list.'],
  ];
  for (const [entry, problem] of errors) {
    it(`rejects ${JSON.stringify(entry)}`, () => {
      let error: unknown;
      try {
        parseGateConfig(entry, 'model.thresholds[3]');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      const { message, location } = error as ConfigurationError;
      expect(message).toBe(`model.thresholds[3]: ${problem}`);
      expect(location.key).toBe('model.thresholds[3]');
    });
  }

  it('reads the defaults: absolute, point, no slice', () => {
    const gate = parseGateConfig({ metric: 'f1_macro', 'max-decrease': 0.02 }, 'thresholds[0]');
    expect(gate).toEqual({
      metric: 'f1_macro',
      rule: 'max-decrease',
      threshold: 0.02,
      relative: false,
      confidence: 'point',
      source: 'thresholds[0]',
    });
    expect(parseGateConfig({ metric: 'mae', 'max-increase': 0.1, relative: false }, 't').relative).toBe(
      false,
    );
    expect(
      parseGateConfig({ metric: 'mae', 'max-increase': 0.1, confidence: 'noninferior' }, 't').confidence,
    ).toBe('noninferior');
  });
});

describe('checkGatesForTask', () => {
  it('accepts gates whose metrics the task has', () => {
    expect(() =>
      checkGatesForTask([parseGateExpression('roc_auc >= 0.9'), parseGateExpression('f1 >= 0.5')], 'binary'),
    ).not.toThrow();
    expect(() => checkGatesForTask([parseGateExpression('rmse <= 3')], 'regression')).not.toThrow();
    expect(() => checkGatesForTask([], 'multiclass')).not.toThrow();
  });

  it('names every gate whose metric the task lacks, and lists the task metrics', () => {
    const message = errorOf(() =>
      checkGatesForTask(
        [
          parseGateExpression('rmse <= 60'),
          parseGateExpression('roc_auc >= 0.9'),
          parseGateExpression('mae <= 3'),
        ],
        'binary',
      ),
    );
    expect(message).toContain('2 gates use metrics that a binary model does not have');
    expect(message).toContain('"rmse <= 60" gates rmse, a metric of regression models');
    expect(message).toContain('"mae <= 3" gates mae');
    expect(message).not.toContain('"roc_auc >= 0.9"');
    expect(message).toContain('Metrics of a binary model: accuracy, balanced_accuracy, precision');
    expect(message).not.toMatch(/Metrics of a binary model:.*rmse/);
  });

  it('joins several wrong gates into one message', () => {
    expect(
      errorOf(() =>
        checkGatesForTask([parseGateExpression('rmse <= 60'), parseGateExpression('mae <= 3')], 'multiclass'),
      ),
    ).toBe(
      '2 gates use metrics that a multiclass model does not have: "rmse <= 60" gates rmse, a metric of regression models; ' +
        '"mae <= 3" gates mae, a metric of regression models. Metrics of a multiclass model: accuracy, balanced_accuracy, ' +
        'precision_macro, recall_macro, f1_macro, precision_weighted, recall_weighted, f1_weighted, roc_auc, roc_auc_weighted, ' +
        'average_precision, log_loss, ece.',
    );
  });

  it('names every task a misplaced metric belongs to', () => {
    expect(errorOf(() => checkGatesForTask([parseGateExpression('roc_auc >= 0.5')], 'regression'))).toBe(
      'A gate uses a metric that a regression model does not have: "roc_auc >= 0.5" gates roc_auc, a metric of binary and multiclass models. Metrics of a regression model: mae, mse, rmse, r2, mape.',
    );
  });

  it('knows binary-only metrics are not multiclass metrics', () => {
    const message = errorOf(() =>
      checkGatesForTask([parseGateConfig({ metric: 'f1', min: 0.8 }, 'thresholds[0]')], 'multiclass'),
    );
    expect(message).toContain(
      'A gate uses a metric that a multiclass model does not have: "thresholds[0]" gates f1',
    );
  });
});

describe('evaluateGate', () => {
  const check = (text: string, inputs: GateInputs, onMissing: 'fail' | 'skip' | 'value-only' = 'fail') =>
    evaluateGate(parseGateExpression(text), inputs, onMissing);

  it('checks min and max on the value, inclusively', () => {
    const failed = check('roc_auc >= 0.95', { candidate: { value: 0.9412 } });
    expect(failed).toMatchObject({
      status: 'failed',
      passed: false,
      value: 0.9412,
      reason: 'roc_auc 0.9412 < min 0.95',
    });
    expect(check('roc_auc >= 0.95', { candidate: { value: 0.95 } })).toMatchObject({
      status: 'passed',
      passed: true,
      reason: 'roc_auc 0.95 >= min 0.95',
    });
    expect(check('log_loss <= 0.3', { candidate: { value: 0.35 } }).reason).toBe('log_loss 0.35 > max 0.3');
    expect(check('log_loss <= 0.3', { candidate: { value: 0.3 } }).status).toBe('passed');
  });

  it('fails 1e-9 beyond a threshold and prints enough digits to show it', () => {
    const below = check('roc_auc >= 0.95', { candidate: { value: 0.95 - 1e-9 } });
    expect(below.status).toBe('failed');
    expect(below.reason).toBe('roc_auc 0.949999999 < min 0.95');
    expect(check('log_loss <= 0.3', { candidate: { value: 0.3 + 1e-9 } }).status).toBe('failed');
    expect(check('rmse <= 60', { candidate: { value: 60 + 1e-9 } }).status).toBe('failed');
    // Within the tolerance 1e-12 · max(1, |threshold|): equal.
    expect(check('roc_auc >= 0.95', { candidate: { value: 0.95 - 1e-13 } }).status).toBe('passed');
    expect(check('rmse <= 60', { candidate: { value: 60 + 1e-11 } }).status).toBe('passed');
  });

  it('checks max-decrease with tolerance for the rounding of the change', () => {
    // 0.95 − 0.96 is −0.010000000000000009 in floating point: still a fall of exactly 0.01.
    const atLimit = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.95 },
      baseline: { value: 0.96 },
    });
    expect(atLimit.status).toBe('passed');
    expect(atLimit.reason).toBe('f1_macro fell by 0.01 (0.96 → 0.95), within max-decrease 0.01');
    const beyond = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.95 - 1e-9 },
      baseline: { value: 0.96 },
    });
    expect(beyond.status).toBe('failed');
    const failed = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.9299 },
      baseline: { value: 0.9512 },
    });
    expect(failed).toMatchObject({ status: 'failed', passed: false });
    expect(failed.value).toBeCloseTo(-0.0213, 12);
    expect(failed.reason).toBe('f1_macro fell by 0.0213 (0.9512 → 0.9299), more than max-decrease 0.01');
    const rose = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.97 },
      baseline: { value: 0.96 },
    });
    expect(rose.reason).toBe('f1_macro rose by 0.01 (0.96 → 0.97), within max-decrease 0.01');
  });

  it('checks max-increase, and "no worse than baseline"', () => {
    expect(
      check('mae <= baseline + 2.5', { candidate: { value: 12.5 }, baseline: { value: 10 } }).status,
    ).toBe('passed');
    const failed = check('mae <= baseline + 2.5', {
      candidate: { value: 12.5 + 1e-9 },
      baseline: { value: 10 },
    });
    expect(failed.status).toBe('failed');
    expect(failed.reason).toBe('mae rose by 2.500000001 (10 → 12.5), more than max-increase 2.5');
    expect(check('r2 >= baseline', { candidate: { value: 0.5 }, baseline: { value: 0.5 } }).reason).toBe(
      'r2 did not change (0.5 → 0.5), within max-decrease 0',
    );
    expect(
      check('r2 >= baseline', { candidate: { value: 0.5 - 1e-9 }, baseline: { value: 0.5 } }).status,
    ).toBe('failed');
  });

  it('tolerates rounding in proportion to large metric values', () => {
    // 1000000.3 − 1000000 is 0.30000000004656613: the rounding of operands of order 1e6, which
    // a tolerance of 1e-12 · max(1, threshold) alone would call a failure.
    const gate = 'mse <= baseline + 0.3';
    expect(check(gate, { candidate: { value: 1_000_000.3 }, baseline: { value: 1_000_000 } }).status).toBe(
      'passed',
    );
    expect(check(gate, { candidate: { value: 1_000_000.3001 }, baseline: { value: 1_000_000 } }).status).toBe(
      'failed',
    );
  });

  it('checks relative changes on |baseline|', () => {
    const failed = check('log_loss <= baseline * 1.05', {
      candidate: { value: 0.3186 },
      baseline: { value: 0.3 },
    });
    expect(failed.status).toBe('failed');
    expect(failed.value).toBeCloseTo(0.062, 12);
    expect(failed.reason).toBe('log_loss rose by 6.2% (0.3 → 0.3186), more than max-increase 5%');
    // Exactly at the limit: 0.3 · 1.05 = 0.315.
    expect(
      check('log_loss <= baseline + 5%', { candidate: { value: 0.315 }, baseline: { value: 0.3 } }).status,
    ).toBe('passed');
    expect(
      check('log_loss <= baseline + 5%', { candidate: { value: 0.315 + 1e-9 }, baseline: { value: 0.3 } })
        .status,
    ).toBe('failed');
    expect(
      check('f1_macro >= baseline - 1%', { candidate: { value: 0.891 }, baseline: { value: 0.9 } }).status,
    ).toBe('passed');
    // A negative baseline (r2 can be): −0.5 → −0.504 is 0.8% of |−0.5| worse.
    const negative = check('r2 >= baseline - 1%', {
      candidate: { value: -0.504 },
      baseline: { value: -0.5 },
    });
    expect(negative.value).toBeCloseTo(-0.008, 12);
    expect(negative.status).toBe('passed');
    expect(
      check('r2 >= baseline - 1%', { candidate: { value: -0.506 }, baseline: { value: -0.5 } }).status,
    ).toBe('failed');
  });

  it('reports an error, never a pass, for a relative change on a zero baseline', () => {
    const result = check('f1_macro >= baseline - 1%', { candidate: { value: 0.1 }, baseline: { value: 0 } });
    expect(result).toMatchObject({ status: 'error', passed: false, value: null });
    expect(result.reason).toContain('division by zero');
    // An absolute rule is fine with a zero baseline.
    expect(
      check('f1_macro >= baseline - 0.01', { candidate: { value: 0 }, baseline: { value: 0 } }).status,
    ).toBe('passed');
  });

  it('explains gates that demand a gain', () => {
    const short = check('f1_macro >= baseline + 0.01', {
      candidate: { value: 0.962 },
      baseline: { value: 0.96 },
    });
    expect(short.status).toBe('failed');
    expect(short.reason).toBe(
      'f1_macro rose by 0.002 (0.96 → 0.962), short of the required rise of 0.01 (max-decrease -0.01)',
    );
    const met = check('f1_macro >= baseline + 0.01', {
      candidate: { value: 0.975 },
      baseline: { value: 0.96 },
    });
    expect(met.status).toBe('passed');
    expect(met.reason).toContain('meeting the required rise of 0.01');
  });

  it('keeps the math right for a gate pointing against the metric direction, and says so', () => {
    const fell = check('log_loss >= baseline - 0.1', { candidate: { value: 0.3 }, baseline: { value: 0.5 } });
    expect(fell.status).toBe('failed');
    expect(fell.reason).toBe(
      'log_loss fell by 0.2 (0.5 → 0.3), more than max-decrease 0.1 (lower is better for log_loss, so this gate limits an improvement)',
    );
    expect(
      check('log_loss >= baseline - 0.1', { candidate: { value: 0.45 }, baseline: { value: 0.5 } }).status,
    ).toBe('passed');
    expect(
      check('log_loss >= baseline - 0.1', { candidate: { value: 0.9 }, baseline: { value: 0.5 } }).status,
    ).toBe('passed');
  });

  it('checks the whole interval for min and max', () => {
    const failed = check('roc_auc >= 0.95 @interval', {
      candidate: { value: 0.955, interval: [0.931, 0.962] },
      level: 0.95,
    });
    expect(failed).toMatchObject({ status: 'failed', value: 0.955, interval: [0.931, 0.962] });
    expect(failed.reason).toBe('the 95% interval [0.931, 0.962] of roc_auc reaches below min 0.95');
    const passed = check('roc_auc >= 0.95 @interval', {
      candidate: { value: 0.955, interval: [0.95, 0.962] },
    });
    expect(passed.status).toBe('passed');
    expect(passed.reason).toBe('the interval [0.95, 0.962] of roc_auc lies at or above min 0.95');
    expect(
      check('rmse <= 60 @interval', { candidate: { value: 55, interval: [50, 60 + 1e-9] } }).status,
    ).toBe('failed');
    // The point value passing does not matter.
    expect(check('rmse <= 60 @interval', { candidate: { value: 1, interval: [0, 61] } }).status).toBe(
      'failed',
    );
  });

  it('checks the difference interval for change rules (divided by |baseline| when relative)', () => {
    const inputs = (low: number, high: number): GateInputs => ({
      candidate: { value: 0.9299 },
      baseline: { value: 0.9512 },
      difference: { interval: [low, high] },
      level: 0.95,
    });
    const failed = check('f1_macro >= baseline - 0.01 @interval', inputs(-0.03, 0.004));
    expect(failed).toMatchObject({ status: 'failed', interval: [-0.03, 0.004] });
    expect(failed.reason).toBe(
      'the 95% interval [-0.03, 0.004] of the change in f1_macro (0.9512 → 0.9299) reaches below -0.01 (max-decrease 0.01); this holdout resolves changes of about ±0.017',
    );
    expect(failed.resolution).toBeCloseTo(0.017, 14);
    // The point change (−0.0213) fails, but only the interval counts here.
    expect(check('f1_macro >= baseline - 0.01 @interval', inputs(-0.01, 0.004)).status).toBe('passed');
    expect(check('f1_macro >= baseline - 0.01 @interval', inputs(-0.01 - 1e-9, 0.004)).status).toBe('failed');

    const relative = check('log_loss <= baseline + 5% @interval', {
      candidate: { value: 0.31 },
      baseline: { value: 0.3 },
      difference: { interval: [-0.003, 0.012] },
      level: 0.9,
    });
    expect(relative.status).toBe('passed');
    expect(relative.interval![0]).toBeCloseTo(-0.01, 14);
    expect(relative.interval![1]).toBeCloseTo(0.04, 14);
    expect(relative.reason).toBe(
      'the 90% interval [-1%, 4%] of the relative change in log_loss (0.3 → 0.31) lies at or below 5% (max-increase 5%); this holdout resolves changes of about ±2.5%',
    );
    expect(relative.resolution).toBeCloseTo(0.025, 14);
    expect(
      check('log_loss <= baseline + 5% @interval', {
        candidate: { value: 0.31 },
        baseline: { value: 0.3 },
        difference: { interval: [-0.003, 0.016] },
      }).status,
    ).toBe('failed');
  });

  it('@noninferior blocks only when the whole interval shows the candidate worse than the margin', () => {
    const inputs = (low: number, high: number): GateInputs => ({
      candidate: { value: 0.93 },
      baseline: { value: 0.95 },
      difference: { interval: [low, high] },
      level: 0.95,
    });
    const gate = 'f1_macro >= baseline - 0.01 @noninferior';
    // The interval reaches the allowed side: the holdout cannot show the candidate worse.
    const unclear = check(gate, inputs(-0.05, 0.01));
    expect(unclear).toMatchObject({ status: 'passed', confidence: 'noninferior', interval: [-0.05, 0.01] });
    expect(unclear.reason).toBe(
      'the 95% interval [-0.05, 0.01] of the change in f1_macro (0.95 → 0.93) reaches -0.01 or beyond: not shown worse than max-decrease 0.01; this holdout resolves changes of about ±0.03',
    );
    // At the margin exactly is not "worse than the margin"; just beyond it is.
    expect(check(gate, inputs(-0.05, -0.01)).status).toBe('passed');
    const worse = check(gate, inputs(-0.05, -0.01 - 1e-9));
    expect(worse.status).toBe('failed');
    expect(worse.reason).toMatch(/lies wholly below -0\.01: shown worse than max-decrease 0\.01/);
    // max-increase reads the low end; relative rules divide by |baseline|.
    const loss = (low: number, high: number) =>
      check('log_loss <= baseline * 1.05 @noninferior', {
        candidate: { value: 0.4 },
        baseline: { value: 0.3 },
        difference: { interval: [low, high] },
      });
    expect(loss(0.014, 0.2).status).toBe('passed');
    expect(loss(0.016, 0.2).status).toBe('failed');
    // Absolute rules: the favourable end decides.
    expect(
      check('roc_auc >= 0.5 @noninferior', { candidate: { value: 0.45, interval: [0.4, 0.5] } }).status,
    ).toBe('passed');
    expect(
      check('roc_auc >= 0.5 @noninferior', { candidate: { value: 0.45, interval: [0.4, 0.49] } }).status,
    ).toBe('failed');
    expect(check('rmse <= 60 @noninferior', { candidate: { value: 70, interval: [60, 80] } }).status).toBe(
      'passed',
    );
    expect(check('rmse <= 60 @noninferior', { candidate: { value: 70, interval: [61, 80] } }).status).toBe(
      'failed',
    );
    // No interval: an error, never a pass.
    expect(check(gate, { candidate: { value: 0.93 }, baseline: { value: 0.95 } })).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/confidence is noninferior but no interval/),
    });
  });

  it('states the resolution next to point change gates too, when the interval is known', () => {
    const point = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.94 },
      baseline: { value: 0.95 },
      difference: { interval: [-0.04, 0.02] },
    });
    expect(point).toMatchObject({ status: 'passed', resolution: 0.03 });
    expect(point.reason).toMatch(/within max-decrease 0\.01; this holdout resolves changes of about ±0\.03$/);
    expect(point.interval).toBeUndefined();
    const noInterval = check('f1_macro >= baseline - 0.01', {
      candidate: { value: 0.94 },
      baseline: { value: 0.95 },
    });
    expect(noInterval.resolution).toBeUndefined();
    expect(noInterval.status).toBe('passed');
  });

  it('writes the resolution with two significant digits', () => {
    const relative = check('rmse <= baseline * 1.05 @noninferior', {
      candidate: { value: 60 },
      baseline: { value: 55 },
      difference: { interval: [-20.2935883638845, 38.3] },
    });
    expect(relative.reason).toMatch(/this holdout resolves changes of about ±53%$/);
    expect(relative.resolution).toBeCloseTo(29.29679418194225 / 55, 12);
  });

  it('reads and writes @noninferior', () => {
    const gate = parseGateExpression('f1_macro >= baseline - 0.02 @noninferior');
    expect(gate).toMatchObject({ rule: 'max-decrease', threshold: 0.02, confidence: 'noninferior' });
    expect(describeGate(gate)).toBe('f1_macro >= baseline - 0.02 @noninferior');
    expect(
      parseGateConfig({ metric: 'rmse', 'max-increase': 1, confidence: 'noninferior' }, 'x').confidence,
    ).toBe('noninferior');
    expect(() => parseGateExpression('f1_macro >= baseline @noninferiour')).toThrow(
      /Did you mean "noninferior"/,
    );
  });
  it('reports an error when an interval gate has no interval', () => {
    const value = check('roc_auc >= 0.9 @interval', { candidate: { value: 0.95 } });
    expect(value).toMatchObject({ status: 'error', passed: false });
    expect(value.reason).toContain('no interval of roc_auc is available');
    const change = check('roc_auc >= baseline @interval', {
      candidate: { value: 0.95 },
      baseline: { value: 0.9 },
    });
    expect(change.status).toBe('error');
    expect(change.reason).toContain('no interval of the change in roc_auc');
    const nan = check('roc_auc >= 0.9 @interval', {
      candidate: { value: 0.95, interval: [Number.NaN, 0.97] },
    });
    expect(nan.status).toBe('error');
  });

  it('follows on-missing-baseline for change rules', () => {
    const inputs: GateInputs = { candidate: { value: 0.9 } };
    const failed = check('f1_macro >= baseline - 0.01', inputs, 'fail');
    expect(failed).toMatchObject({ status: 'failed', passed: false, value: null });
    expect(failed.reason).toContain('no baseline');
    expect(check('f1_macro >= baseline - 0.01', inputs, 'skip')).toMatchObject({
      status: 'skipped',
      passed: null,
    });
    expect(check('f1_macro >= baseline - 0.01', inputs, 'value-only')).toMatchObject({
      status: 'skipped',
      passed: null,
      reason: 'no baseline: change threshold not checked (on-missing-baseline: value-only)',
    });
    // Value rules do not need a baseline.
    expect(check('f1_macro >= 0.8', inputs, 'fail').status).toBe('passed');
  });

  it('never passes an undefined metric', () => {
    const reason = check('roc_auc >= 0.5', {
      candidate: { value: Number.NaN },
      undefinedReason: 'only one class in the labels',
    });
    expect(reason).toMatchObject({ status: 'error', passed: false, value: null });
    expect(reason.reason).toBe('roc_auc is undefined: only one class in the labels');
    expect(check('roc_auc >= 0.5', { candidate: { value: Number.NaN } })).toMatchObject({
      status: 'error',
      passed: false,
    });
    expect(
      check('roc_auc <= baseline + 1', { candidate: { value: Number.NaN }, baseline: { value: 0.5 } }).status,
    ).toBe('error');
    expect(
      check('roc_auc >= baseline - 1', { candidate: { value: 0.5 }, baseline: { value: Number.NaN } }),
    ).toMatchObject({ status: 'error', passed: false });
    // A reason alone (value present) still counts as undefined.
    expect(check('roc_auc >= 0.5', { candidate: { value: 0.7 }, undefinedReason: 'x' }).status).toBe('error');
  });

  it('copies the gate into the evaluation', () => {
    const gate = parseGateExpression('rmse <= 60 @interval');
    const evaluation = evaluateGate(gate, { candidate: { value: 50, interval: [40, 59] } }, 'fail');
    expect(evaluation).toEqual({
      metric: 'rmse',
      rule: 'max',
      threshold: 60,
      relative: false,
      confidence: 'interval',
      source: 'rmse <= 60 @interval',
      value: 50,
      interval: [40, 59],
      passed: true,
      status: 'passed',
      reason: 'the interval [40, 59] of rmse lies at or below max 60',
    });
  });
});

describe('evaluateGate: every decision path, its status and its reason word for word', () => {
  type Case = [string, GateInputs, GateEvaluation['status'], string, ('fail' | 'skip' | 'value-only')?];
  const cases: Case[] = [
    [
      'roc_auc >= 0.5',
      { candidate: { value: Number.NaN } },
      'error',
      'roc_auc is undefined (NaN), so the gate cannot be checked',
    ],
    [
      'roc_auc >= 0.5 @interval',
      { candidate: { value: 0.7 } },
      'error',
      'confidence is interval but no interval of roc_auc is available: turn on bootstrap intervals or use @point',
    ],
    [
      'roc_auc >= 0.5 @noninferior',
      { candidate: { value: 0.7, interval: [Number.NaN, 0.8] }, level: 0.95 },
      'error',
      'the 95% interval of roc_auc is undefined (NaN)',
    ],
    [
      'roc_auc >= 0.5 @noninferior',
      { candidate: { value: 0.45, interval: [0.4, 0.52] }, level: 0.95 },
      'passed',
      'the 95% interval [0.4, 0.52] of roc_auc reaches min 0.5 or beyond: not shown below it',
    ],
    [
      'roc_auc >= 0.5 @noninferior',
      { candidate: { value: 0.45, interval: [0.4, 0.48] }, level: 0.95 },
      'failed',
      'the 95% interval [0.4, 0.48] of roc_auc lies wholly below min 0.5',
    ],
    [
      'rmse <= 2 @noninferior',
      { candidate: { value: 2.1, interval: [1.9, 2.3] }, level: 0.9 },
      'passed',
      'the 90% interval [1.9, 2.3] of rmse reaches max 2 or beyond: not shown above it',
    ],
    [
      'rmse <= 2 @noninferior',
      { candidate: { value: 2.3, interval: [2.1, 2.5] } },
      'failed',
      'the interval [2.1, 2.5] of rmse lies wholly above max 2',
    ],
    [
      'rmse <= 2 @interval',
      { candidate: { value: 1.5, interval: [1.2, 2.2] } },
      'failed',
      'the interval [1.2, 2.2] of rmse reaches above max 2',
    ],
    [
      'rmse <= 2 @interval',
      { candidate: { value: 1.5, interval: [1.2, 1.9] } },
      'passed',
      'the interval [1.2, 1.9] of rmse lies at or below max 2',
    ],
    [
      'r2 >= baseline',
      { candidate: { value: 0.5 }, baseline: { value: Number.NaN } },
      'error',
      "the baseline's r2 is undefined (NaN), so its change cannot be checked",
    ],
    [
      'r2 >= baseline * 0.9',
      { candidate: { value: 0.5 }, baseline: { value: 0 } },
      'error',
      "the baseline's r2 is 0, so a relative change cannot be computed (division by zero); use an absolute threshold",
    ],
    [
      'r2 >= baseline',
      { candidate: { value: Number.POSITIVE_INFINITY }, baseline: { value: Number.POSITIVE_INFINITY } },
      'error',
      'the change in r2 is undefined (Infinity → Infinity)',
    ],
    [
      'r2 >= baseline - 0.1',
      { candidate: { value: 0.5 } },
      'failed',
      'no baseline: change threshold cannot be checked (on-missing-baseline: fail); give a baseline, or set on-missing-baseline to skip or value-only',
      'fail',
    ],
    [
      'r2 >= baseline - 0.1',
      { candidate: { value: 0.5 } },
      'skipped',
      'no baseline: change threshold not checked (on-missing-baseline: skip)',
      'skip',
    ],
    [
      'r2 >= baseline - 0.1',
      { candidate: { value: 0.5 }, baseline: { value: 0.5 } },
      'passed',
      'r2 did not change (0.5 → 0.5), within max-decrease 0.1',
    ],
    [
      'log_loss >= baseline - 0.1',
      { candidate: { value: 0.2 }, baseline: { value: 0.5 } },
      'failed',
      'log_loss fell by 0.3 (0.5 → 0.2), more than max-decrease 0.1 (lower is better for log_loss, so this gate limits an improvement)',
    ],
    [
      'mae <= baseline - 0.5',
      { candidate: { value: 2 }, baseline: { value: 2.2 } },
      'failed',
      'mae fell by 0.2 (2.2 → 2), short of the required fall of 0.5 (max-increase -0.5)',
    ],
    [
      'accuracy <= baseline + 0.01',
      { candidate: { value: 0.95 }, baseline: { value: 0.9 } },
      'failed',
      'accuracy rose by 0.05 (0.9 → 0.95), more than max-increase 0.01 (higher is better for accuracy, so this gate limits an improvement)',
    ],
    [
      'accuracy <= baseline + 0.1',
      { candidate: { value: 0.95 }, baseline: { value: 0.9 } },
      'passed',
      'accuracy rose by 0.05 (0.9 → 0.95), within max-increase 0.1',
    ],
    [
      'r2 >= baseline - 0.1 @interval',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 } },
      'error',
      'confidence is interval but no interval of the change in r2 is available: turn on bootstrap intervals or use @point',
    ],
    [
      'r2 >= baseline - 0.1 @interval',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 }, difference: { interval: [Number.NaN, 0.1] } },
      'error',
      'the interval of the change in r2 is undefined (NaN)',
    ],
    [
      'r2 >= baseline - 0.1 @interval',
      {
        candidate: { value: 0.5 },
        baseline: { value: 0.55 },
        difference: { interval: [-0.12, 0.02] },
        level: 0.95,
      },
      'failed',
      'the 95% interval [-0.12, 0.02] of the change in r2 (0.55 → 0.5) reaches below -0.1 (max-decrease 0.1); this holdout resolves changes of about ±0.07',
    ],
    [
      'r2 >= baseline - 0.1 @interval',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 }, difference: { interval: [-0.08, 0.02] } },
      'passed',
      'the interval [-0.08, 0.02] of the change in r2 (0.55 → 0.5) lies at or above -0.1 (max-decrease 0.1); this holdout resolves changes of about ±0.05',
    ],
    [
      'mae <= baseline + 0.1 @interval',
      { candidate: { value: 2.05 }, baseline: { value: 2 }, difference: { interval: [-0.02, 0.12] } },
      'failed',
      'the interval [-0.02, 0.12] of the change in mae (2 → 2.05) reaches above 0.1 (max-increase 0.1); this holdout resolves changes of about ±0.07',
    ],
    [
      'mae <= baseline + 0.1 @interval',
      { candidate: { value: 2.05 }, baseline: { value: 2 }, difference: { interval: [-0.02, 0.08] } },
      'passed',
      'the interval [-0.02, 0.08] of the change in mae (2 → 2.05) lies at or below 0.1 (max-increase 0.1); this holdout resolves changes of about ±0.05',
    ],
    [
      'mae <= baseline + 0.1 @noninferior',
      { candidate: { value: 2.15 }, baseline: { value: 2 }, difference: { interval: [0.11, 0.19] } },
      'failed',
      'the interval [0.11, 0.19] of the change in mae (2 → 2.15) lies wholly above 0.1: shown worse than max-increase 0.1; this holdout resolves changes of about ±0.04',
    ],
    [
      'mae <= baseline + 0.1 @noninferior',
      { candidate: { value: 2.15 }, baseline: { value: 2 }, difference: { interval: [0.05, 0.19] } },
      'passed',
      'the interval [0.05, 0.19] of the change in mae (2 → 2.15) reaches 0.1 or beyond: not shown worse than max-increase 0.1; this holdout resolves changes of about ±0.07',
    ],
    [
      'log_loss >= baseline - 10% @noninferior',
      { candidate: { value: 0.2 }, baseline: { value: 0.5 }, difference: { interval: [-0.4, -0.2] } },
      'failed',
      'the interval [-80%, -40%] of the relative change in log_loss (0.5 → 0.2) lies wholly below -10%: shown worse than max-decrease 10%; this holdout resolves changes of about ±20% (lower is better for log_loss, so this gate limits an improvement)',
    ],
    [
      'r2 >= baseline - 0.1 @noninferior',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 }, difference: { interval: [-0.12, 0.02] } },
      'passed',
      'the interval [-0.12, 0.02] of the change in r2 (0.55 → 0.5) reaches -0.1 or beyond: not shown worse than max-decrease 0.1; this holdout resolves changes of about ±0.07',
    ],
    [
      'r2 >= baseline - 0.1',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 }, difference: { interval: [-0.12, 0.02] } },
      'passed',
      'r2 fell by 0.05 (0.55 → 0.5), within max-decrease 0.1; this holdout resolves changes of about ±0.07',
    ],
    [
      'r2 >= baseline - 0.1',
      { candidate: { value: 0.5 }, baseline: { value: 0.55 }, difference: { interval: [Number.NaN, 0.02] } },
      'passed',
      'r2 fell by 0.05 (0.55 → 0.5), within max-decrease 0.1',
    ],
  ];
  for (const [text, inputs, status, reason, onMissing] of cases) {
    it(`${text}: ${reason}`, () => {
      const result = evaluateGate(parseGateExpression(text), inputs, onMissing ?? 'fail');
      expect(result.status).toBe(status);
      expect(result.passed).toBe(status === 'passed' ? true : status === 'skipped' ? null : false);
      expect(result.reason).toBe(reason);
    });
  }

  it('carries the interval and the resolution only where a difference interval was read', () => {
    const base = { candidate: { value: 0.5 }, baseline: { value: 0.55 } };
    const point = evaluateGate(parseGateExpression('r2 >= baseline - 0.1'), base, 'fail');
    expect(point.value).toBeCloseTo(-0.05, 12);
    expect('interval' in point).toBe(false);
    expect('resolution' in point).toBe(false);
    const withInterval = evaluateGate(
      parseGateExpression('r2 >= baseline - 0.1'),
      { ...base, difference: { interval: [-0.12, 0.02] } },
      'fail',
    );
    expect(withInterval.resolution).toBeCloseTo(0.07, 12);
    const relative = evaluateGate(
      parseGateExpression('r2 >= baseline - 10% @noninferior'),
      { candidate: { value: 0.5 }, baseline: { value: -0.5 }, difference: { interval: [0.1, 0.3] } },
      'fail',
    );
    // Divided by |baseline|: the interval and the resolution are relative.
    expect(relative.interval).toEqual([0.2, 0.6]);
    expect(relative.resolution).toBeCloseTo(0.2, 12);
    expect(relative.value).toBeCloseTo(2, 12);
  });
});

describe('evaluateGate at the tolerance', () => {
  const check = (text: string, inputs: GateInputs) => evaluateGate(parseGateExpression(text), inputs, 'fail');

  it('says which side of the threshold a point value is on', () => {
    expect(check('rmse <= 2', { candidate: { value: 1.5 } }).reason).toBe('rmse 1.5 <= max 2');
    expect(check('rmse <= 2', { candidate: { value: 2.5 } }).reason).toBe('rmse 2.5 > max 2');
    expect(check('roc_auc >= 0.5', { candidate: { value: 0.7 } }).reason).toBe('roc_auc 0.7 >= min 0.5');
    expect(check('roc_auc >= 0.5', { candidate: { value: 0.3 } }).reason).toBe('roc_auc 0.3 < min 0.5');
  });

  it('passes a value exactly the tolerance beyond the threshold, on both rules', () => {
    // threshold ∓ 1e-12 × max(1, |threshold|), computed as the gate computes it.
    expect(check('roc_auc >= 1', { candidate: { value: 1 - 1e-12 } }).status).toBe('passed');
    expect(check('rmse <= 1', { candidate: { value: 1 + 1e-12 } }).status).toBe('passed');
    // A baseline of 0 makes the change the candidate itself.
    const base = { baseline: { value: 0 } };
    expect(check('r2 >= baseline - 0.1', { candidate: { value: -0.1 - 1e-12 }, ...base }).status).toBe(
      'passed',
    );
    expect(check('mae <= baseline + 0.1', { candidate: { value: 0.1 + 1e-12 }, ...base }).status).toBe(
      'passed',
    );
  });

  it('scales the tolerance of a relative change by |candidate| / |baseline|', () => {
    // Magnitude max(1, 0.05, 2.1 / 2) = 1.05: a relative change 0.05 + 5e-13 is within it …
    expect(
      check('mae <= baseline * 1.05', { candidate: { value: 2.1 + 1e-12 }, baseline: { value: 2 } }).status,
    ).toBe('passed');
    // … and 0.05 + 2e-12 is not (1.05e-12 < 2e-12).
    expect(
      check('mae <= baseline * 1.05', { candidate: { value: 2.1 + 4e-12 }, baseline: { value: 2 } }).status,
    ).toBe('failed');
  });

  it('prints a value within the tolerance as the threshold, and one beyond it with the digits that show it', () => {
    expect(check('roc_auc >= 0.30000000000000004', { candidate: { value: 0.30000000000001 } }).reason).toBe(
      'roc_auc 0.3 >= min 0.30000000000000004',
    );
    // Adjacent doubles: only the round-trip form tells them apart.
    expect(
      check('r2 >= baseline', { candidate: { value: 0.10000000000000002 }, baseline: { value: 0.1 } }).reason,
    ).toBe('r2 rose by 1.388e-17 (0.1 → 0.10000000000000002), within max-decrease 0');
    expect(check('roc_auc >= 0.5', { candidate: { value: Number.POSITIVE_INFINITY } }).reason).toBe(
      'roc_auc Infinity >= min 0.5',
    );
    // A positive change with an exponent keeps its exponent's sign.
    expect(
      check('mae <= baseline + 0.1', { candidate: { value: 1 + 1e-7 }, baseline: { value: 1 } }).reason,
    ).toBe('mae rose by 1e-7 (1 → 1.0000001), within max-increase 0.1');
  });

  it('prints a relative change near its bound with the digits that show its side', () => {
    expect(
      check('r2 >= baseline - 1%', { candidate: { value: 0.990001 }, baseline: { value: 1 } }).reason,
    ).toBe('r2 fell by 0.9999% (1 → 0.99), within max-decrease 1%');
    expect(
      check('r2 >= baseline - 1%', { candidate: { value: 0.98999 }, baseline: { value: 1 } }).reason,
    ).toBe('r2 fell by 1.001% (1 → 0.99), more than max-decrease 1%');
    // Rounded to 4 digits it would read as the bound: more digits show that it is within.
    expect(
      check('r2 >= baseline - 1%', { candidate: { value: 0.9900001 }, baseline: { value: 1 } }).reason,
    ).toBe('r2 fell by 0.99999% (1 → 0.99), within max-decrease 1%');
    // Within the tolerance: the bound itself.
    expect(
      check('r2 >= baseline - 1%', { candidate: { value: 0.99 - 1e-13 }, baseline: { value: 1 } }).reason,
    ).toBe('r2 fell by 1% (1 → 0.99), within max-decrease 1%');
  });

  it('adds no slice field to a gate without one', () => {
    const evaluation = check('roc_auc >= 0.5', { candidate: { value: 0.7 } });
    expect('slice' in evaluation).toBe(false);
    expect('interval' in evaluation).toBe(false);
  });
});

describe('evaluateSliceGate', () => {
  const slices: SliceReport[] = [
    {
      column: 'region',
      value: 'EU',
      rows: 40,
      tooSmall: false,
      metrics: { roc_auc: 0.8 },
      baselineMetrics: { roc_auc: 0.85 },
    },
    { column: 'region', value: 'US', rows: 5, tooSmall: true, metrics: { roc_auc: 0.9 } },
    { column: 'size', value: 'a=b', rows: 50, tooSmall: false, metrics: { roc_auc: 0.7 } },
    { column: 'size', value: 'c', rows: 50, tooSmall: false, metrics: {} },
  ];
  const gate = (
    slice: string,
    entry: Record<string, unknown> = { metric: 'roc_auc', 'max-decrease': 0.02 },
  ) => parseGateConfig({ ...entry, slice }, 'thresholds[1]') as GateSpec & { slice: string };

  it('checks every value of the column, skipping slices below the minimum size', () => {
    const results = evaluateSliceGate(gate('region'), slices, 'fail');
    expect(results.map((r) => [r.slice, r.status, r.passed, r.reason])).toEqual([
      [
        'region=EU',
        'failed',
        false,
        'region=EU: roc_auc fell by 0.05 (0.85 → 0.8), more than max-decrease 0.02',
      ],
      [
        'region=US',
        'skipped',
        null,
        'slice region=US has 5 rows, fewer than the minimum slice size: not gated',
      ],
    ]);
    expect(results.every((r) => r.expression === 'roc_auc >= baseline - 0.02')).toBe(true);
    expect(results[1].value).toBeNull();
  });

  it('checks only the named value; a value may contain "="', () => {
    expect(evaluateSliceGate(gate('region=EU'), slices, 'fail').map((r) => r.slice)).toEqual(['region=EU']);
    const [result] = evaluateSliceGate(gate('size=a=b', { metric: 'roc_auc', min: 0.6 }), slices, 'fail');
    expect(result).toMatchObject({
      slice: 'size=a=b',
      status: 'passed',
      reason: 'size=a=b: roc_auc 0.7 >= min 0.6',
    });
  });

  it('is an error, never a pass, when no slice matches or the slice has no value for the metric', () => {
    const [none] = evaluateSliceGate(gate('region=ASIA'), slices, 'fail');
    expect(none).toMatchObject({
      status: 'error',
      passed: false,
      value: null,
      slice: 'region=ASIA',
      reason:
        'slice region=ASIA matches no slice of the holdout (slices: region=EU, region=US, size=a=b, size=c)',
    });
    const [empty] = evaluateSliceGate(gate('x', { metric: 'roc_auc', min: 0.5 }), [], 'fail');
    expect(empty.reason).toBe('slice x matches no slice of the holdout (slices: none configured)');
    const [missing] = evaluateSliceGate(gate('size=c', { metric: 'roc_auc', min: 0.5 }), slices, 'fail');
    expect(missing).toMatchObject({
      status: 'error',
      reason: 'size=c: roc_auc is undefined (NaN), so the gate cannot be checked',
    });
  });

  it('follows on-missing-baseline when the slice has no baseline value', () => {
    const [skipped] = evaluateSliceGate(gate('size=a=b'), slices, 'skip');
    expect(skipped).toMatchObject({
      status: 'skipped',
      reason: 'size=a=b: no baseline: change threshold not checked (on-missing-baseline: skip)',
    });
    const [failed] = evaluateSliceGate(gate('size=a=b'), slices, 'fail');
    expect(failed.status).toBe('failed');
  });
});
