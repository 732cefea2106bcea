/**
 * File globs for Node 20: `glob` from `node:fs/promises` exists only from Node 22, and the CLI runs
 * on Node 20 as well. Same call shape and, for the patterns users give (`reports/*.json`,
 * `data/part-*.csv`, `out/**\/*.json`, `{train,test}.csv`), the same matches as Node's: `*`, `?`,
 * `[...]` (`[!...]` negates), `**` for any number of folders, `{a,b}` alternatives (across `/` too);
 * names starting with `.` match only a segment that starts with `.`; folders match as well as files;
 * `**` does not descend into symbolic links (no cycles). Matches are relative to `cwd` (absolute for
 * an absolute pattern), with the platform's separator, each once, in no particular order.
 */
import { type Dirent, lstatSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, parse, resolve } from 'node:path';

export async function* glob(pattern: string, options: { cwd?: string } = {}): AsyncGenerator<string> {
  const cwd = options.cwd ?? process.cwd();
  const seen = new Set<string>();
  for (const alternative of expandBraces(pattern)) {
    const absolute = isAbsolute(alternative);
    const start = absolute ? parse(alternative).root : '';
    const segments = alternative
      .slice(start.length)
      .split(process.platform === 'win32' ? /[\\/]/ : '/')
      .filter((segment) => segment !== '' && segment !== '.');
    const matches: string[] = [];
    await walk(start, segments, 0, (path) => (absolute ? path : resolve(cwd, path)), matches);
    for (const match of matches) {
      if (seen.has(match)) continue;
      seen.add(match);
      yield match;
    }
  }
}

/** Collects into `out` the paths under `dir` (a relative or absolute path as shown) that match `segments[i..]`. */
async function walk(
  dir: string,
  segments: readonly string[],
  i: number,
  onDisk: (path: string) => string,
  out: string[],
): Promise<void> {
  if (i === segments.length) {
    if (exists(onDisk(dir || '.'))) out.push(dir || '.');
    return;
  }
  const segment = segments[i];
  if (segment === '**') {
    // Zero folders, then one more (not hidden, not a link) and `**` again.
    await walk(dir, segments, i + 1, onDisk, out);
    for (const entry of await list(onDisk(dir || '.'))) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) await walk(join(dir, entry.name), segments, i, onDisk, out);
      else if (i + 1 === segments.length) out.push(join(dir, entry.name));
    }
    return;
  }
  if (!/[*?[]/.test(segment)) {
    await walk(join(dir, unescapeSegment(segment)), segments, i + 1, onDisk, out);
    return;
  }
  const matcher = segmentRegExp(segment);
  for (const entry of await list(onDisk(dir || '.'))) {
    if (entry.name.startsWith('.') && !segment.startsWith('.')) continue;
    if (matcher.test(entry.name)) await walk(join(dir, entry.name), segments, i + 1, onDisk, out);
  }
}

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // not a folder, gone, or not readable: nothing matches below it
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `a{b,c{d,e}}f` → `abf`, `acdf`, `acef`; braces without a comma stay as they are. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\' && process.platform !== 'win32') i++;
    else if (char === '{') {
      if (depth++ === 0) open = i;
    } else if (char === '}' && depth > 0 && --depth === 0) {
      const options = splitTopLevel(pattern.slice(open + 1, i));
      if (options.length > 1) {
        const before = pattern.slice(0, open);
        const after = pattern.slice(i + 1);
        return options.flatMap((option) => expandBraces(before + option + after));
      }
    }
  }
  return [pattern];
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === '\\' && process.platform !== 'win32') i++;
    else if (char === '{') depth++;
    else if (char === '}') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(body.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(body.slice(from));
  return parts;
}

/** One path segment's pattern as an anchored regular expression. */
function segmentRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (char === '\\' && process.platform !== 'win32' && i + 1 < segment.length) {
      source += escapeRegExp(segment[++i]);
    } else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'su');
}

function unescapeSegment(segment: string): string {
  return process.platform === 'win32' ? segment : segment.replace(/\\(.)/g, '$1');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
