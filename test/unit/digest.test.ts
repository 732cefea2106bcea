// digestFile hashes large files on a worker thread evaluated from inline source: it must give the
// same digest as hashing in place, also when the process runs with --input-type=module (which the
// worker inherits, and where `require` does not exist).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { digestFile } from '../../src/core/digest.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';

async function largeFile(): Promise<{ path: string; sha256: string; bytes: number }> {
  // Above the 16 MiB worker threshold; not all one byte, so an offset mistake shows.
  const content = Buffer.alloc(17 * 1024 * 1024);
  for (let i = 0; i < content.length; i += 4096) content[i] = (i / 4096) % 251;
  const path = join(await temporaryDirectory(), 'large.bin');
  await writeFile(path, content);
  return { path, sha256: createHash('sha256').update(content).digest('hex'), bytes: content.length };
}

describe('digestFile', () => {
  it('hashes a large file on a worker exactly as in place', async () => {
    const file = await largeFile();
    expect(await digestFile(file.path)).toEqual({ sha256: file.sha256, bytes: file.bytes });
  });

  it('works in a process started with --input-type=module', async () => {
    const file = await largeFile();
    const module = pathToFileURL(join(repoRoot, 'src/core/digest.ts')).href;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      `const { digestFile } = await import(${JSON.stringify(module)}); console.log(JSON.stringify(await digestFile(${JSON.stringify(file.path)})));`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ sha256: file.sha256, bytes: file.bytes });
  });
});
