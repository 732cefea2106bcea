/**
 * Edits one field of a file in an environment repository (a KServe InferenceService's `storageUri`,
 * a Helm values key, a Kustomize image tag) so that a deployment PR's diff is that field and
 * nothing else: comments, quoting, indentation, key order and blank lines stay as people wrote them.
 *
 * YAML is edited through the `yaml` package's source tokens (`keepSourceTokens`): the scalar's own
 * token is re-rendered in its own style and spliced back into the text, and the result is read back
 * to prove it holds the intended value. JSON goes through a small tokenizer that records where each
 * value starts and ends, so only those bytes are replaced.
 */
import {
  type Alias,
  CST,
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseAllDocuments,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import { ConfigurationError, InputError } from '../errors.ts';
import {
  JSON_NUMBER_TEXT,
  type JsonNode,
  JsonSyntaxError,
  lineAndColumn,
  parseJsonTree,
} from '../json/text.ts';
import { didYouMean } from '../suggest.ts';

/** The file formats a target field can live in. */
export const TARGET_FORMATS = ['yaml', 'json'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];

/** One step of a field path: a key (string) or a list index (number, written `[n]`). */
export type FieldPathSegment = string | number;

/** Which document of a multi-document YAML file (`---`) to edit. */
export interface DocumentSelector {
  /** 0-based position of the document in the file. */
  documentIndex?: number;
  /** Field values the document must have, by path, e.g. `{ kind: 'InferenceService', 'metadata.name': 'churn' }`. */
  match?: Record<string, string>;
}

/** The outcome of {@link setField}. */
export interface FieldEdit {
  /** The new file text (the same string when nothing changed). */
  text: string;
  /** False when the field already held the value: the text is returned byte for byte. */
  changed: boolean;
  /** The field's value before the edit (a string, number, boolean or null). */
  previous: unknown;
}

/** The format of a target file from its extension (`.json` → json, `.yaml`/`.yml` → yaml). */
export function detectTargetFormat(file: string): TargetFormat {
  if (/\.json$/i.test(file)) return 'json';
  if (/\.ya?ml$/i.test(file)) return 'yaml';
  throw new ConfigurationError(
    `Cannot tell the format of ${file} from its name: name a .yaml, .yml or .json file, or give the format (${TARGET_FORMATS.join(' or ')}).`,
    { file },
  );
}

// ---------------------------------------------------------------------------------------------
// Field paths

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

// ---------------------------------------------------------------------------------------------
// setField

/**
 * Sets one scalar field of a YAML or JSON file to `value`, changing only that value's bytes.
 *
 * The field keeps its type when the new value reads as that type (a number stays a number, e.g.
 * `replicas: 3`); otherwise it becomes a string, quoted when a plain form would read as something
 * else (`"1.10"`, `"true"`). A path that does not exist, runs through a YAML alias, or ends at a
 * mapping or list is a {@link ConfigurationError} naming `file`, the path and the keys that exist
 * there. Setting the value a field already holds returns the text unchanged (`changed: false`).
 */
export function setField(
  text: string,
  format: TargetFormat,
  path: string,
  value: string,
  file: string,
  selector: DocumentSelector = {},
): FieldEdit {
  const segments = parseFieldPath(path);
  if (format === 'json') return setJsonField(text, segments, value, file);
  if (format === 'yaml') return setYamlField(text, segments, value, file, selector);
  throw new ConfigurationError(`Unknown target format "${format}": use ${TARGET_FORMATS.join(' or ')}.`, {
    file,
  });
}

/** Describes a key list for messages, capped so a huge mapping does not flood the log. */
function listKeys(keys: readonly string[]): string {
  if (keys.length === 0) return '(none)';
  const shown = keys.slice(0, 20).map((k) => formatFieldPath([k]));
  return keys.length > shown.length ? `${shown.join(', ')}, … (${keys.length} in all)` : shown.join(', ');
}

function where(segments: readonly FieldPathSegment[]): string {
  return segments.length === 0 ? 'the top level' : `"${formatFieldPath(segments)}"`;
}

function at(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file}:${line}`;
}

function missingKeyError(
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
    `${at(file, line)}: "${path}" does not exist: ${where(segments.slice(0, depth))} has no key "${key}".${didYouMean(key, keys)} Keys there: ${listKeys(keys)}.${merge}`,
    { file, line, key: path },
  );
}

function wrongStepError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  found: 'mapping' | 'list' | 'value',
  detail: string,
): ConfigurationError {
  const path = formatFieldPath(segments);
  const here = where(segments.slice(0, depth));
  const step = segments[depth];
  const why =
    found === 'value'
      ? `${here} is a single value (${detail}), so there is nothing inside it`
      : found === 'list'
        ? `${here} is a list of ${detail}, so "${String(step)}" must be an index, e.g. "${formatFieldPath([...segments.slice(0, depth), 0])}"`
        : `${here} is a mapping, so [${String(step)}] must be a key; keys there: ${detail}`;
  return new ConfigurationError(`${at(file, line)}: "${path}" does not exist: ${why}.`, {
    file,
    line,
    key: path,
  });
}

function outOfRangeError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  length: number,
): ConfigurationError {
  const path = formatFieldPath(segments);
  const range = length === 0 ? 'it is empty' : `use 0 to ${length - 1}`;
  return new ConfigurationError(
    `${at(file, line)}: "${path}" does not exist: ${where(segments.slice(0, depth))} has ${length} item${length === 1 ? '' : 's'} (${range}).`,
    { file, line, key: path },
  );
}

function notScalarError(
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
  return new ConfigurationError(`${at(file, line)}: "${path}" is ${what}.`, { file, line, key: path });
}

/** Index of a key segment into a list: `[2]` or a bare `2`. */
function listIndex(segment: FieldPathSegment): number | undefined {
  if (typeof segment === 'number') return segment;
  return /^\d+$/.test(segment) ? Number(segment) : undefined;
}

/** How a plain reading of the new value must compare with the old one for the edit to be right. */
function acceptsValue(previous: unknown, value: string): (written: unknown) => boolean {
  // A number or boolean field keeps its type when the new value reads as that type.
  const keepType =
    typeof previous === 'number' || typeof previous === 'boolean' || typeof previous === 'bigint';
  return (written) => written === value || (keepType && typeof written === typeof previous);
}

// ---------------------------------------------------------------------------------------------
// YAML

type ParsedDocument = Document.Parsed;

interface ParsedYaml {
  documents: ParsedDocument[];
  lines: LineCounter;
}

/** Parses every document of a YAML text, keeping each node's source token. */
function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, {
    keepSourceTokens: true,
    lineCounter: lines,
    prettyErrors: false,
  });
  const list = Array.isArray(documents) ? documents : [];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      const { line, col } = lines.linePos(error.pos[0]);
      throw new InputError(`${file}:${line}:${col} is not valid YAML: ${error.message.split('\n')[0]}`, {
        file,
        line,
        column: col,
      });
    }
  }
  return { documents: list as ParsedDocument[], lines };
}

function lineOf(lines: LineCounter, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

function mapKeys(map: YAMLMap): string[] {
  return map.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key)));
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key) as Pair | undefined;
}

function aliasError(
  file: string,
  line: number | undefined,
  segments: readonly FieldPathSegment[],
  depth: number,
  alias: Alias,
): ConfigurationError {
  const path = formatFieldPath(segments);
  return new ConfigurationError(
    `${at(file, line)}: ${where(segments.slice(0, depth))} is the alias *${alias.source}: editing "${path}" through it would change every place that uses &${alias.source}. Set the field where &${alias.source} is defined, or give this place its own value instead of the alias.`,
    { file, line, key: path },
  );
}

/** Where a YAML scalar was found, with what its re-rendering needs to know. */
interface YamlTarget {
  node: Scalar;
  inFlow: boolean;
  afterKey: boolean;
}

/** Walks a path through a document to a scalar; throws a ConfigurationError that says where it stopped. */
function resolveYamlScalar(
  document: ParsedDocument,
  segments: readonly FieldPathSegment[],
  file: string,
  lines: LineCounter,
): YamlTarget {
  let node: unknown = document.contents;
  let inFlow = false;
  let afterKey = false;
  for (let depth = 0; depth < segments.length; depth++) {
    const segment = segments[depth];
    const line = lineOf(lines, node);
    if (isAlias(node)) throw aliasError(file, line, segments, depth, node);
    if (isMap(node)) {
      if (typeof segment === 'number')
        throw wrongStepError(file, line, segments, depth, 'mapping', listKeys(mapKeys(node)));
      const pair = findPair(node, segment);
      if (!pair) throw missingKeyError(file, line, segments, depth, mapKeys(node));
      inFlow ||= node.flow === true;
      afterKey = true;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = listIndex(segment);
      const count = `${node.items.length} item${node.items.length === 1 ? '' : 's'}`;
      if (index === undefined) throw wrongStepError(file, line, segments, depth, 'list', count);
      if (index >= node.items.length) throw outOfRangeError(file, line, segments, depth, node.items.length);
      inFlow ||= node.flow === true;
      afterKey = false;
      node = node.items[index];
    } else {
      const detail = isScalar(node) ? JSON.stringify(node.value) : 'empty';
      throw wrongStepError(file, line, segments, depth, 'value', detail);
    }
  }
  const line = lineOf(lines, node);
  if (isAlias(node)) throw aliasError(file, line, segments, segments.length, node);
  if (isMap(node)) throw notScalarError(file, line, segments, 'mapping', mapKeys(node));
  if (isSeq(node))
    throw notScalarError(
      file,
      line,
      segments,
      'list',
      node.items.map((_, index) => String(index)),
    );
  if (!isScalar(node)) {
    // `{ key }` in a flow mapping has no value node at all: there are no bytes to replace.
    throw new ConfigurationError(
      `${at(file, line)}: "${formatFieldPath(segments)}" has no value to replace; write a placeholder value there (e.g. "") first.`,
      { file, line, key: formatFieldPath(segments) },
    );
  }
  return { node, inFlow, afterKey };
}

/** The value at a path, or `undefined` when the path does not lead to a scalar (for selectors and read-backs). */
function peekYamlScalar(document: ParsedDocument, segments: readonly FieldPathSegment[]): Scalar | undefined {
  try {
    return resolveYamlScalar(document, segments, '', new LineCounter()).node;
  } catch {
    return undefined;
  }
}

function describeDocument(document: ParsedDocument, index: number, lines: LineCounter): string {
  const kind = peekYamlScalar(document, ['kind'])?.value;
  const name = peekYamlScalar(document, ['metadata', 'name'])?.value;
  const label = [kind, name].filter((part) => part !== undefined && part !== null).join(' ');
  const line = lineOf(lines, document.contents);
  return `#${index}${label ? ` ${label}` : ''}${line !== undefined ? ` (line ${line})` : ''}`;
}

/** Picks the document to edit: by index, by matching fields, or the only one there is. */
function selectDocument(parsed: ParsedYaml, selector: DocumentSelector, file: string): number {
  const { documents, lines } = parsed;
  const nonEmpty = documents.flatMap((document, index) => (document.contents === null ? [] : [index]));
  const summary = () => nonEmpty.map((index) => describeDocument(documents[index], index, lines)).join(', ');
  let candidates = nonEmpty;
  if (selector.documentIndex !== undefined) {
    const index = selector.documentIndex;
    if (!Number.isInteger(index) || index < 0 || index >= documents.length)
      throw new ConfigurationError(
        `${file} has ${documents.length} YAML document${documents.length === 1 ? '' : 's'}, so document index ${index} does not exist (documents: ${summary() || 'none'}).`,
        { file },
      );
    candidates = [index];
  }
  const match = Object.entries(selector.match ?? {});
  if (match.length > 0) {
    const wanted = match.map(([path, want]) => [parseFieldPath(path), want] as const);
    candidates = candidates.filter((index) =>
      wanted.every(([segments, want]) => {
        const found = peekYamlScalar(documents[index], segments);
        return found !== undefined && found.value !== null && String(found.value) === want;
      }),
    );
    const described = match.map(([path, want]) => `${path}=${want}`).join(', ');
    if (candidates.length === 0)
      throw new ConfigurationError(
        `No YAML document in ${file} has ${described}${selector.documentIndex !== undefined ? ` at index ${selector.documentIndex}` : ''}. Documents there: ${summary() || 'none'}.`,
        { file },
      );
    if (candidates.length > 1)
      throw new ConfigurationError(
        `${candidates.length} YAML documents in ${file} have ${described}: add a field to the selector (e.g. metadata.name) or give a document index. Documents there: ${summary()}.`,
        { file },
      );
  }
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0)
    throw new ConfigurationError(`${file} holds no YAML document, so there is no field to set.`, { file });
  throw new ConfigurationError(
    `${file} holds ${candidates.length} YAML documents (${summary()}): choose one with a selector such as kind=${String(peekYamlScalar(documents[candidates[0]], ['kind'])?.value ?? '<kind>')} or a document index.`,
    { file },
  );
}

/** The styles tried in turn: the field's own, then plain (for typed values), then double quotes (always exact). */
const SCALAR_STYLES = [undefined, 'PLAIN', 'QUOTE_DOUBLE'] as const;

/**
 * Re-renders one scalar in place and returns the new text, trying styles until reading the
 * result back gives a value `accept` agrees with. Only the scalar's own bytes change: its token
 * (value plus any trailing comment and newline) is rendered again and spliced back at its offset.
 */
function writeYamlScalar(
  text: string,
  target: YamlTarget,
  value: string,
  accept: (written: unknown) => boolean,
  readBack: (candidate: string) => unknown,
): string {
  const { node, inFlow, afterKey } = target;
  const token = node.srcToken;
  for (const type of SCALAR_STYLES) {
    let candidate: string;
    if (token === undefined) {
      // An empty value (`key:`) has no token: insert a new one where the value belongs.
      const start = node.range![0];
      if (value.includes('\n') && type !== 'QUOTE_DOUBLE') continue;
      const created = CST.stringify(
        CST.createScalarToken(value, { indent: 0, inFlow, type: type ?? 'PLAIN', end: [] }),
      );
      const space = /[:\-?,[{]$/.test(text.slice(0, start)) ? ' ' : '';
      candidate = text.slice(0, start) + space + created + text.slice(start);
    } else {
      const before = CST.stringify(token);
      const offset = token.offset;
      if (text.slice(offset, offset + before.length) !== before)
        throw new Error(`internal: YAML token at offset ${offset} does not match the text`);
      const copy = structuredClone(token);
      CST.setScalarValue(copy, value, { afterKey, implicitKey: false, inFlow, type });
      candidate = text.slice(0, offset) + CST.stringify(copy) + text.slice(offset + before.length);
    }
    if (accept(readBack(candidate))) return candidate;
  }
  throw new Error(`internal: no YAML rendering of ${JSON.stringify(value)} reads back as intended`);
}

const UNREADABLE = Symbol('unreadable');

/** Reads a scalar back from edited text: the same document, the same path. */
function readYamlScalar(text: string, documentIndex: number, segments: readonly FieldPathSegment[]): unknown {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return UNREADABLE;
  const document = documents[documentIndex];
  if (!document || document.errors.length > 0) return UNREADABLE;
  const scalar = peekYamlScalar(document as ParsedDocument, segments);
  return scalar === undefined ? UNREADABLE : scalar.value;
}

function setYamlField(
  text: string,
  segments: FieldPathSegment[],
  value: string,
  file: string,
  selector: DocumentSelector,
): FieldEdit {
  const parsed = parseYaml(text, file);
  const documentIndex = selectDocument(parsed, selector, file);
  const target = resolveYamlScalar(parsed.documents[documentIndex], segments, file, parsed.lines);
  const previous = target.node.value;
  const token = target.node.srcToken;
  const unchanged =
    (typeof previous === 'string' && previous === value) ||
    (typeof previous !== 'string' && previous !== null && token?.type === 'scalar' && token.source === value);
  if (unchanged) return { text, changed: false, previous };
  const next = writeYamlScalar(text, target, value, acceptsValue(previous, value), (candidate) =>
    readYamlScalar(candidate, documentIndex, segments),
  );
  return { text: next, changed: next !== text, previous };
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Parses a JSON target file; a syntax error is an {@link InputError} at its line and column. */
function parseJsonTarget(text: string, file: string): JsonNode {
  try {
    return parseJsonTree(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const { line, column } = lineAndColumn(text, error.offset);
    throw new InputError(
      `${file}:${line}:${column} is not valid JSON: expected ${error.expected}, found ${error.found}.`,
      { file, line, column },
    );
  }
}

function setJsonField(text: string, segments: FieldPathSegment[], value: string, file: string): FieldEdit {
  let node = parseJsonTarget(text, file);
  for (let depth = 0; depth < segments.length; depth++) {
    const segment = segments[depth];
    const line = lineAndColumn(text, node.start).line;
    if (node.type === 'object') {
      const keys = node.members.map((member) => member.key);
      if (typeof segment === 'number')
        throw wrongStepError(file, line, segments, depth, 'mapping', listKeys(keys));
      // The last duplicate wins, as in JSON.parse: that is the value every reader sees.
      const member = node.members.findLast((m) => m.key === segment);
      if (!member) throw missingKeyError(file, line, segments, depth, keys);
      node = member.value;
    } else if (node.type === 'array') {
      const index = listIndex(segment);
      const count = `${node.items.length} item${node.items.length === 1 ? '' : 's'}`;
      if (index === undefined) throw wrongStepError(file, line, segments, depth, 'list', count);
      if (index >= node.items.length) throw outOfRangeError(file, line, segments, depth, node.items.length);
      node = node.items[index];
    } else throw wrongStepError(file, line, segments, depth, 'value', JSON.stringify(node.value));
  }
  const line = lineAndColumn(text, node.start).line;
  if (node.type === 'object')
    throw notScalarError(
      file,
      line,
      segments,
      'mapping',
      node.members.map((m) => m.key),
    );
  if (node.type === 'array')
    throw notScalarError(
      file,
      line,
      segments,
      'list',
      node.items.map((_, index) => String(index)),
    );
  const previous = node.value;
  const source = text.slice(node.start, node.end);
  if (previous === value || (typeof previous !== 'string' && previous !== null && source === value))
    return { text, changed: false, previous };
  const typed =
    (typeof previous === 'number' && JSON_NUMBER_TEXT.test(value)) ||
    (typeof previous === 'boolean' && (value === 'true' || value === 'false'));
  const replacement = typed ? value : JSON.stringify(value);
  const next = text.slice(0, node.start) + replacement + text.slice(node.end);
  return { text: next, changed: next !== text, previous };
}

// ---------------------------------------------------------------------------------------------
// Whole-document updates (used for model reference files)

/** A JSON-like value, as {@link reconcileYamlDocument} wants a document to hold. */
export type PlainValue =
  | string
  | number
  | boolean
  | null
  | PlainValue[]
  | { [key: string]: PlainValue | undefined };

/** One difference between a YAML document and the wanted value, fixed by one text edit. */
type YamlDifference =
  | {
      kind: 'scalar';
      target: YamlTarget;
      segments: FieldPathSegment[];
      value: string | number | boolean | null;
    }
  | { kind: 'insert'; map: YAMLMap; key: string; value: PlainValue }
  | { kind: 'delete'; pair: Pair }
  | { kind: 'replace-pair'; pair: Pair; key: string; value: PlainValue }
  | { kind: 'replace-flow'; node: { range?: [number, number, number] | null }; value: PlainValue }
  | { kind: 'replace-document'; value: PlainValue };

function isPlainObject(value: unknown): value is { [key: string]: PlainValue | undefined } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definedEntries(value: { [key: string]: PlainValue | undefined }): [string, PlainValue][] {
  return Object.entries(value).filter((entry): entry is [string, PlainValue] => entry[1] !== undefined);
}

/** The first place where `node` differs from `want`, depth first in the wanted key order. */
function findDifference(
  node: unknown,
  want: PlainValue,
  context: { pair?: Pair; segments: FieldPathSegment[]; inFlow: boolean; afterKey: boolean },
): YamlDifference | undefined {
  const replace = (): YamlDifference => {
    const flowNode = (node as { flow?: boolean } | null)?.flow === true || context.inFlow;
    if (flowNode && node !== null && typeof node === 'object' && 'range' in node)
      return { kind: 'replace-flow', node: node as { range?: [number, number, number] }, value: want };
    if (context.pair && isScalar(context.pair.key))
      return { kind: 'replace-pair', pair: context.pair, key: String(context.pair.key.value), value: want };
    return { kind: 'replace-document', value: want };
  };
  if (isPlainObject(want)) {
    if (!isMap(node)) return replace();
    const inFlow = context.inFlow || node.flow === true;
    const entries = definedEntries(want);
    for (const [key, value] of entries) {
      const pair = findPair(node, key);
      if (!pair) return inFlow ? replace() : { kind: 'insert', map: node, key, value };
      const difference = findDifference(pair.value, value, {
        pair,
        segments: [...context.segments, key],
        inFlow,
        afterKey: true,
      });
      if (difference) return difference;
    }
    const wanted = new Set(entries.map(([key]) => key));
    const extra = node.items.find((pair) => !isScalar(pair.key) || !wanted.has(String(pair.key.value)));
    if (extra) return inFlow ? replace() : { kind: 'delete', pair: extra as Pair };
    return undefined;
  }
  if (Array.isArray(want)) {
    const current = isSeq(node) ? (node.toJSON() as unknown) : undefined;
    return JSON.stringify(current) === JSON.stringify(want) ? undefined : replace();
  }
  if (isScalar(node) && !isAlias(node)) {
    if (node.value === want) return undefined;
    return {
      kind: 'scalar',
      target: { node, inFlow: context.inFlow, afterKey: context.afterKey },
      segments: context.segments,
      value: want,
    };
  }
  return replace();
}

/** Offset of the start of the line holding `offset`. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the end of the line holding the last character before `offset`. */
function lineEndAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** The indentation step used in a text: the first increase after a line ending in `:`. */
function detectIndentStep(text: string): number {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!/:\s*(#.*)?$/.test(lines[i])) continue;
    const step = lines[i + 1].search(/\S/) - lines[i].search(/\S/);
    if (step > 0) return step;
  }
  return 2;
}

/** Renders `{ key: value }` as block YAML, every line indented by `column` spaces. */
function renderPair(key: string, value: PlainValue, column: number, step: number, eol: string): string {
  const rendered = new Document({ [key]: value }).toString({ indent: step, lineWidth: 0 });
  const pad = ' '.repeat(column);
  return rendered
    .split('\n')
    .filter((line, index, all) => index < all.length - 1 || line !== '')
    .map((line) => (line === '' ? '' : pad + line) + eol)
    .join('');
}

function renderFlow(value: PlainValue, padded: boolean): string {
  const document = new Document(value);
  const contents = document.contents as { flow?: boolean } | null;
  if (contents && typeof contents === 'object') contents.flow = true;
  return document.toString({ lineWidth: 0, flowCollectionPadding: padded }).replace(/\n$/, '');
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** Applies one difference as one text edit. */
function applyDifference(text: string, difference: YamlDifference, step: number, eol: string): string {
  switch (difference.kind) {
    case 'scalar': {
      const { target, segments, value } = difference;
      return writeYamlScalar(
        text,
        target,
        String(value),
        (written) => written === value,
        (candidate) => readYamlScalar(candidate, 0, segments),
      );
    }
    case 'insert': {
      const { map, key, value } = difference;
      const first = map.items[0];
      const last = map.items[map.items.length - 1];
      if (!first || !last) throw new Error('internal: insert into an empty block mapping');
      const column = columnOf(text, (first.key as Scalar).range![0]);
      const end = ((last.value ?? last.key) as Scalar).range![1];
      let position = lineEndAfter(text, end);
      // Blank lines and comments shallower than the mapping, which the parser counts as the end of
      // its last value, introduce what follows: the new key goes above them.
      while (position > 0) {
        const start = lineStart(text, position - 1);
        const line = text.slice(start, position);
        const indent = line.search(/\S/);
        const blank = indent === -1;
        if (!blank && (line[indent] !== '#' || indent >= column)) break;
        position = start;
      }
      const prefix = position === text.length && !text.endsWith('\n') ? eol : '';
      return (
        text.slice(0, position) + prefix + renderPair(key, value, column, step, eol) + text.slice(position)
      );
    }
    case 'delete': {
      const { pair } = difference;
      const start = lineStart(text, (pair.key as Scalar).range![0]);
      const end = lineEndAfter(text, ((pair.value ?? pair.key) as Scalar).range![1]);
      return text.slice(0, start) + text.slice(end);
    }
    case 'replace-pair': {
      const { pair, key, value } = difference;
      const keyStart = (pair.key as Scalar).range![0];
      const start = lineStart(text, keyStart);
      const end = lineEndAfter(text, ((pair.value ?? pair.key) as Scalar).range![1]);
      const column = columnOf(text, keyStart);
      const rendered =
        isPlainObject(value) && definedEntries(value).length === 0
          ? `${' '.repeat(column)}${formatKey(key)}: {}${eol}`
          : renderPair(key, value, column, step, eol);
      // A key that shares its line with a list dash (`- key: …`) keeps the dash.
      const lead = text.slice(start, keyStart);
      const body = /^\s*$/.test(lead) ? rendered : lead + rendered.slice(column);
      return text.slice(0, start) + body + text.slice(end);
    }
    case 'replace-flow': {
      const range = difference.node.range!;
      const original = text.slice(range[0], range[1]);
      const padded = !/^[[{]\S/.test(original);
      return text.slice(0, range[0]) + renderFlow(difference.value, padded) + text.slice(range[1]);
    }
    case 'replace-document':
      return new Document(difference.value).toString({ indent: step, lineWidth: 0 });
  }
}

function formatKey(key: string): string {
  return new Document(key).toString().replace(/\n$/, '');
}

/**
 * Makes a single-document YAML text hold `want`, with the fewest line-level edits: scalars are
 * re-rendered in place (keeping their quoting and trailing comments), missing keys are appended to
 * their mapping at its indentation, surplus keys are removed, and everything else — comments, key
 * order, blank lines, indentation — keeps its bytes. Keys whose wanted value is `undefined` are
 * treated as absent.
 */
export function reconcileYamlDocument(text: string, want: PlainValue, file: string): string {
  const step = detectIndentStep(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // Each pass fixes one difference and parses again, so every edit sees fresh offsets.
  for (let pass = 0; pass < 10_000; pass++) {
    const parsed = parseYaml(text, file);
    if (parsed.documents.length > 1)
      throw new ConfigurationError(
        `${file} must hold one YAML document; it holds ${parsed.documents.length}.`,
        {
          file,
        },
      );
    const document = parsed.documents[0];
    const difference = document
      ? findDifference(document.contents, want, { segments: [], inFlow: false, afterKey: false })
      : ({ kind: 'replace-document', value: want } as const);
    if (!difference) return text;
    const next = applyDifference(text, difference, step, eol);
    if (next === text) throw new Error(`internal: an edit of ${file} (${difference.kind}) changed nothing`);
    text = next;
  }
  throw new Error(`internal: updating ${file} did not converge`);
}
