/**
 * Runs the built `mlops` CLI (dist/cli/index.js, built by test/setup/build-bundles.ts) as a user
 * would, in a child process: one runner for every test that needs the real command, so exit codes,
 * output buffers and the environment are handled one way.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/run-action.ts';

/** The CLI bundle the tests run. */
export const CLI = join(repoRoot, 'dist/cli/index.js');

/** What a run of a command left: its exit code (-1 when killed) and its output. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The working folder (default: the repository root). */
  cwd?: string;
  /** The whole environment of the child (default: the test process's). */
  env?: NodeJS.ProcessEnv;
  /** Killed after this many ms (default 120 s). */
  timeoutMs?: number;
  /** Another Node to run it with (default: the one running the tests, Node 24). */
  node?: string;
  /** Written to the child's stdin, which is then closed (e.g. `--password-stdin`). */
  input?: string;
}

/** Runs `node <file> <args>`; resolves with the exit code and output whatever the code. */
export function runNode(file: string, args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      options.node ?? process.execPath,
      [file, ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: options.env ?? process.env,
        maxBuffer: 64 << 20,
        timeout: options.timeoutMs ?? 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs `mlops <args>` with the built CLI. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return runNode(CLI, args, options);
}
