/**
 * JSON files the user gives (reports, profiles, golden files, shards): read and parsed, or an
 * {@link InputError} that names the file and what is wrong with it.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';

/** How {@link readJsonFile} names the file and what it adds to its messages. */
export interface ReadJsonOptions {
  /** The file as the messages show it (default: `path`), e.g. the path as the user wrote it. */
  name?: string;
  /** A sentence after "cannot be read (…).", e.g. "Check the path." */
  readHint?: string;
  /** A sentence after "is not JSON: ….", e.g. how to write the file again. */
  parseHint?: string;
}

/**
 * Reads a JSON file. A file that cannot be read or is not JSON is an {@link InputError} located at
 * the file: `<what> <name> cannot be read (ENOENT).` or `<what> <name> is not JSON: <reason>.`,
 * each followed by its hint. What the JSON holds is the caller's to check.
 */
export async function readJsonFile(
  path: string,
  what: string,
  options: ReadJsonOptions = {},
): Promise<unknown> {
  return (await readJsonFileText(path, what, options)).json;
}

/** {@link readJsonFile}, with the text as read (for a digest of what was read). */
export async function readJsonFileText(
  path: string,
  what: string,
  options: ReadJsonOptions = {},
): Promise<{ json: unknown; text: string }> {
  const name = options.name ?? path;
  const hint = (text: string | undefined) => (text ? ` ${text}` : '');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InputError(`${what} ${name} cannot be read (${code}).${hint(options.readHint)}`, {
      file: name,
    });
  }
  try {
    return { json: JSON.parse(text), text };
  } catch (error) {
    throw new InputError(
      `${what} ${name} is not JSON: ${(error as Error).message}.${hint(options.parseHint)}`,
      {
        file: name,
      },
    );
  }
}
