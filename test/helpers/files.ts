/** Temporary files and error expectations shared by the reader tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { InputError } from '../../src/core/errors.ts';

/**
 * A `writeTemp(name, content)` that writes each file into a fresh temporary folder (named after
 * `prefix`) and removes the folders after the test file's last test.
 */
export function createTempWriter(
  prefix: string,
): (name: string, content: string | Uint8Array | ArrayBuffer) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return (name, content) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    const path = join(dir, name);
    writeFileSync(path, content instanceof ArrayBuffer ? new Uint8Array(content) : content);
    return path;
  };
}

/** Runs `action` and returns the `InputError` it throws (fails the test on anything else). */
export async function inputError(action: () => Promise<unknown>): Promise<InputError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}
