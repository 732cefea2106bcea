/**
 * Field paths of deployment targets (`spec.predictor.model.storageUri`, `images[0].newTag`,
 * `metadata.annotations['example.com/model']`): parsed, written back, and the errors that say where
 * a path stops leading anywhere in a file (YAML or JSON alike), with the keys that exist there.
 */
import { ConfigurationError } from '../errors.ts';
import { didYouMean } from '../suggest.ts';

/** One step of a field path: a key (string) or a list index (number, written `[n]`). */
export type FieldPathSegment = string | number;

/** The outcome of an edit of one field (`setField` in edit-target.ts). */
export interface FieldEdit {
  /** The new file text (the same string when nothing changed). */
  text: string;
  /** False when the field already held the value: the text is returned byte for byte. */
  changed: boolean;
  /** The field's value before the edit (a string, number, boolean or null). */
  previous: unknown;
}

const PLAIN_KEY = /^[^.[\]'"]+$/;

/**
 * Parses a field path: keys separated by dots, `[n]` for list items, and quotes around keys that
 * contain dots or brackets: `spec.predictor.model.storageUri`, `images[0].newTag`, `'a.b'.c`,
 * `metadata.annotations["example.com/model"]`. A bare number (`images.0`) also indexes a list.
 */
export function parseFieldPath(path: string): FieldPathSegment[] {
  const fail = (why: string): never => {
    throw new ConfigurationError(
      `Field path "${path}" is not valid: ${why}. Write keys separated by dots, [n] for list items, and quote keys that contain dots or brackets, e.g. spec.predictor.model.storageUri, images[0].newTag or metadata.annotations['example.com/model'].`,
      { key: path },
    );
  };
  const segments: FieldPathSegment[] = [];
  let i = 0;
  // Reads a quoted key starting at path[i]; a backslash escapes the next character.
  const readQuoted = (): string => {
    const quote = path[i];
    let key = '';
    for (i++; i < path.length; i++) {
      if (path[i] === '\\' && i + 1 < path.length) key += path[++i];
      else if (path[i] === quote) {
        i++;
        return key;
      } else key += path[i];
    }
    return fail(`the quote ${quote} opened there is never closed`);
  };
  const readBracket = (): void => {
    i++; // [
    if (path[i] === '"' || path[i] === "'") segments.push(readQuoted());
    else {
      const digits = /^\d+/.exec(path.slice(i))?.[0];
      if (digits === undefined)
        fail(`"[" must be followed by a list index or a quoted key (at character ${i + 1})`);
      segments.push(Number(digits));
      i += digits!.length;
    }
    if (path[i] !== ']') fail(`"]" expected at character ${i + 1}`);
    i++;
  };
  if (path.length === 0) fail('it is empty');
  let expectKey = true;
  while (i < path.length) {
    const c = path[i];
    if (c === '[') {
      readBracket();
      expectKey = false;
    } else if (expectKey) {
      if (c === '"' || c === "'") segments.push(readQuoted());
      else {
        const key = /^[^.[\]'"]*/.exec(path.slice(i))![0];
        if (key.length === 0) fail(`a key is missing at character ${i + 1}`);
        segments.push(key);
        i += key.length;
      }
      expectKey = false;
    } else if (c === '.') {
      i++;
      if (i === path.length) fail('it ends with a dot');
      expectKey = true;
    } else fail(`"${c}" at character ${i + 1} must follow a dot or be quoted`);
  }
  return segments;
}

/** Writes segments back as a path, quoting only keys that need it (the inverse of {@link parseFieldPath}). */
export function formatFieldPath(segments: readonly FieldPathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else {
      const key = PLAIN_KEY.test(segment)
        ? segment
        : `'${segment.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
      path += path === '' ? key : `.${key}`;
    }
  }
  return path;
}

/** Describes a key list for messages, capped so a huge mapping does not flood the log. */
export function listKeys(keys: readonly string[]): string {
  if (keys.length === 0) return '(none)';
  const shown = keys.slice(0, 20).map((k) => formatFieldPath([k]));
  return keys.length > shown.length ? `${shown.join(', ')}, … (${keys.length} in all)` : shown.join(', ');
}

/** Where a path stops, for messages: `the top level` or the path so far in quotes. */
export function placeOf(segments: readonly FieldPathSegment[]): string {
  return segments.length === 0 ? 'the top level' : `"${formatFieldPath(segments)}"`;
}

/** `file:line`, or the file alone when the line is not known. */
export function fileAt(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file}:${line}`;
}

export function missingKeyError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  keys: string[],
): ConfigurationError {
  const path = formatFieldPath(segments);
  const key = String(segments[depth]);
  const merge = keys.includes('<<')
    ? ' Keys merged in with "<<" must be set where their anchor is defined.'
    : '';
  return new ConfigurationError(
    `${fileAt(file, line)}: "${path}" does not exist: ${placeOf(segments.slice(0, depth))} has no key "${key}".${didYouMean(key, keys)} Keys there: ${listKeys(keys)}.${merge}`,
    { file, line, key: path },
  );
}

export function wrongStepError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  found: 'mapping' | 'list' | 'value',
  detail: string,
): ConfigurationError {
  const path = formatFieldPath(segments);
  const here = placeOf(segments.slice(0, depth));
  const step = segments[depth];
  const why =
    found === 'value'
      ? `${here} is a single value (${detail}), so there is nothing inside it`
      : found === 'list'
        ? `${here} is a list of ${detail}, so "${String(step)}" must be an index, e.g. "${formatFieldPath([...segments.slice(0, depth), 0])}"`
        : `${here} is a mapping, so [${String(step)}] must be a key; keys there: ${detail}`;
  return new ConfigurationError(`${fileAt(file, line)}: "${path}" does not exist: ${why}.`, {
    file,
    line,
    key: path,
  });
}

export function outOfRangeError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  length: number,
): ConfigurationError {
  const path = formatFieldPath(segments);
  const range = length === 0 ? 'it is empty' : `use 0 to ${length - 1}`;
  return new ConfigurationError(
    `${fileAt(file, line)}: "${path}" does not exist: ${placeOf(segments.slice(0, depth))} has ${length} item${length === 1 ? '' : 's'} (${range}).`,
    { file, line, key: path },
  );
}

export function notScalarError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  kind: 'mapping' | 'list',
  keys: string[],
): ConfigurationError {
  const path = formatFieldPath(segments);
  const what =
    kind === 'mapping'
      ? `a mapping (keys: ${listKeys(keys)}), not a single value: name the field inside it to set${keys.length > 0 ? `, e.g. "${formatFieldPath([...segments, keys[0]])}"` : ''}`
      : `a list of ${keys.length} item${keys.length === 1 ? '' : 's'}, not a single value: name an item, e.g. "${formatFieldPath([...segments, 0])}"`;
  return new ConfigurationError(`${fileAt(file, line)}: "${path}" is ${what}.`, { file, line, key: path });
}

/** Index of a key segment into a list: `[2]` or a bare `2`. */
export function listIndex(segment: FieldPathSegment): number | undefined {
  if (typeof segment === 'number') return segment;
  return /^\d+$/.test(segment) ? Number(segment) : undefined;
}

/** How a plain reading of the new value must compare with the old one for the edit to be right. */
export function acceptsValue(previous: unknown, value: string): (written: unknown) => boolean {
  // A number or boolean field keeps its type when the new value reads as that type.
  const keepType =
    typeof previous === 'number' || typeof previous === 'boolean' || typeof previous === 'bigint';
  return (written) => written === value || (keepType && typeof written === typeof previous);
}
