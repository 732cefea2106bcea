/**
 * Whole-document updates of YAML files (model reference files): a document is made to hold a
 * wanted value with the fewest line-level edits, so that people's comments, key order and blank
 * lines survive and a deployment PR's diff shows only what changed.
 */
import { Document, isAlias, isMap, isScalar, isSeq, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { ConfigurationError } from '../errors.ts';
import type { FieldPathSegment } from './field-path.ts';
import { findPair, parseYaml, readYamlScalar, writeYamlScalar, type YamlTarget } from './yaml-edit.ts';

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
