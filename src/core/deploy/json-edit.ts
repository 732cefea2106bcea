/**
 * One scalar of a JSON file edited in place: the shared JSON scanner (json/text.ts) records where
 * each value starts and ends, so only the bytes of the value change.
 */
import { InputError } from '../errors.ts';
import {
  JSON_NUMBER_TEXT,
  type JsonNode,
  JsonSyntaxError,
  lineAndColumn,
  parseJsonTree,
} from '../json/text.ts';
import {
  type FieldEdit,
  type FieldPathSegment,
  listIndex,
  listKeys,
  missingKeyError,
  notScalarError,
  outOfRangeError,
  wrongStepError,
} from './field-path.ts';

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

export function setJsonField(
  text: string,
  segments: FieldPathSegment[],
  value: string,
  file: string,
): FieldEdit {
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
