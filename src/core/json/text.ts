/**
 * JSON text as people write it: one strict scanner (RFC 8259) that remembers where every value
 * starts and ends, so that a file can be edited byte for byte (deploy targets) and a syntax error
 * can be shown at its line and column with what was expected there (data contracts, targets).
 */
import { ConfigurationError } from '../errors.ts';

/** A JSON value with the range (UTF-16 offsets) it occupies in the text. */
export type JsonNode =
  | { type: 'object'; start: number; end: number; members: { key: string; value: JsonNode }[] }
  | { type: 'array'; start: number; end: number; items: JsonNode[] }
  | { type: 'scalar'; start: number; end: number; value: string | number | boolean | null };

/** A number as JSON writes it (sticky: matched at `lastIndex`). */
const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** A whole text that is one JSON number. */
export const JSON_NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The first syntax error of a JSON text. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  /** Where it is (a UTF-16 offset into the text). */
  readonly offset: number;
  /** What was expected there, e.g. `a value`, `"," or "}"`. */
  readonly expected: string;
  /** What was found there: a character in quotes, or `the end of the file`. */
  readonly found: string;
  /** The message says why, e.g. `trailing comma before "}"`, `unexpected "x" (expected a value)`. */
  constructor(reason: string, offset: number, expected: string, found: string) {
    super(reason);
    this.offset = offset;
    this.expected = expected;
    this.found = found;
  }
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Parses strict JSON into nodes that remember their offsets. A byte-order mark at the start is not
 * JSON, but editors write one: it is skipped (and stays in the text). Throws a
 * {@link JsonSyntaxError} at the first mistake.
 */
export function parseJsonTree(text: string): JsonNode {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  /** Fails at `i`: `expected` is what belongs there; `reason` says why when there is more to say. */
  const fail = (expected: string, reason?: string): never => {
    const found = i >= n ? 'the end of the file' : JSON.stringify(text[i]);
    const why =
      reason ??
      (i >= n
        ? `unexpected end of file (expected ${expected})`
        : `unexpected ${found} (expected ${expected})`);
    throw new JsonSyntaxError(why, i, expected, found);
  };
  const skipSpace = () => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else break;
    }
  };
  const readString = (): string => {
    const start = i;
    let escaped = false;
    for (i++; ; ) {
      if (i >= n) fail('a closing quote', 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            fail('a valid escape', 'invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('a valid escape', `invalid escape "\\${e ?? ''}" in string`);
        continue;
      }
      if (c < 0x20)
        fail(
          'a closing quote (control characters must be escaped)',
          'line break or control character inside a string (missing closing quote?)',
        );
      i++;
    }
    i++;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  const readValue = (): JsonNode => {
    skipSpace();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const members: { key: string; value: JsonNode }[] = [];
      skipSpace();
      if (text[i] === '}') return { type: 'object', start, end: ++i, members };
      for (;;) {
        skipSpace();
        if (text[i] !== '"')
          fail('a property name in double quotes', text[i] === '}' ? 'trailing comma before "}"' : undefined);
        const key = readString();
        skipSpace();
        if (text[i] !== ':') fail('":"');
        i++;
        members.push({ key, value: readValue() });
        skipSpace();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return { type: 'object', start, end: ++i, members };
        else fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      skipSpace();
      if (text[i] === ']') return { type: 'array', start, end: ++i, items };
      for (;;) {
        skipSpace();
        if (text[i] === ']') fail('a value', 'trailing comma before "]"');
        items.push(readValue());
        skipSpace();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return { type: 'array', start, end: ++i, items };
        else fail('"," or "]"');
      }
    }
    if (c === '"') {
      const value = readString();
      return { type: 'scalar', start, end: i, value };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { type: 'scalar', start, end: i, value };
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      JSON_NUMBER.lastIndex = i;
      const number = JSON_NUMBER.exec(text);
      if (!number) return fail('a value', 'invalid number');
      i += number[0].length;
      return { type: 'scalar', start, end: i, value: Number(number[0]) };
    }
    return fail('a value', c === "'" ? 'strings must use double quotes' : undefined);
  };
  const root = readValue();
  skipSpace();
  if (i < n)
    fail('the end of the file', `unexpected ${JSON.stringify(text[i])} after the end of the JSON value`);
  return root;
}

/**
 * Finds the first JSON syntax error in `text` (V8's messages do not always give a position): its
 * offset and a reason such as `trailing comma before "}"`. Meant for text `JSON.parse` refused.
 */
export function locateJsonError(text: string): { offset: number; reason: string } {
  try {
    parseJsonTree(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { offset: error.offset, reason: error.message };
    throw error;
  }
  return { offset: text.length, reason: 'invalid JSON' };
}

/**
 * Parses JSON text; a syntax error becomes a {@link ConfigurationError} with the line and column
 * of the first offending character.
 */
export function parseJsonText(text: string, file: string, what = 'File'): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (error) {
    const { offset, reason } = locateJsonError(text);
    const { line, column } = lineAndColumn(text, offset);
    throw new ConfigurationError(
      `${what} ${file} is not valid JSON: ${reason} at line ${line}, column ${column}.`,
      { file, line, column },
      { cause: error },
    );
  }
}
