/**
 * The generated README parts (actions table, config reference, action inputs/outputs tables):
 * the checked-in READMEs must match what scripts/docs/generate-docs.js makes from action.yml and
 * the config schema, and the generator itself is tested on small inputs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_SCHEMA_PATH,
  checkDocs,
  DocsError,
  describeCell,
  escapeCell,
  fillSections,
  loadActions,
  main,
  parseAction,
  REPO_ROOT,
  renderActionsTable,
  renderConfigReference,
  renderInputsTable,
  walkSchema,
  writeDocs,
} from '../../scripts/docs/generate-docs.js';
import { temporaryFolderSync } from '../helpers/temp.ts';

describe('the checked-in READMEs', () => {
  it('match what npm run docs generates (README.md and every action README with markers)', () => {
    const stale = checkDocs(REPO_ROOT);
    expect(stale, `Stale generated docs; run npm run docs:\n\n${stale.join('\n\n')}`).toEqual([]);
  });

  it('list every action and every input and output of its action.yml', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const rows = readme.split('\n');
    const actions = loadActions(REPO_ROOT);
    expect(actions.length).toBeGreaterThanOrEqual(4);
    for (const action of actions) {
      const row = rows.find((line) => line.startsWith(`| [\`${action.name}\`](actions/${action.name}/) |`));
      expect(row, `README.md has no row for ${action.name}`).toBeDefined();
      for (const { name } of [...action.inputs, ...action.outputs]) {
        expect(row!.includes(`\`${name}\``), `${action.name}: ${name} missing from its row`).toBe(true);
      }
    }
    for (const key of [
      '| `data.drift.columns.<name>.test` |',
      '| `model.thresholds[].metric` | string, required |',
    ]) {
      expect(readme.includes(key), key).toBe(true);
    }
  });
});

/** A schema with the constructs the walker must handle: refs, enums, defaults, maps, arrays, oneOf, a cycle. */
const SMALL_SCHEMA = {
  $defs: {
    level: { enum: ['error', 'warning', 'ignore'], default: 'warning', description: 'How bad it is.' },
    limit: {
      type: 'object',
      required: ['value'],
      properties: { value: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'The limit.' } },
    },
    node: {
      type: 'object',
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } },
    },
  },
  type: 'object',
  required: ['version'],
  properties: {
    version: { const: 1, description: 'Format version.' },
    level: { $ref: '#/$defs/level' },
    columns: {
      type: 'object',
      description: 'Per column.',
      additionalProperties: {
        type: 'object',
        properties: {
          test: { enum: ['ks', 'psi'] },
          limit: { $ref: '#/$defs/limit', description: 'Overrides the limit.' },
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['metric'],
        properties: { metric: { type: 'string', minLength: 1 }, min: { type: 'number', default: 0 } },
      },
    },
    buckets: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'number' }, minItems: 1 },
    },
    bootstrap: {
      oneOf: [{ const: false }, { type: 'object', properties: { seed: { type: 'integer', minimum: 0 } } }],
    },
    weight: { type: ['number', 'null'] },
    tree: { $ref: '#/$defs/node' },
  },
};

describe('walkSchema', () => {
  it('lists every key path with its type, bounds, default and description', () => {
    const rows = walkSchema(SMALL_SCHEMA).map((row) => [row.path, row.type, row.description]);
    expect(rows).toEqual([
      ['version', '`1`, required', 'Format version.'],
      ['level', '`error` | `warning` | `ignore`, default `warning`', 'How bad it is.'],
      ['columns', 'map of object', 'Per column.'],
      ['columns.<name>.test', '`ks` | `psi`', ''],
      // A $ref's sibling description wins over the target's; the target's keys are walked.
      ['columns.<name>.limit', 'object', 'Overrides the limit.'],
      ['columns.<name>.limit.value', 'number, > 0, ≤ 1, required', 'The limit.'],
      ['rules', 'array of object', ''],
      ['rules[].metric', 'string, at least 1 character, required', ''],
      ['rules[].min', 'number, default `0`', ''],
      ['buckets', 'map of array of number', ''],
      ['bootstrap', '`false` or object', ''],
      ['bootstrap.seed', 'integer, ≥ 0', ''],
      ['weight', 'number or null', ''],
      ['tree', 'object', ''],
      ['tree.name', 'string', ''],
      // The cycle is expanded once, then named instead of recursing forever.
      ['tree.children', 'array of object (recursive: `#/$defs/node`)', ''],
    ]);
  });

  it('names a $ref that points nowhere', () => {
    expect(() => walkSchema({ properties: { a: { $ref: '#/$defs/missing' } } })).toThrow(
      /The \$ref "#\/\$defs\/missing" points nowhere/,
    );
  });

  it('renders one table per section, scalar keys first, with table-safe cells', () => {
    const markdown = renderConfigReference({
      properties: {
        version: { const: 1, description: 'Format version.' },
        data: {
          type: 'object',
          description: 'The data gate.',
          properties: {
            'fail-on': { enum: ['error', 'never'], description: 'Fail at <level> or worse | never.' },
          },
        },
        columns: SMALL_SCHEMA.properties.columns,
      },
      $defs: SMALL_SCHEMA.$defs,
    });
    expect(markdown).toBe(
      [
        '### Top level',
        '',
        '| key | type | description |',
        '| --- | --- | --- |',
        '| `version` | `1` | Format version. |',
        '',
        '### `data:`',
        '',
        'The data gate.',
        '',
        '| key | type | description |',
        '| --- | --- | --- |',
        '| `data.fail-on` | `error` \\| `never` | Fail at &lt;level> or worse \\| never. |',
        '',
        '### `columns:`',
        '',
        'Per column.',
        '',
        '| key | type | description |',
        '| --- | --- | --- |',
        '| `columns.<name>.test` | `ks` \\| `psi` |  |',
        '| `columns.<name>.limit` | object | Overrides the limit. |',
        '| `columns.<name>.limit.value` | number, > 0, ≤ 1, required | The limit. |',
      ].join('\n'),
    );
  });
});

describe('Markdown cells', () => {
  it('escapes pipes everywhere and tags outside code spans, and keeps comparisons readable', () => {
    expect(escapeCell('a | b <name>/ `x|y <z>` c < 1, d > 2')).toBe(
      'a \\| b &lt;name>/ `x\\|y <z>` c < 1, d > 2',
    );
  });

  it('joins prose lines and turns indented example lines into code spans', () => {
    expect(
      describeCell('Gates, one per line, e.g.\n  roc_auc >= 0.95\n  f1 >= baseline - 0.01\nAt least\none.'),
    ).toBe('Gates, one per line, e.g.<br>`roc_auc >= 0.95`<br>`f1 >= baseline - 0.01`<br>At least one.');
  });
});

const ACTION_YML = `name: "demo"
description: >-
  Does one thing
  well.
inputs:
  path:
    description: "Where, e.g. <dir>/out | stdout."
    required: true
  mode:
    description: "fast or slow."
    required: false
    default: "fast"
outputs:
  result:
    description: "What happened."
runs:
  using: node24
  main: ../../dist/demo/index.js
`;

describe('action tables', () => {
  it('reads an action.yml and renders its row and its inputs table', () => {
    const action = parseAction(ACTION_YML, 'demo', 'actions/demo/action.yml');
    expect(action).toMatchObject({
      description: 'Does one thing well.',
      inputs: [
        { name: 'path', required: true },
        { name: 'mode', required: false, default: 'fast' },
      ],
      outputs: [{ name: 'result', description: 'What happened.' }],
    });
    expect(renderActionsTable([action])).toContain(
      '| [`demo`](actions/demo/) | Does one thing well. | **`path`**, `mode` | `result` |',
    );
    expect(renderInputsTable(action).split('\n').slice(2)).toEqual([
      '| `path` | yes |  | Where, e.g. &lt;dir>/out \\| stdout. |',
      '| `mode` | no | `fast` | fast or slow. |',
    ]);
  });

  it('names the file and key of an input without a description', () => {
    expect(() =>
      parseAction(
        'description: x\ninputs:\n  path:\n    required: true\n',
        'demo',
        'actions/demo/action.yml',
      ),
    ).toThrow('actions/demo/action.yml: inputs.path has no description');
  });
});

describe('marked sections', () => {
  it('replaces only the text between the markers', () => {
    const text = 'intro\n<!-- generated:a: a hint -->\nold\n<!-- /generated:a -->\noutro\n';
    expect(fillSections(text, { a: 'new' }, 'X.md', { required: true })).toBe(
      'intro\n<!-- generated:a: a hint -->\n\nnew\n\n<!-- /generated:a -->\noutro\n',
    );
  });

  it('says which marker is missing and how to add it', () => {
    expect(() => fillSections('no markers\n', { actions: 'x' }, 'README.md', { required: true })).toThrow(
      /README.md has no generated section "actions": add the lines <!-- generated:actions --> and <!-- \/generated:actions -->/,
    );
    expect(fillSections('no markers\n', { inputs: 'x' }, 'actions/a/README.md', { required: false })).toBe(
      'no markers\n',
    );
    expect(() =>
      fillSections('<!-- generated:a -->\nopen\n', { a: 'x' }, 'X.md', { required: true }),
    ).toThrow(DocsError);
  });
});

/** A small repository: two actions (one README with markers, one without), a README, a schema. */
function makeRepository(): string {
  const root = temporaryFolderSync('mlops-docs-');
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('actions/zeta/action.yml', ACTION_YML.replace('Does one thing', 'Zeta does one thing'));
  write('actions/alpha/action.yml', ACTION_YML);
  write(
    'actions/alpha/README.md',
    '# alpha\n\nProse.\n\n## Inputs\n\n<!-- generated:inputs -->\n<!-- /generated:inputs -->\n\nMore prose.\n',
  );
  write('actions/zeta/README.md', '# zeta\n\nHand-written.\n');
  write(
    'README.md',
    '# demo\n\n<!-- generated:actions -->\n<!-- /generated:actions -->\n\n## Config\n\n<!-- generated:config -->\n<!-- /generated:config -->\n',
  );
  write(CONFIG_SCHEMA_PATH, JSON.stringify(SMALL_SCHEMA));
  return root;
}

describe('check and write modes', () => {
  it('finds stale sections, names file, section and fix, and writes them so a check passes', () => {
    const root = makeRepository();
    const stale = checkDocs(root);
    expect(stale.map((message) => message.split(':')[0])).toEqual([
      'README.md',
      'README.md',
      'actions/alpha/README.md',
    ]);
    expect(stale[0]).toContain('the generated section "actions" is stale (run `npm run docs`');
    expect(stale[0]).toContain('+ | [`alpha`](actions/alpha/) |');

    expect(writeDocs(root)).toEqual(['README.md', 'actions/alpha/README.md']);
    expect(checkDocs(root)).toEqual([]);
    expect(writeDocs(root)).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    // Sorted by folder name, and the action without markers in its README is still listed.
    expect(readme.indexOf('[`alpha`]')).toBeLessThan(readme.indexOf('[`zeta`]'));
    expect(readme).toContain('| `columns.<name>.limit.value` |');
    const alpha = readFileSync(join(root, 'actions/alpha/README.md'), 'utf8');
    expect(alpha).toMatch(/^# alpha\n\nProse\.\n\n## Inputs\n\n<!-- generated:inputs -->\n\n\| input \|/);
    expect(alpha).toContain('<!-- /generated:inputs -->\n\nMore prose.\n');
    expect(readFileSync(join(root, 'actions/zeta/README.md'), 'utf8')).toBe('# zeta\n\nHand-written.\n');

    // An input added to action.yml makes both tables stale again; the diff shows the new row.
    const file = join(root, 'actions/alpha/action.yml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('  mode:', '  level:\n    description: "How loud."\n  mode:'),
    );
    const again = checkDocs(root);
    expect(again).toHaveLength(2);
    expect(again[1]).toMatch(/^actions\/alpha\/README.md: the generated section "inputs" is stale/);
    expect(again[1]).toContain('+ | `level` | no |  | How loud. |');
  });

  it('main: exit 1 with the messages in check mode, 0 after --write, 2 for usage', () => {
    const root = makeRepository();
    const out: string[] = [];
    const err: string[] = [];
    const io = { root, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    expect(main(['--check'], io)).toBe(1);
    expect(err.join('\n')).toContain('3 generated section(s) stale; run `npm run docs`');
    expect(main(['--write'], io)).toBe(0);
    expect(main(['--check'], io)).toBe(0);
    expect(main([], io)).toBe(2);
    writeFileSync(join(root, 'README.md'), '# no markers\n');
    expect(main(['--check'], io)).toBe(2);
    expect(err.at(-1)).toContain('README.md has no generated section "actions"');
  });

  it('runs as a script on Node 24', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/docs/generate-docs.js')], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: node scripts/docs/generate-docs.js --write | --check');
  });
});
