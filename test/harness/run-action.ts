/**
 * Runs a bundled action (dist/<name>/index.js) the way the GitHub Actions runner does, for end-to-end
 * tests: inputs become INPUT_* variables with action.yml defaults applied, the file-command files exist
 * before the action starts, the github context variables are set, and afterwards the outputs, exported
 * variables, path entries, state, job summary and workflow commands (annotations, masks) are parsed
 * back out.
 *
 * Not reproduced: `pre`/`post` scripts, `if:` conditions, secret masking of the logs, and expression
 * evaluation beyond plain context look-ups in input defaults (see {@link resolveDefault}).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { temporaryFolderSync } from '../helpers/temp.ts';

/** Repository root (this file is test/harness/run-action.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** One `::error`, `::warning` or `::notice` workflow command, unescaped. */
export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  file?: string;
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
  title?: string;
}

/** Everything a finished action left behind, as the runner would see it. */
export interface ActionRun {
  /** Process exit code; `core.setFailed` makes it 1. A signal death counts as 1. */
  exitCode: number;
  /** From GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** From GITHUB_ENV (variables exported for later steps). */
  env: Record<string, string>;
  /** From GITHUB_PATH, in the order written (the runner prepends each one to PATH). */
  path: string[];
  /** From GITHUB_STATE. */
  state: Record<string, string>;
  /** Contents of GITHUB_STEP_SUMMARY ('' when nothing was written). */
  summary: string;
  annotations: Annotation[];
  /** Values registered with `::add-mask::` (core.setSecret). */
  masks: string[];
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The working directory the action ran in (GITHUB_WORKSPACE), to inspect files it wrote. */
  workspace: string;
}

/** Options of {@link runAction}. */
export interface RunActionOptions {
  /** Step `with:` values, by input name as written in action.yml (dashes and all). */
  inputs?: Record<string, string>;
  /** Extra or overriding environment variables (applied last, so they can replace any default). */
  env?: Record<string, string>;
  /** The webhook payload written to GITHUB_EVENT_PATH; default `{}`. */
  event?: object;
  /** GITHUB_EVENT_NAME; default `push`. */
  eventName?: string;
  /** Working directory and GITHUB_WORKSPACE; default a fresh temporary directory. */
  cwd?: string;
  /** Script to run instead of the one action.yml names (for the harness's own tests). */
  entry?: string;
  /** action.yml to read instead of actions/<name>/action.yml (for the harness's own tests). */
  manifest?: string;
  /** What `${{ github.token }}` in an input default resolves to; default ''. */
  githubToken?: string;
  /** Kill the action and throw after this long; default 60 s. */
  timeoutMs?: number;
}

interface InputDefinition {
  default?: string;
}

interface Manifest {
  inputs: Map<string, InputDefinition>;
  main?: string;
}

/**
 * Runs the bundled action `name` as the runner would and returns what it produced.
 * Throws when an input is not declared in action.yml (the runner only warns, which would let a
 * misspelt input in a test silently fall back to its default) and when the action times out.
 */
export async function runAction(name: string, options: RunActionOptions = {}): Promise<ActionRun> {
  const manifestPath = options.manifest ?? join(repoRoot, 'actions', name, 'action.yml');
  const manifest = existsSync(manifestPath) ? readManifest(manifestPath) : undefined;
  const entry =
    options.entry ??
    (manifest?.main
      ? resolve(dirname(manifestPath), manifest.main)
      : join(repoRoot, 'dist', name, 'index.js'));
  if (!existsSync(entry)) throw new Error(`runAction(${name}): ${entry} does not exist; run npm run build`);

  // A workspace made here is kept until the test file's last test, so tests can look at the files an
  // action wrote after runAction returns.
  const workspace = options.cwd ?? temporaryFolderSync(`action-${name}-ws-`);
  // The runner keeps its own files (event, file commands, temp) outside the workspace.
  const runnerDir = mkdtempSync(join(tmpdir(), `action-${name}-runner-`));
  try {
    const files = {
      GITHUB_OUTPUT: join(runnerDir, `set_output_${randomUUID()}`),
      GITHUB_ENV: join(runnerDir, `set_env_${randomUUID()}`),
      GITHUB_PATH: join(runnerDir, `add_path_${randomUUID()}`),
      GITHUB_STATE: join(runnerDir, `save_state_${randomUUID()}`),
      GITHUB_STEP_SUMMARY: join(runnerDir, `step_summary_${randomUUID()}`),
    };
    // The runner creates them empty before the step starts; @actions/core refuses a missing file.
    for (const file of Object.values(files)) writeFileSync(file, '');
    const eventPath = join(runnerDir, 'event.json');
    writeFileSync(eventPath, JSON.stringify(options.event ?? {}));
    const runnerTemp = join(runnerDir, 'temp');
    mkdirSync(runnerTemp);

    const context: Record<string, string> = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTION: name,
      GITHUB_ACTION_PATH: dirname(manifestPath),
      GITHUB_ACTOR: 'octocat',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
      GITHUB_JOB: 'test',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_REPOSITORY: 'octo-org/mlops-demo',
      GITHUB_REPOSITORY_OWNER: 'octo-org',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_RUN_ID: '1000000001',
      GITHUB_RUN_NUMBER: '1',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      GITHUB_WORKFLOW: 'CI',
      GITHUB_WORKSPACE: workspace,
      RUNNER_ARCH: 'X64',
      RUNNER_NAME: 'harness',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: runnerTemp,
      ...files,
    };
    const inputEnv = buildInputEnv(name, manifest, options.inputs ?? {}, {
      ...context,
      ...options.env,
      GITHUB_TOKEN: options.githubToken ?? '',
    });
    // A minimal environment: the caller's own variables (a developer's GITHUB_TOKEN, RUNNER_DEBUG, ...)
    // must not leak into the action and change its behaviour.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      ...context,
      ...inputEnv,
      ...options.env,
    };

    const started = performance.now();
    const { exitCode, stdout, stderr } = await spawnNode(
      entry,
      workspace,
      env,
      options.timeoutMs ?? 60_000,
      name,
    );
    const durationMs = performance.now() - started;

    const { annotations, masks } = parseCommands(stdout);
    return {
      exitCode,
      outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      env: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
      path: readFileSync(files.GITHUB_PATH, 'utf8')
        .split(/\r?\n/)
        .filter((line) => line !== ''),
      state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      annotations,
      masks,
      stdout,
      stderr,
      durationMs,
      workspace,
    };
  } finally {
    await rm(runnerDir, { recursive: true, force: true });
  }
}

/** The environment variable the runner uses for an input: spaces become `_`, upper-cased, dashes kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function readManifest(path: string): Manifest {
  // The failsafe schema keeps every scalar as its source text: `default: 0.10` stays "0.10" and
  // `default: true` stays "true", which is what the action sees through the runner.
  const doc = parseYaml(readFileSync(path, 'utf8'), { schema: 'failsafe' }) as Record<string, unknown> | null;
  const inputs = new Map<string, InputDefinition>();
  const declared = doc?.inputs;
  if (declared && typeof declared === 'object') {
    for (const [key, value] of Object.entries(declared as Record<string, unknown>)) {
      const def = value && typeof value === 'object' ? (value as Record<string, unknown>).default : undefined;
      inputs.set(key, { default: typeof def === 'string' ? def : undefined });
    }
  }
  const runs = doc?.runs as Record<string, unknown> | undefined;
  return { inputs, main: typeof runs?.main === 'string' ? runs.main : undefined };
}

function buildInputEnv(
  name: string,
  manifest: Manifest | undefined,
  given: Record<string, string>,
  context: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (manifest) {
    const unknown = Object.keys(given).filter((key) => !manifest.inputs.has(key));
    if (unknown.length > 0) {
      throw new Error(
        `runAction(${name}): unexpected input(s) ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
          `valid inputs are ${[...manifest.inputs.keys()].map((k) => `'${k}'`).join(', ')}`,
      );
    }
    // The runner sets every declared input, '' when there is neither a value nor a default.
    for (const [key, def] of manifest.inputs) {
      env[inputVariable(key)] = def.default === undefined ? '' : resolveDefault(def.default, context);
    }
  }
  for (const [key, value] of Object.entries(given)) env[inputVariable(key)] = value;
  return env;
}

/**
 * Resolves `${{ … }}` in an action.yml default. Only plain context look-ups are understood:
 * `github.<key>` and `runner.<key>` read GITHUB_<KEY> / RUNNER_<KEY> from `context` (so
 * `github.workspace`, `github.repository`, `runner.temp`, … match what the action sees), and
 * `github.token` reads GITHUB_TOKEN, which runAction sets from its `githubToken` option (default '').
 * Any other expression (operators, functions, other contexts) becomes ''.
 */
export function resolveDefault(text: string, context: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_match, expression: string) => {
    const [scope, key, ...rest] = expression.split('.');
    if (rest.length > 0 || key === undefined) return '';
    const variable =
      scope === 'github'
        ? `GITHUB_${key.toUpperCase()}`
        : scope === 'runner'
          ? `RUNNER_${key.toUpperCase()}`
          : '';
    return context[variable] ?? '';
  });
}

function spawnNode(
  entry: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  name: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) {
        reject(
          new Error(
            `runAction(${name}): killed after ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
        return;
      }
      resolvePromise({ exitCode: code ?? 1, stdout, stderr });
    });
  });
}

const annotationLevels = new Set(['error', 'warning', 'notice']);

/**
 * Parses workflow commands from an action's stdout: `::error|warning|notice props::message`
 * annotations and `::add-mask::value` masks. Honours `::stop-commands::token` … `::token::`, during
 * which the runner ignores commands. Other commands (`debug`, `group`, …) are skipped.
 */
export function parseCommands(stdout: string): { annotations: Annotation[]; masks: string[] } {
  const annotations: Annotation[] = [];
  const masks: string[] = [];
  let stopToken: string | undefined;
  for (const raw of stdout.split(/\r?\n/)) {
    // The runner trims the line before looking for a command.
    const line = raw.trim();
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined;
      continue;
    }
    const match = /^::([^\s:]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const [, command, props = '', data] = match;
    const message = unescapeData(data);
    if (command === 'stop-commands') {
      stopToken = message;
    } else if (command === 'add-mask') {
      masks.push(message);
    } else if (annotationLevels.has(command)) {
      annotations.push({ level: command as Annotation['level'], message, ...parseProperties(props) });
    }
  }
  return { annotations, masks };
}

function parseProperties(props: string): Partial<Annotation> {
  const result: Partial<Annotation> = {};
  for (const pair of props.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    const value = unescapeProperty(pair.slice(eq + 1));
    if (key === 'file' || key === 'title') result[key] = value;
    else if (key === 'line' || key === 'endLine' || key === 'col' || key === 'endColumn') {
      const n = Number(value);
      if (value !== '' && Number.isInteger(n)) result[key] = n;
    }
  }
  return result;
}

const dataEscapes: Record<string, string> = { '%25': '%', '%0D': '\r', '%0A': '\n' };
const propertyEscapes: Record<string, string> = { ...dataEscapes, '%3A': ':', '%2C': ',' };

// One pass, so an escaped "%250A" becomes the text "%0A" rather than a newline.
function unescapeData(text: string): string {
  return text.replace(/%(?:25|0D|0A)/g, (m) => dataEscapes[m]);
}

function unescapeProperty(text: string): string {
  return text.replace(/%(?:25|0D|0A|3A|2C)/g, (m) => propertyEscapes[m]);
}

/**
 * Parses a GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE file as the runner does: `name<<DELIMITER` heredocs
 * (value = the lines up to the line equal to the delimiter, joined with '\n') and `name=value` lines,
 * whichever of `=` and `<<` comes first on the line; blank lines are skipped and later values win.
 * Throws on a malformed line or an unterminated heredoc, where the runner fails the step.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const key = line.slice(0, eq);
      if (key === '') throw new Error(`file command: empty name in line ${i + 1}: ${line}`);
      result[key] = line.slice(eq + 1);
    } else if (heredoc >= 0) {
      const key = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (key === '' || delimiter === '')
        throw new Error(`file command: bad heredoc in line ${i + 1}: ${line}`);
      const value: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        value.push(lines[i]);
      }
      if (!closed) throw new Error(`file command: '${key}' has no closing delimiter ${delimiter}`);
      result[key] = value.join('\n');
    } else {
      throw new Error(`file command: invalid line ${i + 1}: ${line}`);
    }
  }
  return result;
}
