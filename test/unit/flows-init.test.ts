/**
 * runInit (src/core/flows/init.ts), in process, on real project folders with the repository's own
 * templates: a dry run writes nothing and says what each file would become, a run writes them, a file
 * that exists with other content blocks the write (nothing written) until force, the folder is
 * relative to the request's cwd, and the stack the request names wins over the detected one.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors.ts';
import { type InitRequest, runInit } from '../../src/core/flows/init.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

const templatesDir = join(repoRoot, 'templates/workflows');

/** A Python project (pyproject.toml names it churn-model) in a fresh folder. */
async function project(): Promise<string> {
  const dir = await temporaryDirectory('flows-init-');
  await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "churn-model"\n');
  return dir;
}

const request = (cwd: string, overrides: Partial<InitRequest> = {}): InitRequest => ({
  cwd,
  templatesDir,
  force: false,
  dryRun: false,
  ...overrides,
});

const changes = (result: Awaited<ReturnType<typeof runInit>>) =>
  Object.fromEntries(result.files.map(({ file, change }) => [file.relativePath, change]));

describe('runInit', () => {
  it('writes nothing on a dry run, and says every file would be new', async () => {
    const dir = await project();
    const result = await runInit(request(dir, { dryRun: true }));
    expect(result.dryRun).toBe(true);
    expect(result.plan.modelName).toBe('churn-model');
    expect(result.plan.stack.kind).toBe('python');
    expect(Object.values(changes(result))).toEqual(result.files.map(() => 'new'));
    expect(Object.keys(changes(result))).toEqual(
      expect.arrayContaining(['.github/workflows/mlops-ci.yml', 'mlops.yaml']),
    );
    expect(result.files.some(({ file }) => existsSync(file.path))).toBe(false);
    expect([result.blocked, result.needsForce]).toEqual([[], false]);
  });

  it('sets up the folder it runs in when no dir is given, as with dir "."', async () => {
    const dir = await project();
    const implicit = await runInit(request(dir, { dryRun: true }));
    const explicit = await runInit(request(dir, { dryRun: true, dir: '.' }));
    expect(implicit).toEqual(explicit);
    expect(implicit.files.every(({ file }) => file.path.startsWith(`${dir}/`))).toBe(true);
  });

  it('writes the files, and a second run finds them unchanged', async () => {
    const dir = await project();
    const written = await runInit(request(dir));
    expect(written.dryRun).toBe(false);
    for (const { file } of written.files) expect(await readFile(file.path, 'utf8')).toBe(file.content);
    const again = await runInit(request(dir, { dryRun: true }));
    expect(new Set(Object.values(changes(again)))).toEqual(new Set(['unchanged']));
  });

  it('is blocked by a file with other content until force, and writes nothing without it', async () => {
    const dir = await project();
    await runInit(request(dir));
    const config = join(dir, 'mlops.yaml');
    await writeFile(config, '# mine\n');
    const dry = await runInit(request(dir, { dryRun: true }));
    expect(changes(dry)['mlops.yaml']).toBe('changed');
    expect(dry.blocked.map((file) => file.relativePath)).toEqual(['mlops.yaml']);
    expect(dry.needsForce).toBe(true);
    expect((await runInit(request(dir, { dryRun: true, force: true }))).needsForce).toBe(false);

    await expect(runInit(request(dir))).rejects.toThrow(ConfigurationError);
    expect(await readFile(config, 'utf8')).toBe('# mine\n');
    const forced = await runInit(request(dir, { force: true }));
    expect(changes(forced)['mlops.yaml']).toBe('changed');
    expect(await readFile(config, 'utf8')).not.toBe('# mine\n');
  });

  it('sets up the folder the request names, relative to its cwd (default: cwd itself)', async () => {
    const cwd = await temporaryDirectory('flows-init-');
    await mkdir(join(cwd, 'repo'));
    await writeFile(join(cwd, 'repo/package.json'), '{"name": "fraud"}\n');
    const result = await runInit(request(cwd, { dir: 'repo', dryRun: true }));
    expect(result.plan.dir).toBe(join(cwd, 'repo'));
    expect([result.plan.modelName, result.plan.stack.kind]).toEqual(['fraud', 'node']);
    expect((await runInit(request(join(cwd, 'repo'), { dryRun: true }))).plan.dir).toBe(join(cwd, 'repo'));
  });

  it('takes the stack and the name the request gives over the detected ones, and refuses an unknown stack', async () => {
    const dir = await project();
    const result = await runInit(request(dir, { dryRun: true, stack: 'other', name: 'scorer' }));
    expect([result.plan.stack.kind, result.plan.modelName, result.plan.modelNameFrom]).toEqual([
      'other',
      'scorer',
      '--name',
    ]);
    await expect(runInit(request(dir, { stack: 'ruby' }))).rejects.toThrow(
      /--stack ruby: use one of python, node, other/,
    );
    expect(existsSync(join(dir, 'mlops.yaml'))).toBe(false);
  });
});
