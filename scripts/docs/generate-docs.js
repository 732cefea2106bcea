/**
 * Generates the parts of the READMEs that restate machine-readable sources, so they cannot drift:
 *
 * - README.md `actions`: one row per actions/<name>/action.yml (description, inputs, outputs);
 * - README.md `config`: the reference of mlops.yaml, from src/core/schemas/mlops-config.schema.json;
 * - actions/<name>/README.md `inputs` and `outputs`: the tables of that action.yml, in every action
 *   README that has the markers (a README without them is left alone).
 *
 * Each part sits between `<!-- generated:NAME ... -->` and `<!-- /generated:NAME -->`; everything
 * outside the markers is prose and never touched.
 *
 *   node scripts/docs/generate-docs.js --write   rewrite the stale parts in place (atomically)
 *   node scripts/docs/generate-docs.js --check   exit 1 naming each stale file and part, with a diff
 *
 * The output is plain Markdown with unpadded tables: biome does not format Markdown here, and padding
 * would make every row change when one cell grows.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The repository root when run as a script. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The command that fixes stale docs, named in every message. */
export const FIX_COMMAND = 'npm run docs';
/** The config schema, relative to the repository root. */
export const CONFIG_SCHEMA_PATH = 'src/core/schemas/mlops-config.schema.json';

/** Thrown for a README or source the generator cannot work with (missing markers, bad action.yml). */
export class DocsError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'DocsError';
  }
}

// ---------------------------------------------------------------------------------------------
// Markdown helpers

/**
 * Escapes text for a Markdown table cell: `|` would end the cell, and a `<` that starts a tag outside
 * code spans would be read as HTML (GitHub hides `<environment>`; `a < 1` and `>` are safe in a cell,
 * so they stay readable). Code spans are kept as they are, except for `|`, which GitHub's tables
 * split on even inside backticks.
 * @param {string} text
 */
export function escapeCell(text) {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => {
      if (i % 2 === 1) return part.replaceAll('|', '\\|');
      return part.replaceAll('|', '\\|').replace(/<(?=[A-Za-z/!?])/g, '&lt;');
    })
    .join('');
}

/**
 * A code span around `text`, with a longer fence when the text holds backticks (CommonMark).
 * @param {string} text
 */
export function codeSpan(text) {
  const runs = text.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((run) => run.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * A multi-line description as one table cell: lines are joined by spaces, except that an
 * indented line (an example, like the gate expressions of validate-model's `gates`) becomes its
 * own line as a code span.
 * @param {string} text
 */
export function describeCell(text) {
  const lines = text.trim().split('\n');
  /** @type {string[]} */
  const out = [];
  let prose = [];
  const flush = () => {
    if (prose.length > 0) out.push(escapeCell(prose.join(' ')));
    prose = [];
  };
  for (const line of lines) {
    if (/^\s+\S/.test(line)) {
      flush();
      out.push(escapeCell(codeSpan(line.trim())));
    } else if (line.trim() !== '') {
      prose.push(line.trim());
    }
  }
  flush();
  return out.join('<br>');
}

/**
 * A Markdown table (unpadded, so one cell's growth does not rewrite every row).
 * @param {string[]} header
 * @param {string[][]} rows cells already escaped
 */
export function renderTable(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Actions

/**
 * @typedef {{ name: string, description: string, required: boolean, default?: string }} ActionInput
 * @typedef {{ name: string, description: string }} ActionOutput
 * @typedef {{ name: string, file: string, description: string, inputs: ActionInput[], outputs: ActionOutput[] }} ActionInfo
 */

/**
 * Reads one action.yml into what the docs show.
 * @param {string} text the file's content
 * @param {string} name the action's folder name
 * @param {string} file the path for messages
 * @returns {ActionInfo}
 */
export function parseAction(text, name, file) {
  let doc;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new DocsError(`${file} is not valid YAML: ${error instanceof Error ? error.message : error}`);
  }
  if (!doc || typeof doc !== 'object' || typeof doc.description !== 'string') {
    throw new DocsError(
      `${file} has no description: add a top-level "description:" (it is the README's text).`,
    );
  }
  const entries = (value, what) => {
    if (value === undefined || value === null) return [];
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new DocsError(`${file}: "${what}" must be a mapping of names to their settings.`);
    }
    return Object.entries(value).map(([key, spec]) => {
      if (!spec || typeof spec.description !== 'string' || spec.description.trim() === '') {
        throw new DocsError(`${file}: ${what}.${key} has no description: add one (the README shows it).`);
      }
      return [key, spec];
    });
  };
  return {
    name,
    file,
    description: doc.description.trim(),
    inputs: entries(doc.inputs, 'inputs').map(([key, spec]) => ({
      name: key,
      description: spec.description,
      required: spec.required === true || spec.required === 'true',
      ...(spec.default !== undefined && spec.default !== null && String(spec.default) !== ''
        ? { default: String(spec.default) }
        : {}),
    })),
    outputs: entries(doc.outputs, 'outputs').map(([key, spec]) => ({
      name: key,
      description: spec.description,
    })),
  };
}

/**
 * Every actions/<name>/action.yml under `root`, sorted by name.
 * @param {string} root
 * @returns {ActionInfo[]}
 */
export function loadActions(root) {
  const folder = join(root, 'actions');
  const names = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => existsSync(join(folder, name, 'action.yml')))
    .sort(compareText);
  return names.map((name) => {
    const file = `actions/${name}/action.yml`;
    return parseAction(readFileSync(join(root, file), 'utf8'), name, file);
  });
}

/**
 * The README's table of actions: one row per action, inputs and outputs as code spans (required
 * inputs in bold), details left to each action's README.
 * @param {ActionInfo[]} actions
 */
export function renderActionsTable(actions) {
  const rows = actions.map((action) => [
    `[${codeSpan(action.name)}](actions/${action.name}/)`,
    describeCell(action.description),
    action.inputs
      .map((input) => (input.required ? `**${codeSpan(input.name)}**` : codeSpan(input.name)))
      .join(', '),
    action.outputs.map((output) => codeSpan(output.name)).join(', '),
  ]);
  return [
    renderTable(['action', 'what it does', 'inputs', 'outputs'], rows),
    '',
    "Inputs in **bold** are required. Each action's README has the details, permissions and an example.",
  ].join('\n');
}

/**
 * An action README's inputs table.
 * @param {ActionInfo} action
 */
export function renderInputsTable(action) {
  if (action.inputs.length === 0) return '_No inputs._';
  return renderTable(
    ['input', 'required', 'default', 'description'],
    action.inputs.map((input) => [
      codeSpan(input.name),
      input.required ? 'yes' : 'no',
      input.default === undefined ? '' : escapeCell(codeSpan(input.default)),
      describeCell(input.description),
    ]),
  );
}

/**
 * An action README's outputs table.
 * @param {ActionInfo} action
 */
export function renderOutputsTable(action) {
  if (action.outputs.length === 0) return '_No outputs._';
  return renderTable(
    ['output', 'description'],
    action.outputs.map((output) => [codeSpan(output.name), describeCell(output.description)]),
  );
}

// ---------------------------------------------------------------------------------------------
// Config schema

/**
 * @typedef {{ path: string, type: string, description: string }} SchemaRow
 */

/**
 * Resolves a local `$ref` (`#/$defs/x`, `#/definitions/x`, any JSON pointer into the document).
 * @param {object} root the whole schema
 * @param {string} ref
 */
function resolveRef(root, ref) {
  if (!ref.startsWith('#')) throw new DocsError(`Only local $refs are supported; got "${ref}".`);
  let node = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = node?.[key];
  }
  if (node === undefined) throw new DocsError(`The $ref "${ref}" points nowhere in the schema.`);
  return node;
}

/** On a flattened schema: the `$ref`s followed to reach it, so a cycle is expanded only once. */
const REFS = Symbol('refs');

/**
 * Follows `$ref`s and merges `allOf` parts into one schema (the sibling keywords of a `$ref` win,
 * as in draft 2020-12, where they apply alongside it). A `$ref` already followed on the way here
 * becomes `{ recursive: ref }` instead of an endless expansion.
 * @param {object} root
 * @param {any} schema
 * @param {Set<string>} [seen] the `$ref`s followed so far
 * @returns {any}
 */
function flatten(root, schema, seen = new Set()) {
  if (schema === undefined || schema === true) return { [REFS]: seen };
  if (schema === false) return { not: {}, [REFS]: seen };
  let result = { ...schema, [REFS]: seen };
  if (typeof result.$ref === 'string') {
    const ref = result.$ref;
    if (seen.has(ref)) {
      return {
        description: result.description,
        recursive: ref,
        type: resolveRef(root, ref).type,
        [REFS]: seen,
      };
    }
    const target = flatten(root, resolveRef(root, ref), new Set([...seen, ref]));
    delete result.$ref;
    result = { ...target, ...result, properties: mergeProperties(target.properties, result.properties) };
    result[REFS] = target[REFS];
  }
  if (Array.isArray(result.allOf)) {
    for (const part of result.allOf) {
      const flat = flatten(root, part, result[REFS]);
      result = {
        ...flat,
        ...result,
        properties: mergeProperties(result.properties, flat.properties),
        required: [...(result.required ?? []), ...(flat.required ?? [])],
        [REFS]: new Set([...result[REFS], ...flat[REFS]]),
      };
    }
    delete result.allOf;
  }
  if (result.properties === undefined) delete result.properties;
  return result;
}

function mergeProperties(a, b) {
  if (!a && !b) return undefined;
  return { ...(a ?? {}), ...(b ?? {}) };
}

/** A sub-schema of a flattened node (an item, a value, an alternative, a property), flattened. */
function flattenUnder(root, parent, schema) {
  return flatten(root, schema, parent[REFS] ?? new Set());
}

/** The alternatives of a `oneOf`/`anyOf`, flattened; empty for a schema without them. */
function alternativesOf(root, schema) {
  const list = schema.oneOf ?? schema.anyOf ?? [];
  return list.map((alternative) => flattenUnder(root, schema, alternative));
}

/** True for an object schema that is a map: free keys, each with the `additionalProperties` schema. */
function isMap(schema) {
  return (
    schema.additionalProperties !== undefined &&
    typeof schema.additionalProperties === 'object' &&
    Object.keys(schema.properties ?? {}).length === 0
  );
}

/** True when the schema describes an object with named keys. */
function hasProperties(schema) {
  return Object.keys(schema.properties ?? {}).length > 0;
}

/**
 * The literal value of an enum or const, as written in YAML (strings unquoted unless YAML would
 * read them as something else).
 * @param {unknown} value
 */
function literal(value) {
  if (typeof value === 'string') {
    const plain = /^[A-Za-z_][\w./-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value);
    return codeSpan(plain ? value : JSON.stringify(value));
  }
  return codeSpan(JSON.stringify(value));
}

/**
 * The short type of a schema (Markdown, escaped later for its table): `string`, `integer, ≥ 1`,
 * `a` | `b` for an enum, `array of string`, `map of object`, alternatives joined by "or"; then
 * bounds (left out for an array's items and a map's values, where they would read as the outer
 * type's).
 * @param {object} root the whole schema (for `$ref`s)
 * @param {any} schema the node
 * @param {boolean} [nested] true for an array's items or a map's values
 * @returns {string}
 */
export function describeType(root, schema, nested = false) {
  const node = schema[REFS] ? schema : flatten(root, schema);
  if (node.recursive) {
    const types = Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'any');
    return `${types} (recursive: ${codeSpan(node.recursive)})`;
  }
  const inner = (sub) => describeType(root, flattenUnder(root, node, sub), true);
  const parts = [];
  if (node.const !== undefined) parts.push(literal(node.const));
  else if (Array.isArray(node.enum)) parts.push(node.enum.map(literal).join(' | '));
  else if (node.oneOf || node.anyOf) {
    parts.push(
      alternativesOf(root, node)
        .map((alternative) => describeType(root, alternative, true))
        .join(' or '),
    );
  } else {
    const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
    if (types.length === 0) {
      if (node.items !== undefined) types.push('array');
      else if (hasProperties(node) || isMap(node)) types.push('object');
    }
    const named = types.map((type) => {
      if (type === 'array') return `array of ${node.items === undefined ? 'any' : inner(node.items)}`;
      if (type === 'object' && isMap(node)) return `map of ${inner(node.additionalProperties)}`;
      return type;
    });
    parts.push(named.length > 0 ? named.join(' or ') : 'any');
  }
  const bounds = nested ? '' : describeBounds(node);
  if (bounds) parts.push(bounds);
  return parts.join(', ');
}

/** Numeric, length and size bounds in one short phrase, e.g. `> 0, ≤ 1` or `1 character`. */
function describeBounds(schema) {
  const bounds = [];
  if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${schema.exclusiveMinimum}`);
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMaximum !== undefined) bounds.push(`< ${schema.exclusiveMaximum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  const characters = (n) => (n === 1 ? '1 character' : `${n} characters`);
  const items = (n) => (n === 1 ? '1 item' : `${n} items`);
  if (schema.minLength !== undefined && schema.minLength === schema.maxLength) {
    bounds.push(characters(schema.minLength));
  } else {
    if (schema.minLength !== undefined) bounds.push(`at least ${characters(schema.minLength)}`);
    if (schema.maxLength !== undefined) bounds.push(`at most ${characters(schema.maxLength)}`);
  }
  if (schema.minItems !== undefined) bounds.push(`at least ${items(schema.minItems)}`);
  if (schema.maxItems !== undefined) bounds.push(`at most ${items(schema.maxItems)}`);
  if (schema.pattern !== undefined) bounds.push(`matching ${codeSpan(schema.pattern)}`);
  return bounds.join(', ');
}

/**
 * Walks a schema into one row per key path, depth first in the schema's key order:
 * `properties` by name, `additionalProperties` maps as `.<name>`, array items as `[]`, `$ref`s
 * and `allOf` resolved (a cycle is expanded once, then marked "recursive"), and the object alternatives of
 * `oneOf`/`anyOf` walked under the same path. Required keys and `default`s are part of the type.
 * @param {object} root the whole schema (for `$ref`s)
 * @param {any} [schema] the node whose keys to list (default: the root)
 * @param {string} [path] the node's key path ('' for the root)
 * @returns {SchemaRow[]}
 */
export function walkSchema(root, schema = root, path = '') {
  const node = schema[REFS] ? schema : flatten(root, schema);
  /** @type {SchemaRow[]} */
  const rows = [];
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === '' ? key : `${path}.${key}`;
    const flat = flattenUnder(root, node, child);
    rows.push(row(root, flat, childPath, required.has(key)));
    rows.push(...walkChildren(root, flat, childPath));
  }
  return rows;
}

/** The rows under a key: its own keys, its map values' keys, its items' keys, its alternatives'. */
function walkChildren(root, flat, path) {
  const rows = [];
  if (flat.recursive) return rows;
  if (hasProperties(flat)) rows.push(...walkSchema(root, flat, path));
  if (typeof flat.additionalProperties === 'object') {
    rows.push(...walkNested(root, flattenUnder(root, flat, flat.additionalProperties), `${path}.<name>`));
  }
  if (typeof flat.items === 'object') {
    rows.push(...walkNested(root, flattenUnder(root, flat, flat.items), `${path}[]`));
  }
  for (const alternative of alternativesOf(root, flat)) rows.push(...walkChildren(root, alternative, path));
  return rows;
}

/**
 * A map value or array item: its keys become rows under `path` (`x.<name>.key`, `x[].key`). A
 * value that is itself a map or array of objects gets a row of its own, so the path stays readable.
 */
function walkNested(root, flat, path) {
  if (hasProperties(flat) || flat.recursive) return walkChildren(root, flat, path);
  const holdsObjects = (sub) => typeof sub === 'object' && hasProperties(flattenUnder(root, flat, sub));
  if (!holdsObjects(flat.additionalProperties) && !holdsObjects(flat.items)) {
    return walkChildren(root, flat, path);
  }
  return [row(root, flat, path, false), ...walkChildren(root, flat, path)];
}

function row(root, flat, path, required) {
  let type = describeType(root, flat);
  if (required) type += ', required';
  if (flat.default !== undefined) type += `, default ${literal(flat.default)}`;
  return { path, type, description: flat.description ?? '' };
}

/**
 * The config reference: a table of the top-level scalar keys, then one section per top-level
 * object (data, model, deploy, …) with its description and a table of its keys.
 * @param {any} schema the mlops.yaml JSON Schema
 */
export function renderConfigReference(schema) {
  const root = flatten(schema, schema);
  const sections = Object.entries(root.properties ?? {}).map(([key, child]) => ({
    key,
    flat: flattenUnder(schema, root, child),
  }));
  const isSection = (flat) => hasProperties(flat) || isMap(flat);
  const table = (rows) =>
    renderTable(
      ['key', 'type', 'description'],
      rows.map((r) => [codeSpan(r.path), escapeCell(r.type), escapeCell(r.description)]),
    );
  const blocks = [];
  const topLevel = sections
    .filter(({ flat }) => !isSection(flat))
    .map(({ key, flat }) => row(schema, flat, key, (root.required ?? []).includes(key)));
  if (topLevel.length > 0) blocks.push(`### Top level\n\n${table(topLevel)}`);
  for (const { key, flat } of sections.filter((section) => isSection(section.flat))) {
    const intro = flat.description ? `\n\n${escapeCell(flat.description)}` : '';
    blocks.push(`### ${codeSpan(`${key}:`)}${intro}\n\n${table(walkChildren(schema, flat, key))}`);
  }
  return blocks.join('\n\n');
}

// ---------------------------------------------------------------------------------------------
// Marked sections

const START = /<!-- generated:([a-z][a-z0-9-]*)(?:[^>]*)? -->\n/g;

/**
 * The generated sections of a Markdown text: name, and where the content between the markers
 * starts and ends. A start marker without its end marker, or a section twice, is an error.
 * @param {string} text
 * @param {string} file for messages
 * @returns {Map<string, { start: number, end: number }>}
 */
export function findSections(text, file) {
  const sections = new Map();
  for (const match of text.matchAll(START)) {
    const name = match[1];
    const start = match.index + match[0].length;
    const endMarker = `<!-- /generated:${name} -->`;
    const end = text.indexOf(endMarker, start);
    if (end === -1) {
      throw new DocsError(
        `${file}: <!-- generated:${name} --> has no ${endMarker} after it: add it where the part ends.`,
      );
    }
    if (sections.has(name)) throw new DocsError(`${file}: the section "${name}" is marked twice: keep one.`);
    sections.set(name, { start, end });
  }
  return sections;
}

/**
 * Replaces the content of the named sections; the markers and everything outside stay.
 * @param {string} text
 * @param {Record<string, string>} contents by section name, without the surrounding blank lines
 * @param {string} file for messages
 * @param {{ required: boolean }} options required: every named section must be marked
 */
export function fillSections(text, contents, file, { required }) {
  const sections = findSections(text, file);
  const replacements = [];
  for (const [name, content] of Object.entries(contents)) {
    const section = sections.get(name);
    if (!section) {
      if (!required) continue;
      throw new DocsError(
        `${file} has no generated section "${name}": add the lines <!-- generated:${name} --> and <!-- /generated:${name} --> where it belongs, then run ${FIX_COMMAND}.`,
      );
    }
    replacements.push({ ...section, content: `\n${content}\n\n` });
  }
  replacements.sort((a, b) => b.start - a.start);
  let result = text;
  for (const { start, end, content } of replacements) {
    result = result.slice(0, start) + content + result.slice(end);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The whole run

/**
 * @typedef {{ file: string, current: string, expected: string, stale: { section: string, current: string, expected: string }[] }} DocFile
 */

/**
 * Computes every generated file under `root`: its current and expected text, and which sections
 * differ. Reads only; see {@link writeDocs} and {@link checkDocs}.
 * @param {string} root
 * @returns {DocFile[]}
 */
export function generateDocs(root) {
  const actions = loadActions(root);
  const schema = JSON.parse(readFileSync(join(root, CONFIG_SCHEMA_PATH), 'utf8'));
  /** @type {DocFile[]} */
  const files = [];
  const add = (file, contents, required) => {
    const current = readFileSync(join(root, file), 'utf8');
    const expected = fillSections(current, contents, file, { required });
    const before = findSections(current, file);
    const after = findSections(expected, file);
    const stale = [];
    for (const name of Object.keys(contents)) {
      const a = before.get(name);
      const b = after.get(name);
      if (!a || !b) continue;
      const sectionCurrent = current.slice(a.start, a.end);
      const sectionExpected = expected.slice(b.start, b.end);
      if (sectionCurrent !== sectionExpected) {
        stale.push({ section: name, current: sectionCurrent, expected: sectionExpected });
      }
    }
    files.push({ file, current, expected, stale });
  };
  add('README.md', { actions: renderActionsTable(actions), config: renderConfigReference(schema) }, true);
  for (const action of actions) {
    const readme = `actions/${action.name}/README.md`;
    if (!existsSync(join(root, readme))) continue;
    add(readme, { inputs: renderInputsTable(action), outputs: renderOutputsTable(action) }, false);
  }
  return files;
}

/**
 * A short line diff (longest common subsequence) of a stale section: `-` lines now in the file,
 * `+` lines the generator writes; at most `limit` changed lines.
 * @param {string} current
 * @param {string} expected
 * @param {number} [limit]
 */
export function diffLines(current, expected, limit = 40) {
  const a = current.split('\n');
  const b = expected.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  let changed = 0;
  while ((i < a.length || j < b.length) && changed < limit) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push(`+ ${b[j++]}`);
      changed++;
    } else {
      out.push(`- ${a[i++]}`);
      changed++;
    }
  }
  if (i < a.length || j < b.length) out.push('  … (more changes)');
  return out.join('\n');
}

/**
 * Check mode: a message per stale file and section, with a diff and the fix; empty when current.
 * @param {string} root
 * @returns {string[]}
 */
export function checkDocs(root) {
  const messages = [];
  for (const file of generateDocs(root)) {
    for (const stale of file.stale) {
      messages.push(
        `${file.file}: the generated section "${stale.section}" is stale (run \`${FIX_COMMAND}\` and commit the result):\n` +
          diffLines(stale.current, stale.expected),
      );
    }
  }
  return messages;
}

/**
 * Write mode: rewrites each file whose generated sections changed, atomically (temporary file,
 * then rename, so a reader never sees half a README). Returns the files written.
 * @param {string} root
 * @returns {string[]}
 */
export function writeDocs(root) {
  const written = [];
  for (const file of generateDocs(root)) {
    if (file.current === file.expected) continue;
    writeFileAtomic(join(root, file.file), file.expected);
    written.push(file.file);
  }
  return written;
}

function writeFileAtomic(path, content) {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Code-point order, the same on every machine (localeCompare depends on the ICU data). */
function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The command line: `--write` or `--check`. Returns the exit code: 0 done or current, 1 stale,
 * 2 usage or a README/action.yml the generator cannot work with.
 * @param {string[]} args
 * @param {{ root?: string, stdout?: (text: string) => void, stderr?: (text: string) => void }} [io]
 */
export function main(args, io = {}) {
  const root = io.root ?? REPO_ROOT;
  const stdout = io.stdout ?? ((text) => process.stdout.write(`${text}\n`));
  const stderr = io.stderr ?? ((text) => process.stderr.write(`${text}\n`));
  const mode = args.length === 1 && (args[0] === '--write' || args[0] === '--check') ? args[0] : undefined;
  if (!mode) {
    stderr('usage: node scripts/docs/generate-docs.js --write | --check');
    return 2;
  }
  try {
    if (mode === '--write') {
      const written = writeDocs(root);
      stdout(written.length === 0 ? 'docs: up to date' : `docs: wrote ${written.join(', ')}`);
      return 0;
    }
    const messages = checkDocs(root);
    if (messages.length === 0) {
      stdout('docs: generated sections are up to date');
      return 0;
    }
    stderr(messages.join('\n\n'));
    stderr(
      `\ndocs: ${messages.length} generated section(s) stale; run \`${FIX_COMMAND}\` and commit the result.`,
    );
    return 1;
  } catch (error) {
    if (error instanceof DocsError) {
      stderr(`docs: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
