/**
 * findConfig: the mlops.yaml a command or an action uses when none is given: the current folder's,
 * else the nearest above it up to the git repository's root, never above it; outside git only the
 * current folder's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfig } from '../../src/core/config/find-config.ts';
import { temporaryDirectory } from '../helpers/example.ts';

async function tree(files: string[]): Promise<string> {
  const root = await temporaryDirectory('mlops-find-config-');
  for (const file of files) {
    await mkdir(join(root, file, '..'), { recursive: true });
    if (file.endsWith('/')) await mkdir(join(root, file), { recursive: true });
    else await writeFile(join(root, file), 'version: 1\n');
  }
  return root;
}

describe('findConfig', () => {
  it("takes the current folder's mlops.yaml, as a path relative to it", async () => {
    const root = await tree(['repo/.git/', 'repo/mlops.yaml', 'repo/sub/mlops.yaml']);
    expect(findConfig(join(root, 'repo'))).toBe('mlops.yaml');
    expect(findConfig(join(root, 'repo/sub'))).toBe('mlops.yaml');
  });

  it('walks up to the repository root, the nearest file first', async () => {
    const root = await tree([
      'repo/.git/',
      'repo/mlops.yaml',
      'repo/a/b/c/',
      'repo/x/mlops.yaml',
      'repo/x/y/',
    ]);
    expect(findConfig(join(root, 'repo/a/b/c'))).toBe(join('..', '..', '..', 'mlops.yaml'));
    expect(findConfig(join(root, 'repo/x/y'))).toBe(join('..', 'mlops.yaml'));
  });

  it('never looks above the repository root (.git as a folder or, in worktrees, a file)', async () => {
    const root = await tree(['mlops.yaml', 'repo/.git/', 'repo/src/', 'worktree/.git', 'worktree/src/']);
    expect(findConfig(join(root, 'repo/src'))).toBeUndefined();
    expect(findConfig(join(root, 'repo'))).toBeUndefined();
    expect(findConfig(join(root, 'worktree/src'))).toBeUndefined();
  });

  it('outside a git repository, looks only in the current folder', async () => {
    const root = await tree(['mlops.yaml', 'plain/']);
    expect(findConfig(root)).toBe('mlops.yaml');
    expect(findConfig(join(root, 'plain'))).toBeUndefined();
  });
});
