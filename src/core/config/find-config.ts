/**
 * Where `mlops.yaml` is when nobody says: the CLI commands (without `--config`) and the actions (with
 * an empty `config` input) read the one the project keeps, so a command run in the folder where
 * `mlops init` wrote it decides exactly as the workflow does.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { LoadedConfig } from './config.ts';

/** The file name looked for. */
export const CONFIG_FILE_NAME = 'mlops.yaml';

/**
 * The `mlops.yaml` of the project `cwd` is in: `cwd`'s own, else the nearest one in a folder above it up
 * to the git repository's root (the nearest folder with a `.git`), never above that root; outside any git
 * repository only `cwd` itself is looked at (a file in some parent folder of the machine is not the
 * project's). Returns its path relative to `cwd` (`mlops.yaml`, `../mlops.yaml`), or undefined when
 * there is none. A `--config` flag or `config` input is used as given instead, without calling this.
 */
export function findConfig(cwd: string): string | undefined {
  const start = resolve(cwd);
  const folders: string[] = [];
  for (let folder = start; ; folder = dirname(folder)) {
    folders.push(folder);
    if (existsSync(join(folder, '.git'))) break;
    if (dirname(folder) === folder) {
      // No repository above: only the folder the command runs in.
      folders.length = 1;
      break;
    }
  }
  for (const folder of folders) {
    const file = join(folder, CONFIG_FILE_NAME);
    if (existsSync(file)) return relative(start, file);
  }
  return undefined;
}

/** How `--config` and the `config` input default, for their help texts. */
export const CONFIG_DEFAULT_HELP =
  " (default: mlops.yaml in this folder, else the nearest in a folder above it up to the repository's root).";

/**
 * The config a flow uses: `given` (a `--config` flag or `config` input) as given, else the project's
 * `mlops.yaml` found from `cwd` ({@link findConfig}); undefined when there is none. Loaded once per
 * run, by the flow, so every adapter applies the same order (input or flag, then mlops.yaml, then the
 * built-in default). The YAML parser and the schema are imported only when there is a file to read,
 * which keeps `mlops --help` and the commands without a config quick to start.
 */
export async function loadProjectConfig(
  given: string | undefined,
  cwd: string,
): Promise<LoadedConfig | undefined> {
  const found = given === undefined ? findConfig(cwd) : undefined;
  // findConfig answers relative to cwd; relative paths are read from the process's folder.
  const file = given ?? (found === undefined ? undefined : relative(resolve(), resolve(cwd, found)));
  if (file === undefined) return undefined;
  const { loadConfig } = await import('./config.ts');
  return loadConfig(file);
}
