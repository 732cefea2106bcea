import { type FileChange, type PlannedFile, renderNextSteps } from '../../core/init/init.ts';
import { renderUnifiedDiff } from '../../core/init/line-diff.ts';
import { describeStack } from '../../core/init/stack.ts';
import { findTemplatesDirectory } from '../../core/init/templates.ts';
import { type Command, EXIT, stringFlag } from '../cli.ts';

/** Lines of one file's diff shown by --dry-run before the rest is only counted. */
const MAX_DIFF_LINES = 200;

export const initCommand: Command = {
  name: 'init',
  summary: 'Add the mlops workflows (CI, CD, promote, CT) and an mlops.yaml to a repository.',
  usage:
    'mlops init [--dir D] [--data F] [--target COLUMN] [--name NAME] [--stack python|node|other] [--force] [--dry-run]',
  flags: {
    dir: {
      type: 'string',
      value: 'folder',
      description: 'The repository to set up (default: the current folder). --data is relative to it.',
    },
    data: {
      type: 'string',
      value: 'file',
      description:
        'Your data, a path in the repository: mlops.yaml is filled in from it, and a data contract is inferred next to it.',
    },
    target: {
      type: 'string',
      value: 'column',
      description: 'The label column (default with --data: target, label, y, class or outcome).',
    },
    name: {
      type: 'string',
      value: 'name',
      description:
        "The model's name in packages and the environment repository (default: the project's, from pyproject.toml, setup.cfg, setup.py or package.json, else the folder's).",
    },
    stack: {
      type: 'string',
      value: 'kind',
      description:
        "The project's kind, for the workflows' own steps (default: python with pyproject.toml, requirements.txt, setup.cfg or setup.py; node with package.json; else other, with placeholders).",
    },
    force: { type: 'boolean', description: 'Overwrite files that exist with other content.' },
    'dry-run': {
      type: 'boolean',
      description: 'Print what would be written, with a diff of each file that exists, and write nothing.',
    },
  },
  details:
    'Writes .github/workflows/mlops-{ci,cd,promote,ct}.yml and mlops.yaml (with --data also the contract), each\n' +
    'through a temporary file. The steps marked "(yours)" fit the project: setup-python, pip install and\n' +
    'python train.py for a Python project, npm test and npm run train for a Node project. When a file exists\n' +
    'with other content, nothing is written unless --force is given.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runInit } = await import('../../core/flows/init.ts');
    const force = context.flags.force === true;
    const { plan, dryRun, files, blocked, needsForce } = await runInit({
      dir: stringFlag(context, 'dir'),
      cwd: process.cwd(),
      templatesDir: findTemplatesDirectory(import.meta.url),
      data: stringFlag(context, 'data'),
      target: stringFlag(context, 'target'),
      name: stringFlag(context, 'name'),
      stack: stringFlag(context, 'stack'),
      force,
      dryRun: context.flags['dry-run'] === true,
    });
    const width = Math.max(...files.map(({ file }) => file.relativePath.length));
    const project = `${describeStack(plan.stack)}; model name ${plan.modelName} (from ${plan.modelNameFrom})`;
    let text = `${dryRun ? `mlops init --dry-run: nothing written. ${plan.dir} is ${project}.` : `mlops init: set up ${plan.modelName} (name from ${plan.modelNameFrom}) in ${plan.dir}, ${describeStack(plan.stack)}.`}\n${files
      .map(
        ({ file, change }) =>
          `  ${verb(change, dryRun).padEnd(17)} ${file.relativePath.padEnd(width)}  ${file.summary}`,
      )
      .join('\n')}\n`;
    if (dryRun) {
      for (const file of blocked) text += `\n${shortDiff(file)}`;
      if (needsForce) {
        text += `\nWithout --force, mlops init would write nothing: ${blocked.map((file) => file.relativePath).join(', ')} ${blocked.length === 1 ? 'exists' : 'exist'} with other content (the diff${blocked.length === 1 ? '' : 's'} above).\n`;
      }
    }
    context.print(`${text}\n${renderNextSteps(plan)}`);
    context.result({
      dir: plan.dir,
      modelName: plan.modelName,
      modelNameFrom: plan.modelNameFrom,
      stack: plan.stack,
      dryRun,
      ...(dryRun ? { needsForce } : {}),
      files: files.map(({ file, change }) => ({
        path: file.relativePath,
        status: status(change, dryRun),
        ...(dryRun && change === 'changed' ? { diff: diffOf(file) } : {}),
      })),
      ...(plan.data ? { data: plan.data } : {}),
    });
    return EXIT.passed;
  },
};

function verb(change: FileChange, dryRun: boolean): string {
  if (change === 'unchanged') return 'unchanged';
  if (dryRun) return change === 'new' ? 'would write' : 'would overwrite';
  return change === 'new' ? 'wrote' : 'overwrote';
}

function status(change: FileChange, dryRun: boolean): string {
  if (change === 'unchanged') return 'unchanged';
  if (dryRun) return change === 'new' ? 'would-write' : 'would-overwrite';
  return change === 'new' ? 'written' : 'overwritten';
}

function diffOf(file: PlannedFile): string {
  if (file.current === undefined)
    return `(${file.relativePath} cannot be read as text: it would be replaced)\n`;
  return renderUnifiedDiff(file.current, file.content, {
    before: `${file.relativePath} (now)`,
    after: `${file.relativePath} (mlops init)`,
  });
}

/** The diff, cut after MAX_DIFF_LINES lines with the count of the rest. */
function shortDiff(file: PlannedFile): string {
  const lines = diffOf(file).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const shown = lines.slice(0, MAX_DIFF_LINES);
  const rest = lines.length - shown.length;
  return `${shown.join('\n')}\n${rest > 0 ? `… ${rest} more lines (--json has the whole diff)\n` : ''}`;
}
