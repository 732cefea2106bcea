/**
 * Ajv's errors as sentences people can act on: which error to show (the most actionable one), the
 * key path it is at, its line in a YAML file, and what to write instead. One formatter for every
 * file checked against a JSON Schema: mlops.yaml and model references (YAML, where a value's quotes
 * decide its type) and data contracts (JSON, see {@link describeJsonSchemaError}).
 */
import type { ErrorObject } from 'ajv';
import { type Document, isMap, isScalar, isSeq, type LineCounter } from 'yaml';
import { didYouMean } from '../suggest.ts';

/** `/spec/package/sha256` → `['spec', 'package', 'sha256']` (`~1` and `~0` unescaped). */
export function pointerParts(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** `/properties/age/type/1` → `properties.age.type[1]`, after an optional prefix. */
export function pointerToKeyPath(pointer: string, prefix?: string): string {
  let path = prefix ?? '';
  for (const part of pointerParts(pointer)) {
    if (/^\d+$/.test(part)) path += `[${part}]`;
    else path += path === '' ? part : `.${part}`;
  }
  return path;
}

/** The value at a JSON pointer, or undefined where the path leads nowhere. */
export function valueAtPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointerParts(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * The most actionable error: an unknown key first (a typo explains everything after it), then the
 * deepest path; among errors at the same path, an `enum` (it lists what is allowed), then a `type`,
 * then the rest, an `anyOf` last.
 */
export function pickSchemaError<E extends ErrorObject>(errors: readonly E[]): E | undefined {
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  if (unknown) return unknown;
  const rank = (error: ErrorObject) =>
    error.keyword === 'enum' ? 0 : error.keyword === 'type' ? 1 : error.keyword === 'anyOf' ? 3 : 2;
  let best: E | undefined;
  for (const error of errors) {
    if (
      !best ||
      error.instancePath.length > best.instancePath.length ||
      (error.instancePath.length === best.instancePath.length && rank(error) < rank(best))
    ) {
      best = error;
    }
  }
  return best;
}

/** The keys a schema allows where an unknown key was found (the error's parent schema, from a `verbose` Ajv). */
function allowedKeys(error: ErrorObject): string[] {
  return Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'text',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

/**
 * An error of a YAML file (mlops.yaml, a model reference) as a sentence about its key, and the
 * key path (`spec.package.sha256`; for an unknown key, that key's). `source` is the value as
 * written, when known (a `1.10` YAML read as a number is shown as written). Needs an Ajv with
 * `verbose: true` (the allowed keys and a pattern's description come from the failing schema).
 */
export function describeYamlSchemaError(
  error: ErrorObject,
  source?: string,
): { key: string; message: string } {
  const parts = pointerParts(error.instancePath);
  const here = parts.join('.');
  const subject = here === '' ? 'the top level' : `"${here}"`;
  const parent = error.parentSchema as { description?: string } | undefined;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = allowedKeys(error);
      const path = [...parts, key].join('.');
      return {
        key: path,
        message: `unknown key "${path}".${didYouMean(key, allowed)} Allowed here: ${allowed.join(', ') || '(none)'}.`,
      };
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      return { key: [...parts, missing].join('.'), message: `${subject} is missing the key "${missing}".` };
    }
    case 'enum':
      return {
        key: here,
        message: `${subject} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.`,
      };
    case 'const':
      return { key: here, message: `${subject} must be ${JSON.stringify(error.params.allowedValue)}.` };
    case 'type': {
      const types = String(error.params.type).split(',');
      // YAML reads 1.10 as a number and true as a boolean: quotes keep them text.
      const quote =
        types.includes('string') && (typeof error.data === 'number' || typeof error.data === 'boolean')
          ? ` Write it in quotes ("${source ?? String(error.data)}") so YAML reads it as text.`
          : '';
      const expected = types.map((type) => TYPE_NAMES[type] ?? type).join(' or ');
      return { key: here, message: `${subject} must be ${expected}.${quote}` };
    }
    case 'pattern': {
      const found = JSON.stringify(error.data);
      const expected = parent?.description ?? `text matching ${String(error.params.pattern)}`;
      return { key: here, message: `${subject} must be ${expected}; found ${found}.` };
    }
    default:
      return { key: here, message: `${subject} ${error.message ?? 'is invalid'}.` };
  }
}

/**
 * Where an error is in a YAML document: the 1-based line of the node at its path (for an unknown
 * key, that key's line) and the scalar's source text there, when it is one.
 */
export function locateInYaml(
  document: Document,
  lines: LineCounter,
  error: ErrorObject,
): { line: number | undefined; source: string | undefined } {
  const parts = pointerParts(error.instancePath);
  if (error.keyword === 'additionalProperties') parts.push(String(error.params.additionalProperty));
  let node: unknown = document.contents;
  let range = (node as { range?: [number, number, number] } | null)?.range;
  for (const part of parts) {
    if (isSeq(node)) {
      node = node.items[Number(part)];
      range = (node as { range?: [number, number, number] } | undefined)?.range ?? range;
    } else if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === part);
      if (!pair) break;
      range = (pair.key as { range?: [number, number, number] }).range ?? range;
      node = pair.value;
    } else break;
  }
  return {
    line: range ? lines.linePos(range[0]).line : undefined,
    source: isScalar(node) && typeof node.source === 'string' && node.source !== '' ? node.source : undefined,
  };
}

function withArticle(type: string): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

/** A JSON value in words: `null`, `an array`, `the string "5"`, `the number 3`. */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `the ${typeof value} ${String(value)}`;
}

/**
 * An error of a JSON document (a data contract, its `x-mlops` rules) as a sentence about the key
 * path `path` (empty: `prefix`, else "the contract"), with what is allowed and how to fix it;
 * `root` is the document (the value found is quoted from it). Unknown keys are the caller's: what
 * is allowed depends on where they are.
 */
export function describeJsonSchemaError(
  error: ErrorObject,
  root: unknown,
  path: string,
  prefix?: string,
): string {
  const value = valueAtPointer(root, error.instancePath);
  const where = path === '' ? (prefix ?? 'the contract') : path;
  switch (error.keyword) {
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      return `${where} is ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}.${typeof value === 'string' ? didYouMean(value, allowed) : ''}`;
    }
    case 'type': {
      const expected = String(error.params.type).split(',');
      let message = `${where} must be ${expected.map(withArticle).join(' or ')}, not ${describeJsonValue(value)}.`;
      if (
        typeof value === 'string' &&
        value.trim() !== '' &&
        !Number.isNaN(Number(value)) &&
        expected.some((t) => t === 'number' || t === 'integer')
      ) {
        message += ` Write ${value.trim()} without quotes.`;
      }
      return message;
    }
    case 'required':
      return `${where} needs the key "${String(error.params.missingProperty)}".`;
    default:
      return `${where} ${error.message ?? 'is invalid'} (found ${JSON.stringify(value)}).`;
  }
}
