/**
 * One scalar of a YAML file edited in place: the `yaml` package's source tokens
 * (`keepSourceTokens`) locate it, its own token is re-rendered in its own style and spliced back
 * into the text, and the result is read back to prove it holds the intended value. Comments,
 * quoting, indentation, key order and blank lines stay as people wrote them. Multi-document files
 * (`---`) are edited in the document a {@link DocumentSelector} picks.
 */
import {
  type Alias,
  CST,
  type Document,
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
  acceptsValue,
  type FieldEdit,
  type FieldPathSegment,
  fileAt,
  formatFieldPath,
  listIndex,
  listKeys,
  missingKeyError,
  notScalarError,
  outOfRangeError,
  parseFieldPath,
  placeOf,
  wrongStepError,
} from './field-path.ts';

/** Which document of a multi-document YAML file (`---`) to edit. */
export interface DocumentSelector {
  /** 0-based position of the document in the file. */
  documentIndex?: number;
  /** Field values the document must have, by path, e.g. `{ kind: 'InferenceService', 'metadata.name': 'churn' }`. */
  match?: Record<string, string>;
}

type ParsedDocument = Document.Parsed;

export interface ParsedYaml {
  documents: ParsedDocument[];
  lines: LineCounter;
}

/** Parses every document of a YAML text, keeping each node's source token. */
export function parseYaml(text: string, file: string): ParsedYaml {
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

export function findPair(map: YAMLMap, key: string): Pair | undefined {
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
    `${fileAt(file, line)}: ${placeOf(segments.slice(0, depth))} is the alias *${alias.source}: editing "${path}" through it would change every place that uses &${alias.source}. Set the field where &${alias.source} is defined, or give this place its own value instead of the alias.`,
    { file, line, key: path },
  );
}

/** Where a YAML scalar was found, with what its re-rendering needs to know. */
export interface YamlTarget {
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
      `${fileAt(file, line)}: "${formatFieldPath(segments)}" has no value to replace; write a placeholder value there (e.g. "") first.`,
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
export function writeYamlScalar(
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
export function readYamlScalar(
  text: string,
  documentIndex: number,
  segments: readonly FieldPathSegment[],
): unknown {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return UNREADABLE;
  const document = documents[documentIndex];
  if (!document || document.errors.length > 0) return UNREADABLE;
  const scalar = peekYamlScalar(document as ParsedDocument, segments);
  return scalar === undefined ? UNREADABLE : scalar.value;
}

export function setYamlField(
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
