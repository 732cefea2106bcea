/**
 * What kind of project `mlops init` runs in, read from the files at its root: a Python project
 * (pyproject.toml, requirements.txt, setup.cfg or setup.py), a Node project (package.json), or neither.
 * The workflows' steps marked "(yours)" and the next steps' local commands follow from it, and so does
 * the model's default name (the project's own). Only what the files say for sure is used; whatever
 * cannot be told (no training script) becomes a clearly marked placeholder, never a guess that runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../errors.ts';

export const STACK_KINDS = ['python', 'node', 'other'] as const;
export type StackKind = (typeof STACK_KINDS)[number];

/** The commands of a Python project, as the workflows and the next steps run them. */
export interface PythonCommands {
  /** e.g. `pip install -r requirements.txt`, or `pip install -e .` for a pyproject-only project. */
  install?: string;
  /**
   * setup-python's pip cache: keyed on requirements.txt (`default`, setup-python's own default), on
   * another file, or off when the project has no file to key it on (setup-python would fail).
   */
  pipCache: 'default' | { dependencyPath: string } | 'off';
  /** `.python-version`, when the project pins its Python there. */
  pythonVersionFile?: string;
  /** `pytest`, when the project has tests. */
  test?: string;
  /** e.g. `python train.py`; undefined when no training script was found. */
  train?: string;
  /** e.g. `python fetch_data.py`, for continuous training. */
  fetch?: string;
}

export interface ProjectStack {
  kind: StackKind;
  /** The files that told, e.g. ['pyproject.toml', 'requirements.txt']; [] for other or a forced kind without them. */
  evidence: string[];
  /** The project's name, as its manifest writes it, and which file says so. */
  name?: { value: string; from: string };
  /** With kind python. */
  python?: PythonCommands;
}

const PYTHON_MARKERS = ['pyproject.toml', 'requirements.txt', 'setup.cfg', 'setup.py'] as const;
/** Training scripts, tried in order (run as `python <path>`). */
const TRAIN_SCRIPTS = ['train.py', 'src/train.py', 'scripts/train.py', 'training/train.py', 'train/train.py'];
const FETCH_SCRIPTS = ['fetch_data.py', 'scripts/fetch_data.py', 'src/fetch_data.py'];
/** pyproject extras that hold the test tools, in the order they are preferred. */
const TEST_EXTRAS = ['test', 'tests', 'testing', 'dev'];
/** Folders never searched for tests. */
const SKIPPED_FOLDERS = new Set([
  'node_modules',
  'venv',
  'env',
  'build',
  'dist',
  'site-packages',
  '__pycache__',
]);

/**
 * Reads the project in `dir`. `forced` (the `--stack` flag) overrides the kind; the commands are still
 * read from the files. Python and Node together (a Python project with a package.json for tooling) is
 * Python unless package.json has a `train` script.
 */
export function detectStack(dir: string, forced?: StackKind): ProjectStack {
  const has = (file: string) => isFile(join(dir, file));
  const pythonEvidence = PYTHON_MARKERS.filter(has);
  const packageJson = has('package.json') ? readPackageJson(join(dir, 'package.json')) : undefined;
  let kind: StackKind = forced ?? 'other';
  if (!forced) {
    if (pythonEvidence.length > 0 && !packageJson?.trainScript) kind = 'python';
    else if (packageJson) kind = 'node';
  }
  if (kind === 'node') {
    return {
      kind,
      evidence: packageJson ? ['package.json'] : [],
      ...(packageJson?.name ? { name: { value: packageJson.name, from: 'package.json' } } : {}),
    };
  }
  if (kind === 'other') {
    // Still the project's name when a manifest has one (e.g. --stack other in a Node project).
    const name =
      pythonName(dir) ?? (packageJson?.name ? { value: packageJson.name, from: 'package.json' } : undefined);
    return { kind, evidence: [], ...(name ? { name } : {}) };
  }
  const name = pythonName(dir);
  return { kind, evidence: pythonEvidence, ...(name ? { name } : {}), python: pythonCommands(dir) };
}

/** Parses the `--stack` flag. */
export function parseStackKind(value: string): StackKind {
  if ((STACK_KINDS as readonly string[]).includes(value)) return value as StackKind;
  throw new ConfigurationError(
    `--stack ${value}: use one of ${STACK_KINDS.join(', ')} (default: detected from pyproject.toml, requirements.txt, setup.cfg, setup.py or package.json).`,
    { key: 'stack' },
  );
}

/** One line for people: "a Python project (pyproject.toml, requirements.txt)". */
export function describeStack(stack: ProjectStack): string {
  const from = stack.evidence.length > 0 ? ` (${stack.evidence.join(', ')})` : '';
  switch (stack.kind) {
    case 'python':
      return `a Python project${from}`;
    case 'node':
      return `a Node project${from}`;
    default:
      return 'neither a Python nor a Node project (no pyproject.toml, requirements.txt, setup.cfg, setup.py or package.json)';
  }
}

function pythonCommands(dir: string): PythonCommands {
  const has = (file: string) => isFile(join(dir, file));
  const pyproject = has('pyproject.toml')
    ? readTomlTables(readFileSync(join(dir, 'pyproject.toml'), 'utf8'))
    : undefined;
  const installable =
    (pyproject !== undefined && (pyproject.has('project') || pyproject.has('tool.poetry'))) ||
    has('setup.py') ||
    has('setup.cfg');
  const requirements = ['requirements.txt', 'requirements-dev.txt'].filter(has);
  // pytest as a requirement: a line of a requirements file or of setup.cfg's lists, a quoted
  // requirement in pyproject.toml or setup.py, or a Poetry dependency key (not [tool.pytest…] settings).
  const requires = (file: string, pattern: RegExp) =>
    has(file) && pattern.test(readFileSync(join(dir, file), 'utf8'));
  const mentionsPytest =
    requirements.some((file) => requires(file, /^\s*pytest\b/m)) ||
    requires('pyproject.toml', /["']pytest\b|^\s*pytest\s*=/m) ||
    requires('setup.py', /["']pytest\b/) ||
    requires('setup.cfg', /^\s+pytest\b/m);
  const test = hasTests(dir, pyproject) ? 'pytest' : undefined;

  const parts = ['pip install'];
  if (requirements.length > 0) {
    parts.push(...requirements.map((file) => `-r ${file}`));
  } else if (installable) {
    const extras = pyproject?.get('project.optional-dependencies');
    const extra = TEST_EXTRAS.find((name) => extras?.has(name));
    parts.push(extra ? `-e ".[${extra}]"` : '-e .');
  }
  if (test && !mentionsPytest) parts.push('pytest');
  const install = parts.length > 1 ? parts.join(' ') : undefined;

  const trainScript = TRAIN_SCRIPTS.find(has);
  const trainModule = trainScript ? undefined : findTrainModule(dir, installable);
  const fetchScript = FETCH_SCRIPTS.find(has);
  const cacheKey = ['requirements-dev.txt', 'pyproject.toml', 'setup.cfg', 'setup.py'].find(has);
  return {
    ...(install ? { install } : {}),
    pipCache: has('requirements.txt') ? 'default' : cacheKey ? { dependencyPath: cacheKey } : 'off',
    ...(has('.python-version') ? { pythonVersionFile: '.python-version' } : {}),
    ...(test ? { test } : {}),
    ...(trainScript
      ? { train: `python ${trainScript}` }
      : trainModule
        ? { train: `python -m ${trainModule}` }
        : {}),
    ...(fetchScript ? { fetch: `python ${fetchScript}` } : {}),
  };
}

/** `<package>.train` for a train.py inside a package at the root, or under src/ when the project installs. */
function findTrainModule(dir: string, installable: boolean): string | undefined {
  const roots: [string, string][] = [['', dir]];
  if (installable) roots.push(['src', join(dir, 'src')]);
  for (const [, root] of roots) {
    for (const name of listFolders(root)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
      if (isFile(join(root, name, '__init__.py')) && isFile(join(root, name, 'train.py')))
        return `${name}.train`;
    }
  }
  return undefined;
}

/** Tests pytest would find: test files under tests/ or test/ (or at the root), or pytest's configuration. */
function hasTests(dir: string, pyproject: TomlTables | undefined): boolean {
  if (pyproject?.has('tool.pytest.ini_options')) return true;
  if (['pytest.ini', 'conftest.py'].some((file) => isFile(join(dir, file)))) return true;
  const configured = (file: string, section: string) =>
    isFile(join(dir, file)) && readFileSync(join(dir, file), 'utf8').includes(section);
  if (configured('setup.cfg', '[tool:pytest]') || configured('tox.ini', '[pytest]')) return true;
  const isTestFile = (name: string) => /^test_.*\.py$|_test\.py$/.test(name);
  if (listFiles(dir).some(isTestFile)) return true;
  return ['tests', 'test'].some((folder) => containsFile(join(dir, folder), isTestFile, 3));
}

function containsFile(folder: string, match: (name: string) => boolean, depth: number): boolean {
  if (depth < 0) return false;
  if (listFiles(folder).some(match)) return true;
  return listFolders(folder).some(
    (name) =>
      !name.startsWith('.') &&
      !SKIPPED_FOLDERS.has(name) &&
      containsFile(join(folder, name), match, depth - 1),
  );
}

/** The name in pyproject.toml ([project] or [tool.poetry]), setup.cfg ([metadata]) or setup.py (name=). */
function pythonName(dir: string): { value: string; from: string } | undefined {
  const pyprojectPath = join(dir, 'pyproject.toml');
  if (isFile(pyprojectPath)) {
    const tables = readTomlTables(readFileSync(pyprojectPath, 'utf8'));
    for (const table of ['project', 'tool.poetry']) {
      const value = tables.get(table)?.get('name');
      if (value) return { value, from: `pyproject.toml [${table}] name` };
    }
  }
  const setupCfg = join(dir, 'setup.cfg');
  if (isFile(setupCfg)) {
    const metadata = /^\[metadata\][^\n]*\n((?:(?!\[)[^\n]*\n?)*)/m.exec(readFileSync(setupCfg, 'utf8'));
    const value = metadata && /^name\s*=\s*(\S+)\s*$/m.exec(metadata[1])?.[1];
    if (value) return { value, from: 'setup.cfg [metadata] name' };
  }
  const setupPy = join(dir, 'setup.py');
  if (isFile(setupPy)) {
    const value = /\bname\s*=\s*["']([^"']+)["']/.exec(readFileSync(setupPy, 'utf8'))?.[1];
    if (value) return { value, from: 'setup.py name=' };
  }
  return undefined;
}

function readPackageJson(path: string): { name?: string; trainScript: boolean } | undefined {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as {
      name?: unknown;
      scripts?: Record<string, unknown>;
    };
    return {
      ...(typeof json.name === 'string' && json.name !== ''
        ? { name: json.name.replace(/^@[^/]+\//, '') }
        : {}),
      trainScript: typeof json.scripts?.train === 'string',
    };
  } catch {
    // Not JSON: a Node project all the same, named after its folder.
    return { trainScript: false };
  }
}

/** A TOML file's tables, each with its keys whose values are strings (others map to ''). */
type TomlTables = Map<string, Map<string, string>>;

/**
 * Just enough TOML for the few keys init reads (table headers, `key = "string"`): a full parser is not
 * needed for `name`, and a file it cannot follow only loses the name (the folder's is used then).
 * Multi-line strings and arrays are skipped line by line.
 */
export function readTomlTables(text: string): TomlTables {
  const tables: TomlTables = new Map([['', new Map()]]);
  let current = tables.get('') as Map<string, string>;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
    if (header) {
      const name = header[1]
        .split('.')
        .map((part) => part.trim().replace(/^["']|["']$/g, ''))
        .join('.');
      current = tables.get(name) ?? new Map();
      tables.set(name, current);
      continue;
    }
    const pair = /^("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!pair) continue;
    const key = pair[1].replace(/^["']|["']$/g, '');
    const value = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(pair[2]);
    current.set(key, value ? (value[1] ?? value[2] ?? '') : '');
  }
  return tables;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function listFiles(folder: string): string[] {
  return listEntries(folder)
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

function listFolders(folder: string): string[] {
  return listEntries(folder)
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

function listEntries(folder: string) {
  if (!existsSync(folder)) return [];
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}
