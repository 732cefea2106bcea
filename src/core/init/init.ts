/**
 * `mlops init`: adds the mlops-actions workflows and an `mlops.yaml` to a repository.
 *
 * Two steps, so that nothing is written unless everything can be: {@link planInit} reads the project,
 * the templates and the user's data and computes every file's content (writing nothing), then
 * {@link writeInitPlan} refuses when a file it would change exists (unless forced) and writes each file
 * through a temporary file and a rename. The workflows fit the project: its kind (Python, Node or
 * neither, see stack.ts) decides the steps marked "(yours)", and its manifest the model's name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { inferContract } from '../data/contract-infer.ts';
import { openTable } from '../data/open-table.ts';
import { mergeProfiles } from '../data/profile.ts';
import { profileTable } from '../data/profile-table.ts';
import type { DataProfile } from '../data/profile-types.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath, writeFileAtomic } from '../files.ts';
import { didYouMean } from '../suggest.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import {
  findColumn,
  type HoldoutFacts,
  type InitDataFacts,
  inferTask,
  renderConfigFromData,
  renderConfigSkeleton,
} from './mlops-config.ts';
import { detectStack, type ProjectStack, type StackKind } from './stack.ts';
import { setWorkflowEnv, WORKFLOW_TEMPLATES } from './templates.ts';
import { applyProjectSteps } from './workflow-steps.ts';

/** Package names as package-model accepts them. */
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** Where the templates' training step writes the model (the templates' MODEL_PATH). */
const MODEL_PATH = 'build/model.onnx';
/** Label column names tried, in order, when --data is given without --target. */
const USUAL_TARGETS = ['target', 'label', 'y', 'class', 'outcome'];

export interface InitOptions {
  /** The repository to set up (the folder that has, or will have, `.github/`), relative to `cwd`. */
  dir: string;
  /** The folder with the workflow templates (see `findTemplatesDirectory`). */
  templatesDir: string;
  /** Data to infer `mlops.yaml` and the contract from: a path inside `dir`, relative to `dir`. */
  data?: string;
  /** The label column. Default with `data`: the first of target, label, y, class, outcome it has. */
  target?: string;
  /** The model's name. Default: the project's (pyproject.toml, setup.cfg, setup.py, package.json), else the folder's, made valid. */
  name?: string;
  /** The kind of project, instead of the one detected from its files. */
  stack?: StackKind;
  /** The folder `dir` is relative to (default: the process's). */
  cwd?: string;
  /** For the contract's description (default: now). */
  now?: Date;
}

/** One file `mlops init` writes. */
export interface PlannedFile {
  /** Absolute path. */
  path: string;
  /** Relative to the repository, with `/`. */
  relativePath: string;
  content: string;
  /** What the file is, for the list of written files. */
  summary: string;
  /** The file exists now. */
  exists: boolean;
  /** Its content now, when it exists and can be read as text. */
  current?: string;
}

/** What writing a planned file does: create it, change it (needs force), or nothing (same content). */
export type FileChange = 'new' | 'changed' | 'unchanged';

export function fileChange(file: PlannedFile): FileChange {
  if (!file.exists) return 'new';
  return file.current === file.content ? 'unchanged' : 'changed';
}

export interface InitPlan {
  /** The repository folder (absolute). */
  dir: string;
  modelName: string;
  /** Where the name came from, e.g. "pyproject.toml [project] name", "--name", "the folder's name". */
  modelNameFrom: string;
  /** The kind of project, and its commands. */
  stack: ProjectStack;
  files: PlannedFile[];
  /** Set when the config was inferred from data. */
  data?: InitDataFacts;
}

/**
 * Computes every file `mlops init` writes (four workflows, `mlops.yaml`, and with `data` the contract
 * next to it), without writing anything. Throws `ConfigurationError`/`InputError` for an invalid name,
 * data outside the repository, unreadable data, or an unknown target column (with a suggestion).
 */
export async function planInit(options: InitOptions): Promise<InitPlan> {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir);
  // Before anything is read: --dir must be a folder (or not exist yet) that can be written to.
  checkOutputPath(options.dir, [], '--dir', { cwd, folder: { replaces: () => false } });
  const stack = detectStack(dir, options.stack);
  const { name: modelName, from: modelNameFrom } = resolveModelName(options.name, dir, stack);
  let data: InitDataFacts | undefined;

  const others: Omit<PlannedFile, 'exists'>[] = [];
  if (options.data !== undefined) {
    const inferred = await inferFromData(options.data, options.target, dir, cwd, options.now);
    data = inferred.facts;
    others.push(
      {
        path: join(dir, 'mlops.yaml'),
        relativePath: 'mlops.yaml',
        content: renderConfigFromData(inferred.facts, MODEL_PATH),
        summary: `the gates' configuration, from ${inferred.facts.inferredFrom}`,
      },
      {
        path: join(dir, ...inferred.facts.contract.split('/')),
        relativePath: inferred.facts.contract,
        content: `${JSON.stringify(inferred.contract, null, 2)}\n`,
        summary: `the data contract, inferred from ${inferred.facts.inferredFrom}: review it`,
      },
    );
  } else {
    others.push({
      path: join(dir, 'mlops.yaml'),
      relativePath: 'mlops.yaml',
      content: renderConfigSkeleton(MODEL_PATH, options.target),
      summary: "the gates' configuration (a skeleton: fill it in)",
    });
  }

  const env: Record<string, string> = { MODEL_NAME: modelName, MODEL_PATH };
  if (data) env.CONTRACT = data.contract;
  const forProject =
    stack.kind === 'python'
      ? ', for a Python project'
      : stack.kind === 'other'
        ? ", with placeholders for your project's steps"
        : '';
  const workflows: Omit<PlannedFile, 'exists'>[] = [];
  for (const { template, workflow, summary } of WORKFLOW_TEMPLATES) {
    const source = join(options.templatesDir, template);
    const relativePath = `.github/workflows/${workflow}`;
    const text = applyProjectSteps(
      setWorkflowEnv(await readFile(source, 'utf8'), env, source, ['MODEL_NAME']),
      stack,
      relativePath,
      source,
    );
    const header = `# Written by \`mlops init\` (${TOOL_NAME} ${TOOL_VERSION}) from templates/workflows/${template}${forProject}.\n`;
    workflows.push({
      path: join(dir, '.github', 'workflows', workflow),
      relativePath,
      content: header + text,
      summary,
    });
  }
  const files = [...workflows, ...others];
  // No planned file may be the data it was inferred from, a folder, or under a file (a `.github`
  // that is a file), or in a folder that cannot be written: refused before anything is written.
  const inputs = options.data === undefined ? [] : [{ label: '--data', path: resolve(dir, options.data) }];
  for (const file of files) checkOutputPath(file.relativePath, inputs, 'mlops init:', { cwd: dir });
  return { dir, modelName, modelNameFrom, stack, data, files: files.map(withCurrentContent) };
}

/** The file as it is on disk now: whether it exists, and its text. */
function withCurrentContent(file: Omit<PlannedFile, 'exists' | 'current'>): PlannedFile {
  if (!existsSync(file.path)) return { ...file, exists: false };
  try {
    return { ...file, exists: true, current: readFileSync(file.path, 'utf8') };
  } catch {
    return { ...file, exists: true };
  }
}

/**
 * Writes a plan's files, each through a temporary file and a rename; a file that already has the
 * planned content is left alone. Refuses (a `ConfigurationError` listing every file it would change,
 * before writing any) when such a file exists and `force` is not set; the files are read again here,
 * not taken from the plan, since the plan may be old. Returns the files as they were just before.
 */
export async function writeInitPlan(
  plan: InitPlan,
  options: { force?: boolean } = {},
): Promise<PlannedFile[]> {
  const files = plan.files.map(withCurrentContent);
  assertNoConflicts(files, options.force ?? false);
  for (const file of files) {
    if (fileChange(file) !== 'unchanged') await writeFileAtomic(file.path, file.content);
  }
  return files;
}

/** Throws the refusal to overwrite, naming every file that exists with other content and `--force`, unless `force`. */
export function assertNoConflicts(files: readonly PlannedFile[], force: boolean): void {
  const existing = conflicts(files);
  if (existing.length === 0 || force) return;
  throw new ConfigurationError(
    `mlops init writes nothing, because ${existing.length === 1 ? 'this file exists' : 'these files exist'}: ${existing
      .map((file) => file.relativePath)
      .join(
        ', ',
      )}. Move ${existing.length === 1 ? 'it' : 'them'} away, or pass --force to overwrite (your changes to ${existing.length === 1 ? 'it' : 'them'} would be lost); --dry-run shows the differences.`,
    { file: existing[0].relativePath },
  );
}

/** The files that exist with other content than planned: writing them needs force. */
export function conflicts(files: readonly PlannedFile[]): PlannedFile[] {
  return files.filter((file) => fileChange(file) === 'changed');
}

/**
 * What to do after `mlops init`: the commands to try locally (for the project's kind, from `cwd`), the
 * review, the environment repository and its two tokens, the first pull request, the required checks,
 * the first release.
 */
export function renderNextSteps(plan: InitPlan, cwd: string = process.cwd()): string {
  const contract = plan.data ? `, ${plan.data.contract}` : '';
  const local = localCommands(plan, cwd);
  const yours =
    plan.stack.kind === 'python'
      ? `they run ${[plan.stack.python?.install, plan.stack.python?.test, plan.stack.python?.train]
          .filter(Boolean)
          .map((c) => `\`${c}\``)
          .join(
            ', ',
          )}${plan.stack.python?.train ? '' : ' and a training placeholder that fails until you put your training command there'}`
      : plan.stack.kind === 'node'
        ? 'they run `npm test` and `npm run train`'
        : 'they are placeholders (the training one fails the job until you replace it)';
  const steps = [
    `Try the gates locally, as CI will run them:\n${local.map((line) => `     ${line}`).join('\n')}`,
    `Review mlops.yaml${contract} and the gates in it, and the steps marked "(yours)" in the workflows: ${yours}; training must write ${MODEL_PATH}.`,
    'Set up the environment repository (copy templates/environment-repo/ of mlops-actions into a new repository), then in this repository under Settings → Secrets and variables → Actions add:\n' +
      '     variable ENVIRONMENT_REPO              owner/name of the environment repository\n' +
      '     secret   ENVIRONMENT_REPO_READ_TOKEN   a fine-grained or GitHub App token for it with contents: read only;\n' +
      "                                            CI's model gate reads the baseline with it (that job runs your code)\n" +
      '     secret   ENVIRONMENT_REPO_TOKEN        a token for it with contents: write and pull-requests: write, used\n' +
      '                                            only by the deployment jobs (GITHUB_TOKEN cannot reach it)\n' +
      `   Until then CI's model gate runs without a baseline (its absolute gates decide) and its job summary says how to add one; CD, CT and promote stop at their first step naming what is missing. Until staging runs a first ${plan.modelName}, there is no baseline either.`,
    'Commit and push, and open a pull request: the gates run and the report comments on it.',
    'Make the gates required: Settings → Rules → Rulesets (or Branches → branch protection) for main → "Require status checks to pass" → add "mlops / data" and "mlops / model" (they can be picked once they have run).',
    `Release: \`git tag v0.1.0 && git push origin v0.1.0\` packages ${plan.modelName} 0.1.0 and opens the deployment pull request for staging; Actions → mlops-promote proposes it for production.`,
  ];
  return `Next steps:\n${steps.map((step, index) => `${index + 1}. ${step}`).join('\n')}\n`;
}

/** The local commands of the first next step, aligned, with their comments. */
function localCommands(plan: InitPlan, cwd: string): string[] {
  const rows: [string, string][] = [];
  const where = relative(cwd, plan.dir);
  if (where !== '') rows.push([`cd ${quoteShell(where.split(sep).join('/'))}`, '']);
  const stack = plan.stack;
  if (stack.kind === 'python') {
    const python = stack.python;
    if (python?.install) rows.push([python.install, '']);
    if (python?.test) rows.push([python.test, 'your tests']);
    rows.push(
      python?.train
        ? [python.train, `your training: it must write ${MODEL_PATH}`]
        : [`# your training command`, `it must write ${MODEL_PATH}`],
    );
  } else if (stack.kind === 'node') {
    rows.push(['npm test', 'your tests'], ['npm run train', `your training: it must write ${MODEL_PATH}`]);
  } else {
    rows.push(['# your tests and your training command', `training must write ${MODEL_PATH}`]);
  }
  if (!plan.data)
    rows.push(['# first fill in the data: part of mlops.yaml', 'or run init again with --data FILE --force']);
  rows.push(
    ['mlops validate-data', 'the data gate (mlops.yaml is found in this folder)'],
    [`mlops validate-model --model ${MODEL_PATH}`, 'the model gate on your holdout, without a baseline'],
  );
  const width = Math.max(...rows.filter(([, comment]) => comment !== '').map(([command]) => command.length));
  return rows.map(([command, comment]) =>
    comment === ''
      ? command
      : command.startsWith('#')
        ? `${command} (${comment})`
        : `${command.padEnd(width)}  # ${comment}`,
  );
}

function quoteShell(text: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

async function inferFromData(
  dataPath: string,
  target: string | undefined,
  dir: string,
  cwd: string,
  now: Date | undefined,
): Promise<{ facts: InitDataFacts; contract: unknown }> {
  // Relative to the repository (--dir), as every path init writes; the workflows run there.
  const absolute = resolve(dir, dataPath);
  const inRepository = relative(dir, absolute);
  if (inRepository.startsWith('..') || isAbsolute(inRepository)) {
    throw new ConfigurationError(
      `--data ${dataPath} is outside ${dir}: the workflows run in the repository, so the data must be in it. Move or copy it into the repository, or pass --dir with the repository that holds it.`,
      { file: dataPath },
    );
  }
  if (!existsSync(absolute)) {
    const fromCwd = resolve(cwd, dataPath);
    const inside = relative(dir, fromCwd);
    const hint =
      fromCwd !== absolute && existsSync(fromCwd) && !inside.startsWith('..') && !isAbsolute(inside)
        ? ` Did you mean --data ${inside.split(sep).join('/')}?`
        : '';
    throw new ConfigurationError(
      `--data ${dataPath}: there is no such file in ${dir} (paths are relative to the repository, --dir).${hint}`,
      { file: dataPath },
    );
  }
  // With a train/test pair, the test file is the holdout and the train file the reference, and the
  // contract describes both: inferred from one alone, its ranges would fail the other's healthy outliers
  // on the first run.
  const pair = trainTestPair(absolute);
  const sources = pair ? [pair.train, pair.test] : [absolute];
  const toRelative = (path: string) => relative(dir, path).split(sep).join('/');
  const profiles = [];
  for (const source of sources) profiles.push(await profileTable(await openTable(source)));
  const profile = profiles.length === 1 ? profiles[0] : mergeProfiles(profiles);
  const inferredFrom = sources.map(toRelative).join(' and ');
  const names = profile.columns.map((column) => column.name);
  const label = target ?? USUAL_TARGETS.find((name) => names.includes(name));
  if (label === undefined) {
    throw new ConfigurationError(
      `${inferredFrom} has no column named ${USUAL_TARGETS.join(', ')}: pass --target with the label column (columns: ${names.join(', ')}).`,
      { file: dataPath },
    );
  }
  const column = findColumn(profile, label);
  if (!column) {
    throw new ConfigurationError(
      `--target ${label}: ${inferredFrom} has no such column.${didYouMean(label, names)} Columns: ${names.join(', ')}.`,
      { file: dataPath, key: 'target' },
    );
  }
  // The contract is committed: it names the data by its path in the repository, not on this machine.
  const portable = {
    ...profile,
    sources: profile.sources.map((item) => ({ ...item, path: toRelative(resolve(cwd, item.path)) })),
  };
  const contract = inferContract(portable, { target: label, now });
  const facts: InitDataFacts = {
    data: pair ? toRelative(pair.test) : inRepository.split(sep).join('/'),
    ...(pair ? { train: toRelative(pair.train) } : {}),
    contract: posix.join(posix.dirname(toRelative(absolute)), 'contract.json'),
    target: label,
    inferredFrom,
    task: inferTask(column),
    holdout: holdoutFacts(profiles[profiles.length - 1], label),
  };
  return { facts, contract };
}

/** The holdout's size and (for a label column of few values) its number of classes, to size the gates. */
function holdoutFacts(holdout: DataProfile, label: string): HoldoutFacts {
  const column = findColumn(holdout, label);
  const classes = column?.distinct.exact ? column.distinct.count : undefined;
  return { rows: holdout.rows, ...(classes !== undefined ? { classes } : {}) };
}

/**
 * The train and test files when `path` is one of a pair that differs only by `train`/`test` in the
 * file name (data/train.csv and data/test.csv, churn_train.parquet and churn_test.parquet).
 */
function trainTestPair(path: string): { train: string; test: string } | undefined {
  const name = basename(path);
  for (const [from, to, isTrain] of [
    ['train', 'test', true],
    ['test', 'train', false],
  ] as const) {
    const at = name.toLowerCase().lastIndexOf(from);
    if (at === -1) continue;
    const sibling = join(
      dirname(path),
      name.slice(0, at) + matchCase(to, name.slice(at, at + from.length)) + name.slice(at + from.length),
    );
    if (existsSync(sibling)) return isTrain ? { train: path, test: sibling } : { train: sibling, test: path };
  }
  return undefined;
}

/** `word` in the case of `like` (TRAIN → TEST, Train → Test). */
function matchCase(word: string, like: string): string {
  if (like === like.toUpperCase()) return word.toUpperCase();
  if (like[0] === like[0].toUpperCase()) return word[0].toUpperCase() + word.slice(1);
  return word;
}

/** `--name`, checked; else the project's name (see detectStack), else the folder's, made a valid package name. */
function resolveModelName(
  given: string | undefined,
  dir: string,
  stack: ProjectStack,
): { name: string; from: string } {
  if (given !== undefined) {
    if (!MODEL_NAME.test(given)) {
      throw new ConfigurationError(
        `--name "${given}" is not a valid model name: use lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit), e.g. churn-classifier.`,
        { key: 'name' },
      );
    }
    return { name: given, from: '--name' };
  }
  if (stack.name) {
    // Python names as pip compares them (PEP 503): runs of -, _ and . are one -.
    const value = stack.kind === 'python' ? stack.name.value.replace(/[-_.]+/g, '-') : stack.name.value;
    return { name: toModelName(value), from: stack.name.from };
  }
  return { name: toModelName(basename(dir)), from: "the folder's name" };
}

function toModelName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 100);
  return name === '' ? 'model' : name;
}
