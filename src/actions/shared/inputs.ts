/**
 * Action inputs, read in one place. Every reader throws a `ConfigurationError` that names the
 * input and the values it takes, so a mistake in a workflow's `with:` is reported as the user's
 * to fix (exit 1 with one `::error`), never as an internal error. Modelled on github/codeql-action's
 * `src/actions-util.ts`; `core.getBooleanInput` is not used because it throws a `TypeError`.
 *
 * Optional inputs read as `undefined` when empty: the runner passes every declared input, `''`
 * when the workflow gives none and action.yml has no default.
 */
import * as core from '@actions/core';
import { ConfigurationError } from '../../core/errors.ts';

/** The spellings `true`/`false` that GitHub's own boolean inputs accept (YAML 1.2 core schema). */
const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

function invalid(name: string, expected: string, value: string): ConfigurationError {
  return new ConfigurationError(`Input "${name}" must be ${expected}; got "${value}".`, { key: name });
}

/**
 * An input that must be set; `what` says what it is, for the message when it is empty
 * (e.g. "the environment to deploy to, e.g. staging").
 */
export function getRequiredInput(name: string, what: string): string {
  const value = core.getInput(name);
  if (value === '') throw new ConfigurationError(`Input "${name}" is required: ${what}.`, { key: name });
  return value;
}

/**
 * An optional input: `undefined` when empty, trimmed otherwise (`trimWhitespace: false` keeps
 * spaces, e.g. for a delimiter that is a space or a tab).
 */
export function getOptionalInput(
  name: string,
  options: { trimWhitespace?: boolean } = {},
): string | undefined {
  const value = core.getInput(name, { trimWhitespace: options.trimWhitespace ?? true });
  return value === '' ? undefined : value;
}

/** A `true`/`false` input (also `True`, `TRUE`, …, as GitHub's own); `undefined` when empty. */
export function getBooleanInput(name: string): boolean | undefined {
  const value = core.getInput(name);
  if (value === '') return undefined;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw invalid(name, 'true or false', value);
}

/** How {@link getListInput} splits an input. */
export type ListSeparator = 'lines' | 'lines-and-commas';

/**
 * A list input: one item per line (`lines`: for items that may hold commas, like gate expressions
 * and globs), or per line and per comma (`lines-and-commas`). Lines starting with `#` are comments;
 * items are trimmed and empty ones dropped. Empty when the input is.
 */
export function getListInput(name: string, separator: ListSeparator): string[] {
  return core
    .getInput(name)
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => (separator === 'lines' ? [line] : line.split(',')))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Bounds of {@link getNumberInput}. */
export interface NumberBounds {
  integer?: boolean;
  min?: number;
  max?: number;
}

/**
 * A number input within `bounds` (inclusive), `undefined` when empty. Anything else (words,
 * `1e`, `Infinity`, a fraction where a whole number is needed, a value out of range) is refused
 * with the range in the message.
 */
export function getNumberInput(name: string, bounds: NumberBounds = {}): number | undefined {
  const value = core.getInput(name);
  if (value === '') return undefined;
  const { integer = false, min, max } = bounds;
  const parsed = Number(value);
  const ok =
    Number.isFinite(parsed) &&
    (!integer || Number.isInteger(parsed)) &&
    (min === undefined || parsed >= min) &&
    (max === undefined || parsed <= max);
  if (!ok) throw invalid(name, describeBounds(bounds), value);
  return parsed;
}

function describeBounds({ integer = false, min, max }: NumberBounds): string {
  const kind = integer ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} of at least ${min}`;
  if (max !== undefined) return `${kind} of at most ${max}`;
  return kind;
}
