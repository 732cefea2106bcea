/**
 * The one module that reads action inputs (src/actions/shared/inputs.ts), driven through the
 * INPUT_* variables the runner sets: what each reader returns, and that every bad value is a
 * ConfigurationError naming the input and what it accepts (never a TypeError, which the actions
 * would report as an internal error).
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  getBooleanInput,
  getListInput,
  getNumberInput,
  getOptionalInput,
  getRequiredInput,
  type ListSeparator,
  type NumberBounds,
} from '../../src/actions/shared/inputs.ts';
import { ConfigurationError } from '../../src/core/errors.ts';

const NAME = 'some-input';
const VARIABLE = 'INPUT_SOME-INPUT';

function setInput(value: string | undefined): void {
  if (value === undefined) delete process.env[VARIABLE];
  else process.env[VARIABLE] = value;
}

afterEach(() => setInput(undefined));

/** The ConfigurationError `read` throws (fails the test on anything else). */
function configurationError(read: () => unknown): ConfigurationError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('getBooleanInput', () => {
  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['  true  ', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['', undefined],
    [undefined, undefined],
  ])('%j reads as %j', (value, expected) => {
    setInput(value);
    expect(getBooleanInput(NAME)).toBe(expected);
  });

  test.each(['yes', 'no', 'on', '1', '0', 'tRuE', 'true false'])(
    '%j is refused naming the input',
    (value) => {
      setInput(value);
      const error = configurationError(() => getBooleanInput(NAME));
      expect(error.message).toBe(`Input "${NAME}" must be true or false; got "${value}".`);
      expect(error.location.key).toBe(NAME);
    },
  );
});

describe('getListInput', () => {
  test.each<[string, ListSeparator, string[]]>([
    ['a\nb\n\nc', 'lines', ['a', 'b', 'c']],
    ['a\r\nb', 'lines', ['a', 'b']],
    ['roc_auc >= 0.9, @interval\nf1 >= 0.8', 'lines', ['roc_auc >= 0.9, @interval', 'f1 >= 0.8']],
    ['mlops-reports/{data,model}.json', 'lines', ['mlops-reports/{data,model}.json']],
    ['# the reports\nreports/*.json\n  # indented comment\n', 'lines', ['reports/*.json']],
    ['a, b,,c', 'lines-and-commas', ['a', 'b', 'c']],
    ['a, b\nc\n# d, e\nf', 'lines-and-commas', ['a', 'b', 'c', 'f']],
    ['good first issue, deploy', 'lines-and-commas', ['good first issue', 'deploy']],
    ['', 'lines-and-commas', []],
    [' , ,\n\n', 'lines-and-commas', []],
  ])('%j split by %s is %j', (value, separator, expected) => {
    setInput(value);
    expect(getListInput(NAME, separator)).toEqual(expected);
  });
});

describe('getNumberInput', () => {
  test.each<[string, NumberBounds, number | undefined]>([
    ['7', {}, 7],
    ['0.25', {}, 0.25],
    ['-3', {}, -3],
    ['1', { integer: true, min: 1, max: 90 }, 1],
    ['90', { integer: true, min: 1, max: 90 }, 90],
    ['', { integer: true, min: 1 }, undefined],
  ])('%j within %j reads as %j', (value, bounds, expected) => {
    setInput(value);
    expect(getNumberInput(NAME, bounds)).toBe(expected);
  });

  test.each<[string, NumberBounds, string]>([
    ['seven', {}, 'a number'],
    ['Infinity', {}, 'a number'],
    ['1e', {}, 'a number'],
    ['0', { integer: true, min: 1, max: 90 }, 'a whole number from 1 to 90'],
    ['91', { integer: true, min: 1, max: 90 }, 'a whole number from 1 to 90'],
    ['1.5', { integer: true, min: 1, max: 90 }, 'a whole number from 1 to 90'],
    ['-1', { min: 0 }, 'a number of at least 0'],
    ['2', { max: 1 }, 'a number of at most 1'],
  ])('%j within %j is refused, saying it must be %s', (value, bounds, expected) => {
    setInput(value);
    const error = configurationError(() => getNumberInput(NAME, bounds));
    expect(error.message).toBe(`Input "${NAME}" must be ${expected}; got "${value}".`);
  });
});

describe('getRequiredInput and getOptionalInput', () => {
  test.each([
    ['value', 'value'],
    ['  padded  ', 'padded'],
  ])('%j is read as %j', (value, expected) => {
    setInput(value);
    expect(getRequiredInput(NAME, 'what it is')).toBe(expected);
    expect(getOptionalInput(NAME)).toBe(expected);
  });

  test.each([[''], [undefined]])(
    '%j: required is refused with what it is, optional is undefined',
    (value) => {
      setInput(value);
      const error = configurationError(() => getRequiredInput(NAME, 'the .onnx file to package'));
      expect(error.message).toBe(`Input "${NAME}" is required: the .onnx file to package.`);
      expect(getOptionalInput(NAME)).toBeUndefined();
    },
  );

  test('trimWhitespace: false keeps a delimiter that is a space or a tab', () => {
    setInput('\t');
    expect(getOptionalInput(NAME, { trimWhitespace: false })).toBe('\t');
    expect(getOptionalInput(NAME)).toBeUndefined();
  });
});
