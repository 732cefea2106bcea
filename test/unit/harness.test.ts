// Self-tests of the runner-protocol harness, with a throwaway action script instead of the real bundles.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionRun,
  inputVariable,
  parseCommands,
  parseFileCommands,
  resolveDefault,
  runAction,
} from '../harness/run-action.ts';
import { temporaryFolderSync } from '../helpers/temp.ts';
import { findStaleReason } from '../setup/build-bundles.ts';

/** Absolute file URL of a repository dependency, so a script outside the repository can import it. */
const resolveDependency = (specifier: string) => import.meta.resolve(specifier);

const manifestText = `name: Fake
description: Harness self-test action
inputs:
  report-path:
    description: dashed name, given by the test
    default: default-report.json
  threshold:
    description: numeric default that must keep its text
    default: 0.10
  fail:
    description: boolean default
    default: true
  token:
    description: expression default
    default: \${{ github.token }}
  workspace-dir:
    description: another context look-up
    default: \${{ github.workspace }}
  no-default:
    description: neither given nor defaulted
  data file:
    description: a space in the name
runs:
  using: node24
  main: action.js
`;

const actionScript = (core: string, github: string) => `
import * as core from ${JSON.stringify(core)};
import * as github from ${JSON.stringify(github)};

for (const name of ['report-path', 'threshold', 'fail', 'token', 'workspace-dir', 'no-default', 'data file']) {
  core.setOutput('in:' + name.replace(' ', '_'), core.getInput(name));
}
core.setOutput('multi', 'line one\\nline two\\n\\nline four');
core.setOutput('empty', '');
core.setOutput('leak', process.env.HARNESS_LEAK_CHECK ?? 'absent');
core.setOutput('cwd', process.cwd());
core.setOutput('context', JSON.stringify({
  eventName: github.context.eventName,
  number: github.context.payload.pull_request?.number ?? null,
  repo: github.context.repo,
  sha: github.context.sha,
  runId: github.context.runId,
  serverUrl: github.context.serverUrl,
  os: process.env.RUNNER_OS,
  ci: process.env.CI,
  actions: process.env.GITHUB_ACTIONS,
  extra: process.env.EXTRA_VAR ?? null,
}));
core.exportVariable('MODEL_DIR', 'models/v2');
core.addPath('/opt/fake/bin');
core.saveState('phase', 'main-done');
await core.summary.addHeading('Gate report').addRaw('3 findings').write();
core.error('bad value: 100% wrong\\nsecond line', {
  file: 'data/a,b:c.csv', startLine: 3, endLine: 4, startColumn: 5, endColumn: 9, title: 'Drift: 50%, too high',
});
core.warning('just a warning', { file: 'train.csv', startLine: 12 });
core.notice('plain notice');
core.debug('a debug line');
core.startGroup('details');
core.info('inside the group');
core.endGroup();
core.setSecret('s3cr3t-value');
if (core.getInput('fail') === 'true') core.setFailed('gate failed: 2 errors');
`;

let dir: string;
let manifest: string;
let entry: string;

beforeAll(() => {
  dir = temporaryFolderSync('harness-test-');
  manifest = join(dir, 'action.yml');
  entry = join(dir, 'action.js');
  writeFileSync(manifest, manifestText);
  writeFileSync(
    entry,
    actionScript(resolveDependency('@actions/core'), resolveDependency('@actions/github')),
  );
});

describe('runAction', () => {
  let run: ActionRun;
  beforeAll(async () => {
    process.env.HARNESS_LEAK_CHECK = 'leaked';
    try {
      run = await runAction('fake', {
        manifest,
        entry,
        inputs: { 'report-path': 'out/report.json' },
        githubToken: 'ghs_token123',
        event: { pull_request: { number: 7 } },
        eventName: 'pull_request',
        env: { EXTRA_VAR: 'extra', GITHUB_REPOSITORY: 'acme/models' },
      });
    } finally {
      delete process.env.HARNESS_LEAK_CHECK;
    }
  });

  it('exits 1 after setFailed and reports it as an error annotation', () => {
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.annotations).toContainEqual({ level: 'error', message: 'gate failed: 2 errors' });
  });

  it('passes given inputs under dashed names and applies action.yml defaults', () => {
    expect(run.outputs['in:report-path']).toBe('out/report.json');
    expect(run.outputs['in:threshold']).toBe('0.10');
    expect(run.outputs['in:fail']).toBe('true');
    expect(run.outputs['in:token']).toBe('ghs_token123');
    expect(run.outputs['in:workspace-dir']).toBe(run.workspace);
    expect(run.outputs['in:no-default']).toBe('');
    expect(run.outputs['in:data_file']).toBe('');
  });

  it('parses multi-line and empty outputs', () => {
    expect(run.outputs.multi).toBe('line one\nline two\n\nline four');
    expect(run.outputs.empty).toBe('');
  });

  it('runs in a fresh workspace with a minimal environment and the github context', () => {
    expect(run.outputs.cwd).toBe(run.workspace);
    expect(run.outputs.leak).toBe('absent');
    expect(JSON.parse(run.outputs.context)).toEqual({
      eventName: 'pull_request',
      number: 7,
      repo: { owner: 'acme', repo: 'models' },
      sha: '0123456789abcdef0123456789abcdef01234567',
      runId: 1000000001,
      serverUrl: 'https://github.com',
      os: 'Linux',
      ci: 'true',
      actions: 'true',
      extra: 'extra',
    });
  });

  it('collects exported variables, path entries, state and the summary', () => {
    expect(run.env).toEqual({ MODEL_DIR: 'models/v2' });
    expect(run.path).toEqual(['/opt/fake/bin']);
    expect(run.state).toEqual({ phase: 'main-done' });
    expect(run.summary).toContain('<h1>Gate report</h1>');
    expect(run.summary).toContain('3 findings');
  });

  it('unescapes annotation properties and messages', () => {
    expect(run.annotations).toEqual([
      {
        level: 'error',
        message: 'bad value: 100% wrong\nsecond line',
        file: 'data/a,b:c.csv',
        line: 3,
        endLine: 4,
        col: 5,
        endColumn: 9,
        title: 'Drift: 50%, too high',
      },
      { level: 'warning', message: 'just a warning', file: 'train.csv', line: 12 },
      { level: 'notice', message: 'plain notice' },
      { level: 'error', message: 'gate failed: 2 errors' },
    ]);
    // The escaped form really was on stdout: this is the protocol, not a pass-through.
    expect(run.stdout).toContain('file=data/a%2Cb%3Ac.csv');
  });

  it('collects masks and leaves other commands in stdout', () => {
    expect(run.masks).toEqual(['s3cr3t-value']);
    expect(run.stdout).toContain('::debug::a debug line');
    expect(run.stdout).toContain('::group::details');
    expect(run.durationMs).toBeGreaterThan(0);
  });
});

describe('runAction edge cases', () => {
  it('exits 0 when the action does not fail, running runs.main from the manifest', async () => {
    const run = await runAction('fake', { manifest, inputs: { fail: 'false' } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.outputs['in:fail']).toBe('false');
    expect(run.outputs['in:token']).toBe('');
    expect(run.annotations.filter((a) => a.level === 'error')).toHaveLength(1);
  });

  it('rejects an input action.yml does not declare', async () => {
    await expect(runAction('fake', { manifest, entry, inputs: { report_path: 'x' } })).rejects.toThrow(
      /unexpected input\(s\) 'report_path'/,
    );
  });

  it('uses the given cwd as the workspace', async () => {
    const cwd = mkdtempSync(join(dir, 'ws-'));
    const run = await runAction('fake', { manifest, entry, cwd, inputs: { fail: 'false' } });
    expect(run.workspace).toBe(cwd);
    expect(run.outputs.cwd).toBe(cwd);
  });

  it('kills a hung action after timeoutMs', async () => {
    const hang = join(dir, 'hang.js');
    writeFileSync(hang, 'setInterval(() => {}, 1000);\n');
    await expect(
      runAction('hang', { manifest: join(dir, 'missing.yml'), entry: hang, timeoutMs: 300 }),
    ).rejects.toThrow(/killed after 300 ms/);
  });

  it('reports a missing bundle clearly', async () => {
    await expect(runAction('no-such-action')).rejects.toThrow(
      /dist\/no-such-action\/index\.js does not exist/,
    );
  });
});

describe('parseCommands', () => {
  it('decodes escapes once, so an escaped escape stays literal', () => {
    const { annotations } = parseCommands('::warning title=a%253Ab::50%250A done%0Anext\n');
    expect(annotations).toEqual([{ level: 'warning', title: 'a%3Ab', message: '50%0A done\nnext' }]);
  });

  it('ignores commands between stop-commands and its token, and non-command lines', () => {
    const stdout = [
      'plain ::error:: in the middle',
      '::stop-commands::tok123',
      '::error::not a command now',
      '::add-mask::not-a-mask',
      '::tok123::',
      '  ::error file=x.csv,line=2::after resume',
      '::add-mask::masked',
    ].join('\r\n');
    expect(parseCommands(stdout)).toEqual({
      annotations: [{ level: 'error', file: 'x.csv', line: 2, message: 'after resume' }],
      masks: ['masked'],
    });
  });

  it('keeps "::" inside the message', () => {
    expect(parseCommands('::notice::a::b').annotations).toEqual([{ level: 'notice', message: 'a::b' }]);
  });
});

describe('parseFileCommands', () => {
  it('reads heredoc and name=value forms, later values winning', () => {
    const text = 'a<<ghadelimiter_1\nx\n\ny=z\nghadelimiter_1\nb=1=2\n\nc<<EOF\nEOF\na=last\n';
    expect(parseFileCommands(text)).toEqual({ a: 'last', b: '1=2', c: '' });
    expect(parseFileCommands('k<<D\nx=1\ny<<E\nD\n')).toEqual({ k: 'x=1\ny<<E' });
  });

  it('throws on an unterminated heredoc or a line without = or <<', () => {
    expect(() => parseFileCommands('a<<EOF\nvalue\n')).toThrow(/no closing delimiter/);
    expect(() => parseFileCommands('just text\n')).toThrow(/invalid line 1/);
  });
});

describe('input helpers', () => {
  it('names input variables like the runner: spaces to _, upper case, dashes kept', () => {
    expect(inputVariable('report-path')).toBe('INPUT_REPORT-PATH');
    expect(inputVariable('data file')).toBe('INPUT_DATA_FILE');
  });

  it('resolves context look-ups in defaults and blanks anything else', () => {
    const context = { GITHUB_TOKEN: 't', RUNNER_TEMP: '/tmp/r' };
    // Built with a template literal: a plain '${{' string literal trips the lint for a forgotten backtick.
    const expression = (inner: string) => `\${{${inner}}}`;
    expect(resolveDefault(expression(' github.token '), context)).toBe('t');
    expect(resolveDefault(`${expression('runner.temp')}/x`, context)).toBe('/tmp/r/x');
    expect(resolveDefault(expression(" format('{0}', 1) "), context)).toBe('');
    expect(resolveDefault('plain', context)).toBe('plain');
  });
});

describe('findStaleReason (globalSetup)', () => {
  it('asks for a build when a bundle is missing or older than a source, and not otherwise', () => {
    const root = temporaryFolderSync('stale-');
    const touch = (file: string, seconds: number) => {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '');
      utimesSync(join(root, file), seconds, seconds);
    };
    mkdirSync(join(root, 'actions/gate'), { recursive: true });
    touch('src/core/a.ts', 1000);
    touch('scripts/build.js', 1000);
    touch('dist/cli/index.js', 2000);
    expect(findStaleReason(root)).toBe('dist/gate/index.js is missing');
    touch('dist/gate/index.js', 2000);
    expect(findStaleReason(root)).toBeUndefined();
    touch('src/core/deep/b.ts', 3000);
    expect(findStaleReason(root)).toBe('src/core/deep/b.ts is newer than dist/');
  });
});
