/**
 * Outputs that would destroy inputs or cannot be written (issue #12, "outputs destroy inputs"):
 * a report, profile, contract, Markdown or package folder named like the data, contract, model,
 * config or report it reads (also through a symbolic link), an output that is a folder, under a
 * regular file, or in a read-only folder. Through the built CLI (exit 2) and the bundled actions
 * (exit 1 with one `::error` naming the input): refused before any work, every input unchanged,
 * nothing written.
 *
 * A new command that writes a file the user names gets a row in `CLI_CASES` (or `ACTION_CASES`).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputPath } from '../../src/core/files.ts';
import { repoRoot, runAction } from '../harness/run-action.ts';
import { runCli } from '../helpers/cli.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const reports = join(repoRoot, 'test/fixtures/reports');
/** Root may write into read-only folders: that case is skipped when the tests run as root (as CI does). */
const isRoot = process.getuid?.() === 0;

const mlops = (cwd: string, ...args: string[]) => runCli(args, { cwd });

/** Every file under `dir` with its sha256 (symbolic links as their target's bytes), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return files;
}

/**
 * A project folder: data, a contract, a config, a stand-in model, a report, a profile, a shard
 * file, a symbolic link to the data, a plain folder, and a file named .github where init writes a folder.
 */
async function project(): Promise<string> {
  const dir = await temporaryDirectory('mlops-hostile-outputs-');
  await mkdir(join(dir, 'data'));
  await copyFile(example.test, join(dir, 'data/test.csv'));
  await copyFile(example.train, join(dir, 'data/train.csv'));
  await copyFile(example.contract, join(dir, 'contract.json'));
  await writeFile(join(dir, 'mlops.yaml'), 'data:\n  data: data/test.csv\n');
  // Not parsed before the refusal: any bytes will do.
  await writeFile(join(dir, 'model.onnx'), 'not really a model');
  await writeFile(join(dir, 'shard-1.json'), '{}');
  await copyFile(join(reports, 'data-passed.json'), join(dir, 'report.json'));
  await writeFile(join(dir, 'profile.json'), '{}');
  await symlink(join(dir, 'data/test.csv'), join(dir, 'link.json'));
  await mkdir(join(dir, 'folder'));
  // Where init writes its workflows (.github/workflows/), a file instead of a folder.
  await writeFile(join(dir, '.github'), 'not a folder');
  // A package folder of an earlier build of churn, holding the model a user packages again.
  await mkdir(join(dir, 'out/churn-1.0.0'), { recursive: true });
  await writeFile(join(dir, 'out/churn-1.0.0/model.onnx'), 'an earlier package');
  return dir;
}

interface CliCase {
  name: string;
  args: string[];
  /** What the message must say (it names the flag and, for a clash, the input). */
  says: RegExp;
}

const CLI_CASES: CliCase[] = [
  {
    name: 'validate-data --report is the data',
    args: ['validate-data', '--data', 'data/test.csv', '--report', 'data/test.csv'],
    says: /--report data\/test\.csv is --data data\/test\.csv: writing it would replace that input/,
  },
  {
    name: 'validate-data --report is the contract',
    args: [
      'validate-data',
      '--data',
      'data/test.csv',
      '--contract',
      'contract.json',
      '--report',
      './contract.json',
    ],
    says: /--report \.\/contract\.json is the contract/,
  },
  {
    name: 'validate-data --report is the training data',
    args: [
      'validate-data',
      '--data',
      'data/test.csv',
      '--train',
      'data/train.csv',
      '--report',
      'data/train.csv',
    ],
    says: /is the training data/,
  },
  {
    name: 'validate-data --report is the config',
    args: ['validate-data', '--config', 'mlops.yaml', '--report', 'mlops.yaml'],
    says: /--report mlops\.yaml is the config/,
  },
  {
    name: 'validate-data --report is a symbolic link to the data',
    args: ['validate-data', '--data', 'data/test.csv', '--report', 'link.json'],
    says: /--report link\.json is --data/,
  },
  {
    name: 'validate-data --report is a folder',
    args: ['validate-data', '--data', 'data/test.csv', '--report', 'folder'],
    says: /--report folder is a folder/,
  },
  {
    name: 'validate-data --report is under a regular file',
    args: ['validate-data', '--data', 'data/test.csv', '--report', 'data/test.csv/report.json'],
    says: /--report data\/test\.csv\/report\.json cannot be written: .*test\.csv is a file, not a folder/,
  },
  {
    name: 'validate-model --report is the model',
    args: [
      'validate-model',
      '--model',
      'model.onnx',
      '--data',
      'data/test.csv',
      '--target',
      'target',
      '--gate',
      'roc_auc >= 0.5',
      '--report',
      'model.onnx',
    ],
    says: /--report model\.onnx is --model model\.onnx/,
  },
  {
    name: 'validate-model --save-outcomes is the data',
    args: [
      'validate-model',
      '--model',
      'model.onnx',
      '--data',
      'data/test.csv',
      '--target',
      'target',
      '--shard',
      '1/2',
      '--save-outcomes',
      'data/test.csv',
    ],
    says: /--save-outcomes data\/test\.csv is --data/,
  },
  {
    name: 'validate-model merge --report is a shard file',
    args: ['validate-model', 'merge', 'shard-1.json', '--gate', 'roc_auc >= 0.5', '--report', 'shard-1.json'],
    says: /--report shard-1\.json is the shard outcomes/,
  },
  {
    name: 'profile --out is the data',
    args: ['profile', '--data', 'data/test.csv', '--out', 'data/test.csv'],
    says: /--out data\/test\.csv is --data/,
  },
  {
    name: 'profile merge --out is a profile it merges',
    args: ['profile', 'merge', 'profile.json', '--out', 'profile.json'],
    says: /--out profile\.json is the profile/,
  },
  {
    name: 'schema infer --out is the data, even with --force',
    args: ['schema', 'infer', '--data', 'data/test.csv', '--out', 'data/test.csv', '--force'],
    says: /--out data\/test\.csv is --data/,
  },
  {
    name: 'report --out is the report it renders',
    args: ['report', 'report.json', '--out', 'report.json'],
    says: /--out report\.json is the report/,
  },
  {
    name: 'package --out is the model file',
    args: [
      'package',
      '--model',
      'model.onnx',
      '--name',
      'churn',
      '--version',
      '1.0.0',
      '--out',
      'model.onnx',
    ],
    says: /--out model\.onnx is a file, not a folder/,
  },
  {
    name: 'package --out holds the model in the package folder it replaces',
    args: [
      'package',
      '--model',
      'out/churn-1.0.0/model.onnx',
      '--name',
      'churn',
      '--version',
      '1.0.0',
      '--out',
      'out',
    ],
    says: /--model out\/churn-1\.0\.0\/model\.onnx is inside out\/churn-1\.0\.0, which is replaced/,
  },
  {
    name: 'init would write its workflows under a regular file, even with --force',
    args: ['init', '--force'],
    says: /mlops init: \.github\/workflows\/mlops-[a-z]+\.yml cannot be written: .*\.github is a file, not a folder/,
  },
];

describe('outputs over inputs (CLI)', () => {
  it.each(CLI_CASES.map((c) => [c.name, c] as const))(
    '%s: exit 2, nothing changed',
    async (_name, { args, says }) => {
      const dir = await project();
      const before = snapshot(dir);
      const run = await mlops(dir, ...args);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(says);
      expect(run.stderr).not.toMatch(/internal error/i);
      expect(snapshot(dir)).toEqual(before);
    },
  );

  it.skipIf(isRoot)(
    'validate-data --report in a read-only folder: exit 2 (skipped as root, who may write there)',
    async () => {
      const dir = await project();
      await mkdir(join(dir, 'locked'));
      await chmod(join(dir, 'locked'), 0o555);
      try {
        const run = await mlops(
          dir,
          'validate-data',
          '--data',
          'data/test.csv',
          '--report',
          'locked/report.json',
        );
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(
          /--report locked\/report\.json cannot be written: the folder .*locked is not writable/,
        );
      } finally {
        await chmod(join(dir, 'locked'), 0o755);
      }
    },
  );

  it('still writes a report next to the data, into a new folder, and a package beside the model', async () => {
    const dir = await project();
    const run = await mlops(
      dir,
      'validate-data',
      '--data',
      'data/test.csv',
      '--report',
      'new/folder/report.json',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(join(dir, 'new/folder/report.json')).isFile()).toBe(true);
    // A model in another folder of --out than the package's own is fine.
    expect(() =>
      checkOutputPath('out', [{ label: '--model', path: 'out/build/model.onnx' }], '--out', {
        cwd: dir,
        folder: { replaces: (entry) => entry.startsWith('churn-') },
      }),
    ).not.toThrow();
  });
});

interface ActionCase {
  name: string;
  action: string;
  inputs: Record<string, string>;
  says: RegExp;
}

const ACTION_CASES: ActionCase[] = [
  {
    name: 'validate-data report-path is the data',
    action: 'validate-data',
    inputs: { data: 'data/test.csv', 'report-path': 'data/test.csv' },
    says: /input "report-path" data\/test\.csv is input "data" data\/test\.csv/,
  },
  {
    name: 'validate-data report-path is a folder',
    action: 'validate-data',
    inputs: { data: 'data/test.csv', 'report-path': 'folder' },
    says: /input "report-path" folder is a folder/,
  },
  {
    name: 'validate-model report-path is the model',
    action: 'validate-model',
    inputs: {
      model: 'model.onnx',
      data: 'data/test.csv',
      target: 'target',
      gates: 'roc_auc >= 0.5',
      'report-path': 'model.onnx',
    },
    says: /input "report-path" model\.onnx is input "model"/,
  },
  {
    name: 'validate-model outcomes-path is the data',
    action: 'validate-model',
    inputs: {
      model: 'model.onnx',
      data: 'data/test.csv',
      target: 'target',
      shard: '1/2',
      'outcomes-path': 'data/test.csv',
    },
    says: /input "outcomes-path" data\/test\.csv is input "data"/,
  },
  {
    name: 'package-model out is the model file',
    action: 'package-model',
    inputs: { model: 'model.onnx', name: 'churn', version: '1.0.0', out: 'model.onnx', upload: 'false' },
    says: /input "out" model\.onnx is a file, not a folder/,
  },
];

describe('outputs over inputs (bundled actions)', () => {
  it.each(ACTION_CASES.map((c) => [c.name, c] as const))(
    '%s: one ::error naming the input, nothing changed',
    async (_name, { action, inputs, says }) => {
      const dir = await project();
      const before = snapshot(dir);
      const run = await runAction(action, { cwd: dir, inputs });
      expect(run.exitCode).toBe(1);
      const errors = run.annotations.filter((a) => a.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(says);
      expect(run.stdout).not.toMatch(/Internal error/);
      expect(snapshot(dir)).toEqual(before);
    },
  );
});
