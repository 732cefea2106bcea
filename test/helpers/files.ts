/** Temporary files and error expectations shared by the reader tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { temporaryFolderSync } from './temp.ts';

/**
 * A `writeTemp(name, content)` that writes each file into a fresh temporary folder (named after
 * `prefix`), removed after the test file's last test (./temp.ts).
 */
export function createTempWriter(
  prefix: string,
): (name: string, content: string | Uint8Array | ArrayBuffer) => string {
  return (name, content) => {
    const path = join(temporaryFolderSync(prefix), name);
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
