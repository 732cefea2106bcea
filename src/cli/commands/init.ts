import { assertNoConflicts, planInit, renderNextSteps, writeInitPlan } from '../../core/init/init.ts';
import { findTemplatesDirectory } from '../../core/init/templates.ts';
import { type Command, EXIT, stringFlag } from '../cli.ts';

export const initCommand: Command = {
  name: 'init',
  summary: 'Add the mlops workflows (CI, CD, promote, CT) and an mlops.yaml to a repository.',
  usage: 'mlops init [--dir D] [--data F] [--target COLUMN] [--name NAME] [--force] [--dry-run]',
  flags: {
    dir: {
      type: 'string',
      value: 'folder',
      description: 'The repository to set up (default: the current folder).',
    },
    data: {
      type: 'string',
      value: 'file',
      description:
        'Your data (inside the repository): mlops.yaml is filled in from it, and a data contract is inferred next to it.',
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
        "The model's name in packages and the environment repository (default: package.json's name, else the folder's).",
    },
    force: { type: 'boolean', description: 'Overwrite files that exist.' },
    'dry-run': { type: 'boolean', description: 'Print what would be written, and write nothing.' },
  },
  details:
    'Writes .github/workflows/mlops-{ci,cd,promote,ct}.yml and mlops.yaml (with --data also the contract), each\n' +
    'through a temporary file. When any of them exists, nothing is written unless --force is given.',
  async run(context) {
    const dir = stringFlag(context, 'dir') ?? '.';
    const force = context.flags.force === true;
    const dryRun = context.flags['dry-run'] === true;
    const plan = await planInit({
      dir,
      templatesDir: findTemplatesDirectory(import.meta.url),
      data: stringFlag(context, 'data'),
      target: stringFlag(context, 'target'),
      name: stringFlag(context, 'name'),
    });
    // A dry run refuses exactly when the real run would, so it can be trusted as a rehearsal.
    let files = plan.files;
    if (dryRun) assertNoConflicts(files, force);
    else files = await writeInitPlan(plan, { force });
    const width = Math.max(...files.map((file) => file.relativePath.length));
    const verb = (exists: boolean) =>
      dryRun ? (exists ? 'would overwrite' : 'would write') : exists ? 'overwrote' : 'wrote';
    context.print(
      `${dryRun ? 'mlops init --dry-run: nothing written.' : `mlops init: set up ${plan.modelName} in ${plan.dir}.`}\n` +
        files
          .map(
            (file) => `  ${verb(file.exists).padEnd(15)} ${file.relativePath.padEnd(width)}  ${file.summary}`,
          )
          .join('\n') +
        `\n\n${renderNextSteps(plan)}`,
    );
    context.result({
      dir: plan.dir,
      modelName: plan.modelName,
      dryRun,
      files: files.map((file) => ({
        path: file.relativePath,
        status: dryRun
          ? file.exists
            ? 'would-overwrite'
            : 'would-write'
          : file.exists
            ? 'overwritten'
            : 'written',
      })),
      ...(plan.data ? { data: plan.data } : {}),
    });
    return EXIT.passed;
  },
};
