import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import type { GateInputs, GateSpec } from '../../src/core/model/gates.ts';
import {
  checkGatesForTask,
  describeGate,
  evaluateGate,
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

  const errors: [string, string[]][] = [
    ['accuracy > 0.9', ['">" is not supported', 'inclusive', 'write ">="', 'Valid forms']],
    ['accuracy < 0.9', ['"<" is not supported', 'write "<="']],
    ['accuracy == 0.9', ['"==" is not supported', 'equality']],
    ['accuracy = 0.9', ['"=" is not supported']],
    ['accuracy => 0.9', ['did you mean ">="?']],
    [
      'roc_acu >= 0.9',
      ['unknown metric "roc_acu"', 'Did you mean "roc_auc"?', 'Valid metrics: accuracy,', 'mape'],
    ],
    ['ROC_AUC >= 0.9', ['Did you mean "roc_auc"?']],
    ['roc_auc >=', ['the threshold is missing after ">="']],
    ['roc_auc >= baseline -', ['a number is missing after "baseline -"']],
    ['roc_auc >= baseline - -0.1', ['without a sign']],
    ['roc_auc >= baseline * -1', ['non-negative number']],
    ['roc_auc', ['there is no comparison']],
    ['', ['the gate is empty']],
    ['0.9 <= roc_auc', ['the metric comes first']],
    ['0.9 <= roc_auc <= 1', ['one comparison']],
    ['accuracy >= 90%', ['a percent only applies to a change from the baseline', '0.9 for 90%']],
    ['accuracy >= baseline / 2', ['cannot read the threshold "baseline / 2"']],
    ['accuracy >= baseine - 0.1', ['"baseine" is not a threshold', 'Did you mean "baseline"?']],
    ['accuracy >= 0.9 @intervl', ['"@intervl" is not a confidence', 'Did you mean "interval"?']],
  ];
  for (const [text, parts] of errors) {
    it(`rejects "${text}"`, () => {
      const message = errorOf(() => parseGateExpression(text));
      expect(message.startsWith(`Gate "${text}": `)).toBe(true);
      for (const part of parts) expect(message).toContain(part);
      expect(message).toContain('Valid forms:');
    });
  }
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

  const errors: [unknown, string[]][] = [
    [
      { metric: 'roc_auc', min: 0.9, max: 1 },
      ['has min and max', 'exactly one of min, max, max-decrease, max-increase'],
    ],
    [{ metric: 'roc_auc' }, ['needs a threshold']],
    [{ min: 0.9 }, ['"metric" is missing']],
    [{ metric: 3, min: 0.9 }, ['"metric" must be a metric name']],
    [
      { metric: 'roc_acu', min: 0.9 },
      ['unknown metric "roc_acu"', 'Did you mean "roc_auc"?', 'Valid metrics:'],
    ],
    [{ metric: 'roc_auc', maxDecrease: 0.1 }, ['unknown key "maxDecrease"', 'Did you mean "max-decrease"?']],
    [{ metric: 'roc_auc', min: '0.9' }, ['"min" must be a number; got "0.9"']],
    [{ metric: 'roc_auc', min: Number.NaN }, ['"min" must be a number']],
    [
      { metric: 'roc_auc', min: 0.9, relative: true },
      ['"relative" applies to max-decrease and max-increase only'],
    ],
    [{ metric: 'roc_auc', 'max-decrease': 0.1, relative: 'yes' }, ['"relative" must be true or false']],
    [
      { metric: 'roc_auc', min: 0.9, confidence: 'intervals' },
      ['"confidence" must be point, interval or noninferior', 'Did you mean "interval"?'],
    ],
    [{ metric: 'roc_auc', min: 0.9, slice: 3 }, ['"slice" must be a non-empty string']],
    ['roc_auc >= 0.9', ['a threshold is a mapping', 'got string']],
    [null, ['got null']],
    [[1], ['got a list']],
  ];
  for (const [entry, parts] of errors) {
    it(`rejects ${JSON.stringify(entry)}`, () => {
      let error: unknown;
      try {
        parseGateConfig(entry, 'model.thresholds[3]');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      const { message, location } = error as ConfigurationError;
      expect(message.startsWith('model.thresholds[3]: ')).toBe(true);
      expect(location.key).toBe('model.thresholds[3]');
      for (const part of parts) expect(message).toContain(part);
    });
  }
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
