/**
 * File writes that never leave a half-written file behind, and the check every command runs on an
 * output path the user named before it does any work: an output never replaces an input.
 */
import { accessSync, constants, realpathSync, type Stats, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigurationError } from './errors.ts';

/** Writes `content` to a temporary file next to `path`, then renames it into place. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes a value as pretty JSON, atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** An input of a command as the user named it: `label` is its flag or input, e.g. `--data`. */
export interface NamedPath {
  label: string;
  path: string;
}

/** Options of {@link checkOutputPath}. */
export interface OutputPathOptions {
  /** Resolve relative paths against this folder (default: the working directory). */
  cwd?: string;
  /**
   * The output is a folder the command writes into (`mlops package --out`): it may exist as a
   * folder, and `replaces` says which of its entries (by name) the command replaces, so that an
   * input inside one of them is refused too.
   */
  folder?: { replaces: (entry: string) => boolean };
}

/**
 * Refuses, with a `ConfigurationError` naming `label`, an output path the user named that would
 * destroy an input or cannot be written: one that is (after symbolic links) one of `inputs`, an
 * existing folder (a file output) or file (a folder output), or whose nearest existing parent is
 * not a writable folder. Call it before any work, so that nothing is computed only to be lost.
 * Inputs that are `undefined` are skipped.
 */
export function checkOutputPath(
  output: string,
  inputs: readonly (NamedPath | undefined)[],
  label: string,
  options: OutputPathOptions = {},
): void {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, output);
  const stats = statOrUndefined(absolute);
  if (options.folder) {
    if (stats && !stats.isDirectory()) {
      throw new ConfigurationError(
        `${label} ${output} is a file, not a folder: give a folder to write into (it is created when missing).`,
        { key: label },
      );
    }
  } else if (stats?.isDirectory()) {
    throw new ConfigurationError(
      `${label} ${output} is a folder: name the file to write (a path inside that folder, or elsewhere).`,
      { key: label },
    );
  }
  checkWritableParent(output, stats?.isDirectory() ? absolute : dirname(absolute), label);

  const target = resolveRealPath(absolute);
  for (const input of inputs) {
    if (!input) continue;
    const source = resolve(cwd, input.path);
    const sourceStats = statOrUndefined(source);
    const same =
      stats && sourceStats && !options.folder
        ? stats.dev === sourceStats.dev && stats.ino === sourceStats.ino
        : resolveRealPath(source) === target;
    if (same) {
      throw new ConfigurationError(
        options.folder
          ? `${label} ${output} is also ${input.label} ${input.path}: give the output a folder of its own.`
          : `${label} ${output} is ${input.label} ${input.path}: writing it would replace that input. Write the output to another path.`,
        { key: label },
      );
    }
    if (options.folder) {
      const inside = relative(target, resolveRealPath(source));
      const entry = inside.split(sep)[0];
      if (
        inside !== '' &&
        !inside.startsWith('..') &&
        entry !== undefined &&
        options.folder.replaces(entry)
      ) {
        throw new ConfigurationError(
          `${label} ${output}: ${input.label} ${input.path} is inside ${join(output, entry)}, which is replaced when the output is written. Write the output to another folder, or move the input out of it.`,
          { key: label },
        );
      }
    }
  }
}

/** The nearest existing ancestor of `folder` must be a folder this process can write to. */
function checkWritableParent(output: string, folder: string, label: string): void {
  let existing = folder;
  let stats = statOrUndefined(existing);
  while (!stats && dirname(existing) !== existing) {
    existing = dirname(existing);
    stats = statOrUndefined(existing);
  }
  if (stats && !stats.isDirectory()) {
    throw new ConfigurationError(
      `${label} ${output} cannot be written: ${existing} is a file, not a folder.`,
      { key: label },
    );
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigurationError(
      `${label} ${output} cannot be written: the folder ${existing} is not writable (${code}). Write the output to a folder this job can write to.`,
      { key: label },
    );
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    // Missing, or a path through a file (ENOTDIR): the callers treat both as "not there".
    return undefined;
  }
}

/**
 * The real path (symbolic links resolved) of an absolute `path`; for a path that does not exist
 * yet, the real path of its nearest existing ancestor joined with the rest.
 */
export function resolveRealPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(resolveRealPath(parent), basename(path));
  }
}
