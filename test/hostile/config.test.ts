/**
 * Hostile configuration and flags (issue #12): a YAML alias bomb ("billion laughs") in mlops.yaml,
 * `init --dir` on a file, and config paths that leave the repository (`../../etc/passwd`, an
 * absolute path, a symbolic link leading out). Each is exit 2 from the CLI and one `::error` from
 * the bundled action, naming the file and the key, quickly, with nothing read or written.
 *
 * The repository is the git repository holding mlops.yaml, or mlops.yaml's own folder outside any
 * git repository (see findConfigRoot in src/core/config/config.ts); both are exercised.
 * A new hostile config goes into `LEAVING` (a path key) or its own `it`.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfigRoot, loadConfig, MAX_ALIAS_COUNT } from '../../src/core/config/config.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd, timeoutMs: 30_000 });

/**
 * Nine levels of nine aliases each: 9^9 (387 million) strings once expanded, from 10 lines. The
 * yaml package would need minutes and gigabytes to build it.
 */
function aliasBomb(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  let previous = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    previous = name;
  }
  return `${lines.join('\n')}\ndata:\n  data: *i\n`;
}

describe('a YAML alias bomb in mlops.yaml', () => {
  it('is a configuration error naming the file, from the CLI (exit 2) and the action (one ::error), quickly', async () => {
    const dir = await temporaryDirectory('mlops-hostile-config-');
    await writeFile(join(dir, 'mlops.yaml'), aliasBomb());
    const started = performance.now();
    const run = await mlops(dir, 'validate-data', '--config', 'mlops.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `mlops.yaml expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times`,
    );
    expect(run.stderr).not.toMatch(/internal error/i);

    const action = await runAction('validate-data', { cwd: dir, inputs: { config: 'mlops.yaml' } });
    expect(action.exitCode).toBe(1);
    const errors = action.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'mlops.yaml', title: 'Configuration error' });
    expect(errors[0].message).toContain('billion laughs');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('leaves a config with a few aliases alone', async () => {
    const dir = await temporaryDirectory('mlops-hostile-config-');
    await writeFile(
      join(dir, 'mlops.yaml'),
      'model:\n  gates: &gates ["roc_auc >= 0.9"]\n  thresholds: []\ndata:\n  drift:\n    ignore: &ignore [id]\n',
    );
    await expect(loadConfig(join(dir, 'mlops.yaml'))).resolves.toMatchObject({
      config: { model: { gates: ['roc_auc >= 0.9'] } },
    });
  });
});

describe('init --dir on a file', () => {
  it('exits 2 naming --dir, writing nothing', async () => {
    const dir = await temporaryDirectory('mlops-hostile-config-');
    await writeFile(join(dir, 'file.txt'), 'a file');
    const run = await mlops(dir, 'init', '--dir', 'file.txt');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--dir file\.txt is a file, not a folder/);
    expect(run.stderr).not.toMatch(/internal error/i);
  });
});

/** Keys of mlops.yaml that hold paths, each pointed out of the repository. */
const LEAVING: [key: string, yaml: string, line: number][] = [
  ['data.data', 'data:\n  data: ../../etc/passwd\n', 2],
  ['data.reference', 'data:\n  data: data/test.csv\n  reference: /etc/passwd\n', 3],
  ['data.train', 'data:\n  data: data/test.csv\n  train: ../outside/train.csv\n', 3],
  ['data.contract', 'data:\n  data: data/test.csv\n  contract: data/../../contract.json\n', 3],
  ['model.model', 'model:\n  model: ../model.onnx\n', 2],
  ['model.baseline', 'model:\n  baseline: ../../prod.onnx\n', 2],
  ['model.data', 'model:\n  data: /tmp/holdout.csv\n', 2],
  ['model.golden.path', 'model:\n  golden:\n    path: ../golden.json\n', 3],
  // A symbolic link in the repository that leads out of it.
  ['data.data', 'data:\n  data: escape/passwd\n', 2],
];

describe('config paths that leave the repository', () => {
  /** A folder outside git with the example data and a symbolic link `escape` to /etc. */
  async function repository(yaml: string): Promise<string> {
    const dir = await temporaryDirectory('mlops-hostile-config-');
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data/test.csv'), 'x,target\n1,0\n');
    await symlink('/etc', join(dir, 'escape'));
    await writeFile(join(dir, 'mlops.yaml'), yaml);
    return dir;
  }

  it.each(LEAVING)('%s is refused naming the key and its line', async (key, yaml, line) => {
    const dir = await repository(yaml);
    const error = await loadConfig(join(dir, 'mlops.yaml')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    const { message, location } = error as ConfigurationError;
    expect(message).toContain(`"${key}" is `);
    expect(message).toContain(`outside the repository ${dir}`);
    expect(location).toMatchObject({ file: join(dir, 'mlops.yaml'), key });
    expect(location.line).toBe(line);
  });

  it('through the CLI and the action: exit 2 and one ::error on the line, and /etc/passwd is never read', async () => {
    const dir = await repository('data:\n  data: ../../../../../../../../etc/passwd\n');
    const run = await mlops(dir, 'validate-data', '--config', 'mlops.yaml', '--report', 'report.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /mlops\.yaml:2 \(data\.data\): "data\.data" is \.\.\/.*passwd, which is outside the repository/,
    );
    expect(run.stderr).not.toContain('root:');
    const action = await runAction('validate-data', { cwd: dir, inputs: { config: 'mlops.yaml' } });
    expect(action.exitCode).toBe(1);
    const errors = action.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'mlops.yaml', line: 2 });
    expect(action.stdout).not.toContain('root:');
  });

  it('allows paths inside the repository, a deployed baseline, and ../ within the git repository', async () => {
    const dir = await repository(
      'data:\n  data: data/test.csv\n  contract: ./data/../contract.json\nmodel:\n  baseline: environment:staging\n',
    );
    await expect(loadConfig(join(dir, 'mlops.yaml'))).resolves.toBeDefined();
    expect(findConfigRoot(join(dir, 'mlops.yaml'))).toBe(dir);

    // In a git repository, mlops.yaml in a subfolder may reach the rest of the repository.
    const git = await temporaryDirectory('mlops-hostile-config-');
    await mkdir(join(git, '.git'));
    await mkdir(join(git, 'ml'));
    await writeFile(
      join(git, 'ml/mlops.yaml'),
      `data:\n  data: ../data/test.csv\n  reference: ${join(git, 'ref.csv')}\n`,
    );
    expect(findConfigRoot(join(git, 'ml/mlops.yaml'))).toBe(git);
    const loaded = await loadConfig(join(git, 'ml/mlops.yaml'));
    expect(loaded.resolvePath('../data/test.csv')).toBe(join(git, 'data/test.csv'));
    // …but not beyond it.
    await writeFile(join(git, 'ml/mlops.yaml'), 'data:\n  data: ../../data/test.csv\n');
    await expect(loadConfig(join(git, 'ml/mlops.yaml'))).rejects.toThrow(/outside the repository/);
    // The example project's own config, in this repository, is fine.
    await expect(loadConfig(join(repoRoot, 'templates/example-project/mlops.yaml'))).resolves.toBeDefined();
    expect(example.test).toContain(repoRoot);
  });
});
