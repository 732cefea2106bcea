// Every action.yml and workflow in the repository must pass GitHub's own parser, so a broken file fails
// here rather than on the first push.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../harness/run-action.ts';
import {
  checkActionUses,
  findWorkflowFiles,
  validateAction,
  validateWorkflow,
} from '../harness/workflow-validation.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';

const found = findWorkflowFiles(repoRoot);
const rel = (file: string) => relative(repoRoot, file);

describe('repository files', () => {
  it('finds action files or workflows to validate', () => {
    // Guards against the checks below passing vacuously because the search found nothing.
    expect(found.actions.length + found.workflows.length).toBeGreaterThan(0);
  });

  it.each(found.actions.map(rel))('action %s is valid', (file) => {
    const errors = validateAction(file, readFileSync(join(repoRoot, file), 'utf8'), basename(dirname(file)));
    expect(errors, `${file}:\n${errors.join('\n')}`).toEqual([]);
  });

  it.each(found.workflows.map(rel))('workflow %s is valid', async (file) => {
    const errors = await validateWorkflow(file, readFileSync(join(repoRoot, file), 'utf8'), repoRoot);
    expect(errors, `${file}:\n${errors.join('\n')}`).toEqual([]);
  });
});

const validWorkflow = `name: ok
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.sha }}"
`;

const validAction = `name: Fake
description: A fake action
branding:
  icon: check
  color: green
inputs:
  data:
    description: Data file
    required: true
  report-path:
    description: Where the report goes
    default: report.json
outputs:
  passed:
    description: Whether it passed
runs:
  using: node24
  main: ../../dist/fake/index.js
`;

describe('validateWorkflow', () => {
  it('accepts a valid workflow', async () => {
    expect(await validateWorkflow('ok.yml', validWorkflow)).toEqual([]);
  });

  it.each([
    [
      'runs-on missing',
      validWorkflow.replace('    runs-on: ubuntu-latest\n', ''),
      /Required property is missing: runs-on/,
    ],
    [
      'unknown top-level key',
      validWorkflow.replace('jobs:', 'triggers: []\njobs:'),
      /Unexpected value 'triggers'/,
    ],
    [
      'unknown job key',
      validWorkflow.replace('    steps:', '    step-timeout: 5\n    steps:'),
      /Unexpected value 'step-timeout'/,
    ],
    ['bad expression syntax', validWorkflow.replace('github.sha', 'github.'), /Unexpected symbol/],
    [
      'unknown context',
      validWorkflow.replace('github.sha', 'gitbub.sha'),
      /Unrecognized named-value: 'gitbub'/,
    ],
    ['unknown event', validWorkflow.replace('  push:', '  pushh:'), /Unexpected value 'pushh'/],
    [
      'invalid cron',
      validWorkflow.replace('  push:\n    branches: [main]', "  schedule:\n    - cron: '61 * * * *'"),
      /Invalid cron/,
    ],
    [
      'no on:',
      validWorkflow.replace(/on:\n {2}push:\n {4}branches: \[main\]\n/, ''),
      /Required property is missing: on/,
    ],
    ['not YAML', 'on: [push\njobs: {', /x\.yml/],
  ])('reports %s', async (_label, content, message) => {
    const errors = await validateWorkflow('x.yml', content);
    expect(errors.length, 'expected at least one error').toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
    // Messages name the file and, for schema errors, the position.
    expect(errors.every((e) => e.startsWith('x.yml'))).toBe(true);
  });
});

describe('validateAction', () => {
  it('accepts a valid action', () => {
    expect(validateAction('actions/fake/action.yml', validAction, 'fake')).toEqual([]);
  });

  it.each([
    ['an unknown runtime (schema)', validAction.replace('node24', 'node99'), /Unexpected value 'node99'/],
    ['a bad branding colour (schema)', validAction.replace('green', 'pink'), /Unexpected value 'pink'/],
    [
      'a missing description (schema)',
      validAction.replace('description: A fake action\n', ''),
      /Required property is missing: description/,
    ],
    ['an older runtime', validAction.replace('node24', 'node20'), /runs.using must be node24/],
    [
      'a wrong main',
      validAction.replace('dist/fake', 'dist/other'),
      /runs.main must be \.\.\/\.\.\/dist\/fake\/index\.js/,
    ],
    [
      'a misspelt input key',
      validAction.replace('    default: report.json', '    defualt: report.json'),
      /unknown key 'defualt'/,
    ],
    [
      'an input without description',
      validAction.replace('    description: Data file\n', ''),
      /input 'data' has no description/,
    ],
    [
      'an output with value',
      validAction.replace('    description: Whether it passed', '    description: x\n    value: y'),
      /output 'passed' has unknown key 'value'/,
    ],
    ['no branding', validAction.replace(/branding:\n.*\n.*\n/, ''), /branding needs an icon/],
  ])('reports %s', (_label, content, message) => {
    const errors = validateAction('actions/fake/action.yml', content, 'fake');
    expect(errors.join('\n')).toMatch(message);
  });
});

describe('checkActionUses', () => {
  const root = temporaryFolderSync('workflow-files-');
  mkdirSync(join(root, 'actions/fake'), { recursive: true });
  writeFileSync(join(root, 'actions/fake/action.yml'), validAction);

  const workflowUsing = (uses: string, withBlock: string) =>
    `on: push\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n${withBlock}`;

  it('accepts known inputs of a local or published action', async () => {
    const local = workflowUsing(
      './actions/fake',
      '        with:\n          data: a.csv\n          report-path: r.json\n',
    );
    expect(await validateWorkflow('w.yml', local, root)).toEqual([]);
    const published = workflowUsing(
      'octo-org/mlops-actions/actions/fake@v1',
      '        with:\n          data: a.csv\n',
    );
    expect(checkActionUses('w.yml', published, root)).toEqual([]);
  });

  it('reports unknown and missing required inputs, and missing actions', async () => {
    const typo = workflowUsing(
      './actions/fake',
      '        with:\n          data: a.csv\n          report_path: r.json\n',
    );
    expect((await validateWorkflow('w.yml', typo, root)).join('\n')).toMatch(/unknown input 'report_path'/);
    const missing = workflowUsing(
      'octo-org/mlops-actions/actions/fake@v1',
      '        with:\n          report-path: r.json\n',
    );
    expect(checkActionUses('w.yml', missing, root).join('\n')).toMatch(/required input 'data' is not given/);
    const absent = workflowUsing('./actions/nope', '');
    expect(checkActionUses('w.yml', absent, root).join('\n')).toMatch(
      /no action.yml at actions\/nope\/action.yml/,
    );
  });

  it('checks the published form mlops-actions/mlops-actions/actions/<name>@<ref> against actions/<name>/action.yml', () => {
    // Against this repository's real action.yml files, as the templates use them.
    const published = (ref: string, withBlock: string, after = '') =>
      `on: push\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - id: data\n        uses: mlops-actions/mlops-actions/actions/validate-data@${ref}\n${withBlock}${after}`;
    const ok = published(
      'v1',
      '        with:\n          data: a.csv\n          report-path: r.json\n',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS placeholder
      '      - run: test -s "${{ steps.data.outputs.report-path }}"\n',
    );
    expect(checkActionUses('w.yml', ok, repoRoot)).toEqual([]);
    // A full commit SHA as the ref is the same action.
    expect(
      checkActionUses('w.yml', ok.replace('@v1', '@0123456789abcdef0123456789abcdef01234567'), repoRoot),
    ).toEqual([]);

    const typo = published('v1', '        with:\n          data: a.csv\n          reportpath: r.json\n');
    expect(checkActionUses('w.yml', typo, repoRoot)).toEqual([
      `w.yml: jobs.gate.steps[0] (mlops-actions/mlops-actions/actions/validate-data@v1): unknown input 'reportpath'. Did you mean "report-path"? Inputs: ${Object.keys(
        (
          parseYaml(readFileSync(join(repoRoot, 'actions/validate-data/action.yml'), 'utf8')) as {
            inputs: object;
          }
        ).inputs,
      ).join(', ')}.`,
    ]);

    const misspeltAction = ok.replace('validate-data@v1', 'validate-dta@v1');
    expect(checkActionUses('w.yml', misspeltAction, repoRoot).join('\n')).toMatch(
      /no action.yml at actions\/validate-dta\/action.yml\. Did you mean "validate-data"\?/,
    );
  });

  it('reports step outputs that the action does not set', () => {
    const workflow = `on: push
jobs:
  gate:
    runs-on: ubuntu-latest
    outputs:
      verdict: \${{ steps.data.outputs.pased }}
    steps:
      - id: data
        uses: mlops-actions/mlops-actions/actions/validate-data@v1
        with:
          data: a.csv
      - if: steps.data.outputs.passed == 'false'
        run: cat "\${{ steps.data.outputs.report_path }}"
      - id: other
        uses: actions/checkout@v4
      - run: echo "\${{ steps.other.outputs.anything }}"
`;
    const errors = checkActionUses('w.yml', workflow, repoRoot);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /steps\.data\.outputs\.pased is not an output of .*validate-data@v1\. Did you mean "passed"\?/,
    );
    expect(errors[1]).toMatch(
      /steps\.data\.outputs\.report_path is not an output .* Did you mean "report-path"\?/,
    );
  });

  it('leaves other actions alone', () => {
    expect(
      checkActionUses(
        'w.yml',
        workflowUsing('actions/checkout@v4', '        with:\n          anything: 1\n'),
        root,
      ),
    ).toEqual([]);
    // Another repository's actions/ folder is not ours, even with an action of the same name.
    expect(
      checkActionUses(
        'w.yml',
        workflowUsing('octo-org/other-actions/actions/fake@v1', '        with:\n          anything: 1\n'),
        root,
      ),
    ).toEqual([]);
  });
});
