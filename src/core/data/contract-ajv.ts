/**
 * The Ajv instance shared by contract loading and contract checking, and the regular-expression
 * engine of contract patterns.
 */

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import formatsModule from 'ajv-formats';
import { RE2JS } from 're2js';
import { parseDateText } from './cells.ts';

/**
 * A contract pattern compiled for RE2's linear-time matcher (re2js, pure JavaScript). Contracts
 * and data both come from pull requests: with JavaScript's backtracking engine a pattern such as
 * `^(a+)+$` takes exponential time on a 40-character cell. RE2 guarantees time linear in the
 * input, at the price of backreferences and lookaround, which are refused.
 *
 * The match semantics are ECMAScript's with the `u` flag, as JSON Schema specifies: the pattern
 * must be a valid JavaScript regular expression, and `.`, `\s` and `\S` are rewritten to the
 * JavaScript meaning (RE2's `.` matches `\r` and its `\s` only ASCII spaces). What remains of
 * RE2's dialect: Unicode properties by RE2's names (`\p{Greek}`, not `\p{Script=Greek}`).
 */
export class LinearRegExp {
  readonly source: string;
  readonly flags: string;
  private readonly compiled: RE2JS;

  /** Throws {@link PatternError} when the pattern is invalid or RE2 cannot run it. */
  constructor(source: string, flags = 'u') {
    this.source = source;
    this.flags = flags;
    try {
      // Only compiled, never run: JavaScript's engine checks the syntax the contract is written in.
      new RegExp(source, flags);
    } catch (error) {
      throw new PatternError(source, 'it is not a valid regular expression', error);
    }
    const unsupported = unsupportedSyntax(source);
    if (unsupported !== undefined) throw new PatternError(source, unsupported);
    try {
      this.compiled = RE2JS.compile(RE2JS.translateRegExp(toRe2Syntax(source)));
    } catch (error) {
      throw new PatternError(
        source,
        'the linear-time engine (RE2) that contract patterns run on cannot compile it',
        error,
      );
    }
  }

  /** True when the pattern matches anywhere in `text` (unanchored, as JSON Schema's `pattern`). */
  test(text: string): boolean {
    return this.compiled.test(text);
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }
}

/** A pattern that cannot be used in a contract; `reason` says why (for a message naming the column). */
export class PatternError extends Error {
  override name = 'PatternError';
  readonly pattern: string;
  readonly reason: string;
  constructor(pattern: string, reason: string, cause?: unknown) {
    const detail =
      cause === undefined
        ? ''
        : ` (${(cause instanceof Error ? cause.message : String(cause)).replace(/^error parsing regexp: /, '')})`;
    super(`pattern ${JSON.stringify(pattern)} cannot be used: ${reason}${detail}.`, { cause });
    this.pattern = pattern;
    this.reason = `${reason}${detail}`;
  }
}

const LINEAR_ONLY =
  'contract patterns run on a linear-time engine (RE2), so that no pattern can make the data gate hang';

/** Backreferences and lookaround (RE2 has neither), outside character classes; undefined when none. */
function unsupportedSyntax(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && ((next >= '1' && next <= '9') || next === 'k'))
        return `it uses a backreference "${next === 'k' ? '\\k<name>' : `\\${next}`}": ${LINEAR_ONLY}, and RE2 has no backreferences. Spell out what may repeat instead, or drop the pattern`;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(' && source[i + 1] === '?') {
      const look = source.startsWith('(?=', i) || source.startsWith('(?!', i);
      const behind = source.startsWith('(?<=', i) || source.startsWith('(?<!', i);
      if (look || behind)
        return `it uses ${behind ? 'a lookbehind' : 'a lookahead'} "${source.slice(i, i + (behind ? 4 : 3))}": ${LINEAR_ONLY}, and RE2 has no lookaround. Rewrite the pattern without it (e.g. two rules in "allOf", or "not": {"pattern": …})`;
    }
  }
  return undefined;
}

/** JavaScript's whitespace (`\s`) and line terminators (what `.` does not match), in RE2 syntax. */
const SPACES =
  '\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
const LINE_TERMINATORS = '\\n\\r\\x{2028}\\x{2029}';

/** Rewrites `.`, `\s` and `\S` to their JavaScript meaning in RE2 syntax (`\S` inside a class stays RE2's). */
function toRe2Syntax(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const next = source[i + 1];
      i++;
      if (next === 's') out += inClass ? SPACES : `[${SPACES}]`;
      else if (next === 'S' && !inClass) out += `[^${SPACES}]`;
      else out += c + next;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` closes the class in JavaScript: leave it to the translation.
    } else if (c === '.') {
      out += `[^${LINE_TERMINATORS}]`;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Compiles a contract pattern for the linear-time engine. Ajv calls it for every `pattern` and
 * `patternProperties` (its `code.regExp` option), and the contract check for the patterns it runs
 * itself, so both agree on every match.
 */
export function compilePattern(source: string, flags = 'u'): LinearRegExp {
  return new LinearRegExp(source, flags);
}

/** {@link compilePattern} as Ajv's `code.regExp` (`code` names it in standalone code, which is not used). */
const LINEAR_ENGINE: RegExpEngine = Object.assign(
  (source: string, flags: string) => compilePattern(source, flags),
  {
    code: 'compilePattern',
  },
);

let contractAjv: Ajv2020 | undefined;

/**
 * The Ajv instance that compiles contracts and column schemas (shared, created on first use):
 * draft 2020-12 with ajv-formats, strict about unknown keywords and formats, and about numbers:
 * `Infinity` is not a JSON number (a CSV cell `inf` or a JSONL `1e999` fails `type: number`).
 * Patterns run on the linear-time engine ({@link compilePattern}).
 *
 * `format: "date-time"` is redefined to accept what the profile reads as a datetime: ISO 8601
 * with `T` or a space, optional seconds and fraction, optional offset (none means UTC), e.g.
 * `2024-01-31 12:00`. RFC 3339 (what ajv-formats checks) requires seconds and an offset, which
 * most CSV exports lack. `format: "date"` is the RFC 3339 full date (`2024-01-31`).
 */
export function getContractAjv(): Ajv2020 {
  if (contractAjv) return contractAjv;
  const ajv = new Ajv2020({
    allErrors: false,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    strictNumbers: true,
    code: { regExp: LINEAR_ENGINE },
  });
  // ajv-formats is CommonJS whose module object is the plugin with `.default` pointing at itself.
  formatsModule.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isLenientDateTime });
  ajv.addKeyword({ keyword: 'x-mlops' });
  contractAjv = ajv;
  return ajv;
}

function isLenientDateTime(text: string): boolean {
  return text.length > 10 && !Number.isNaN(parseDateText(text));
}

/** Registers keywords starting with `x-` found anywhere in `schema` as annotations, so strict mode accepts them. */
export function registerExtensionKeywords(ajv: Ajv2020, schema: unknown): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key.startsWith('x-') && !ajv.getKeyword(key)) {
          try {
            ajv.addKeyword({ keyword: key });
          } catch {
            // Not a valid keyword name for ajv (e.g. contains spaces): compilation will name it.
          }
        }
        if (key !== 'x-mlops' && key !== 'enum' && key !== 'const') visit(value);
      }
    }
  };
  visit(schema);
}

/**
 * JSON Schema keywords that annotate and never fail validation: the contract check skips them,
 * and contract loading accepts them.
 */
export const ANNOTATION_KEYWORDS = [
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  '$schema',
  '$id',
  '$anchor',
  '$defs',
  'definitions',
] as const;
