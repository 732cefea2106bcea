/**
 * CI = CLI (issue #12, "CI and the CLI disagree on the same mlops.yaml"): every action input that
 * has an mlops.yaml key gives the same decision through the bundled action (run as the runner runs
 * it, action.yml defaults applied) and through the built CLI, with the config alone setting it.
 * Each case sets one key to a value whose effect differs from the built-in default, checks that
 * effect in both reports, and compares the decisions (exit code, verdict, gates, metrics, …).
 *
 * `CONFIG_KEYS` maps each input to its key, once. Every input of these actions is either mapped or
 * listed in `NOT_IN_CONFIG` with the reason, so an input added later fails here until it is
 * classified; a mapped input may have no action.yml default (the runner would always pass it, and
 * inputs win over the config).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import schema from '../../src/core/schemas/mlops-config.schema.json' with { type: 'json' };
import { repoRoot, runAction } from '../harness/run-action.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const cli = join(repoRoot, 'dist/cli/index.js');
const models = join(repoRoot, 'test/fixtures/models');

type Action = 'validate-data' | 'validate-model' | 'deploy-pr';

/** Each action input that mlops.yaml also sets, and its key there (dotted, as in the README). */
const CONFIG_KEYS: Record<Action, Record<string, string>> = {
  'validate-data': {
    data: 'data.data',
    reference: 'data.reference',
    contract: 'data.contract',
    train: 'data.train',
    target: 'data.target',
    'fail-on': 'data.fail-on',
    format: 'data.format',
    delimiter: 'data.delimiter',
  },
  'validate-model': {
    model: 'model.model',
    baseline: 'model.baseline',
    data: 'model.data',
    target: 'model.target',
    task: 'model.task',
    gates: 'model.gates',
    contract: 'model.contract',
    features: 'model.features',
    golden: 'model.golden.path',
    missing: 'model.missing',
    'on-missing-baseline': 'model.on-missing-baseline',
    'output-name': 'model.output.name',
    'output-kind': 'model.output.kind',
    threshold: 'model.threshold',
    slices: 'model.slices.columns',
    resamples: 'model.bootstrap.resamples',
    seed: 'model.bootstrap.seed',
    'batch-rows': 'model.batch-rows',
    'min-rows': 'model.min-rows',
    format: 'data.format',
    delimiter: 'data.delimiter',
    'environment-repository': 'deploy.repository',
  },
  'deploy-pr': {
    repository: 'deploy.repository',
    base: 'deploy.base',
    labels: 'deploy.environments.<env>.labels',
    reviewers: 'deploy.environments.<env>.reviewers',
    draft: 'deploy.environments.<env>.draft',
    'auto-merge': 'deploy.environments.<env>.auto-merge',
  },
};

/** The other inputs of these actions, with why mlops.yaml has no key for them. */
const NOT_IN_CONFIG: Record<Action, Record<string, string>> = {
  'validate-data': {
    config: 'names the config itself',
    'report-path': 'where this step writes, per workflow',
  },
  'validate-model': {
    config: 'names the config itself',
    'report-path': 'where this step writes, per workflow',
    shard: 'a matrix job’s own part of the rows',
    'outcomes-path': 'where a shard job writes, per workflow',
    merge: 'the shard files of this run',
    'deployed-model': 'the model’s name in the environment repository, per workflow',
    token: 'a secret',
  },
  'deploy-pr': {
    environment: 'the environment of this deployment, per workflow',
    'package-ref': 'the package built by this run',
    'promote-from': 'per workflow (the promote template)',
    'model-name': 'per package',
    'model-version': 'per package',
    token: 'a secret',
    config: 'names the config itself',
    'api-url': 'the GitHub API of the runner',
    'package-dir': 'where this job built the package',
    'package-token': 'a secret',
    'oci-ref': 'the modelcar of this run’s package (package-model’s modelcar-uri output), per deployment',
    'allow-failed-gates': 'an override, decided per deployment',
    'override-reason': 'an override, decided per deployment',
  },
};

/**
 * Inputs whose parity is not run here, and why. deploy-pr needs a git server, the API stand-in and
 * a package per run (test/e2e runs it in the template flow); an environment baseline needs an
 * environment repository (test/integration/deploy.test.ts and the e2e flow).
 */
const NOT_RUN: Partial<Record<Action, string[]>> = {
  'validate-model': ['environment-repository'],
  'deploy-pr': Object.keys(CONFIG_KEYS['deploy-pr']),
};

interface Manifest {
  inputs: Record<string, { default?: unknown; required?: boolean }>;
}

async function readManifest(action: Action): Promise<Manifest> {
  return parseYaml(await readFile(join(repoRoot, 'actions', action, 'action.yml'), 'utf8')) as Manifest;
}

/** Whether a dotted key (with `<env>` for any environment) is in mlops.yaml's JSON Schema. */
function schemaHasKey(key: string): boolean {
  let node: {
    properties?: Record<string, unknown>;
    additionalProperties?: unknown;
    anyOf?: unknown[];
    oneOf?: unknown[];
  } = schema as never;
  for (const part of key.split('.')) {
    const branches = [node, ...((node.anyOf ?? node.oneOf ?? []) as (typeof node)[])];
    const next = branches
      .map((branch) => (part === '<env>' ? branch.additionalProperties : branch.properties?.[part]))
      .find((value) => value !== undefined && typeof value === 'object');
    if (!next) return false;
    node = next as typeof node;
    if ('$ref' in node) {
      const ref = String((node as { $ref: string }).$ref)
        .replace(/^#\//, '')
        .split('/');
      node = ref.reduce(
        (value: Record<string, unknown>, name) => value[name] as Record<string, unknown>,
        schema as never,
      ) as typeof node;
    }
  }
  return true;
}

describe('action inputs and mlops.yaml keys', () => {
  it.each(Object.keys(CONFIG_KEYS) as Action[])(
    '%s: every input is mapped or excluded, mapped ones have no default',
    async (action) => {
      const manifest = await readManifest(action);
      const inputs = Object.keys(manifest.inputs);
      const classified = [...Object.keys(CONFIG_KEYS[action]), ...Object.keys(NOT_IN_CONFIG[action])];
      expect(
        inputs.filter((input) => !classified.includes(input)),
        'inputs to add to CONFIG_KEYS or NOT_IN_CONFIG',
      ).toEqual([]);
      expect(
        classified.filter((input) => !inputs.includes(input)),
        'classified inputs that action.yml no longer has',
      ).toEqual([]);
      for (const [input, key] of Object.entries(CONFIG_KEYS[action])) {
        expect(schemaHasKey(key), `${key} in the config schema`).toBe(true);
        // A default would be passed by the runner on every run and win over the config.
        expect(manifest.inputs[input].default, `action.yml default of ${action}'s ${input}`).toBeUndefined();
      }
    },
  );
});

/** What must be the same through the action and the CLI. */
function decision(report: Record<string, unknown>): unknown {
  if (report.kind === 'data-validation') {
    const r = report as {
      passed: boolean;
      failOn: string;
      summary: unknown;
      findings: { check: string; column?: string; severity: string }[];
    };
    return {
      passed: r.passed,
      failOn: r.failOn,
      summary: r.summary,
      findings: r.findings.map((f) => [f.check, f.column, f.severity]),
    };
  }
  const r = report as {
    passed: boolean;
    task: string;
    features: string[];
    output: unknown;
    minRows: unknown;
    bootstrap: unknown;
    data: { rows: number; droppedRows: number };
    gates: { expression: string; status: string; value?: number | null }[];
    metrics: Record<string, { value: number | null }>;
    parity?: { passed: boolean; mismatches: number };
    slices: { column: string; value: string; rows: number }[];
    baseline?: { path: string };
  };
  return {
    passed: r.passed,
    task: r.task,
    features: r.features,
    output: r.output,
    minRows: r.minRows,
    bootstrap: r.bootstrap,
    rows: [r.data.rows, r.data.droppedRows],
    gates: r.gates.map((g) => [g.expression, g.status, g.value]),
    metrics: Object.fromEntries(Object.entries(r.metrics).map(([name, m]) => [name, m.value])),
    parity: r.parity && [r.parity.passed, r.parity.mismatches],
    slices: r.slices.map((s) => [s.column, s.value, s.rows]),
    baseline: r.baseline?.path,
  };
}

type Config = Record<string, Record<string, unknown>>;

interface ParityCase {
  action: 'validate-data' | 'validate-model';
  input: string;
  /** Sets the input's key (and what it needs) on the base config. */
  set(config: Config): void;
  /** The key's effect, different from the built-in default, in the report both wrote (or their exit code). */
  effect(report: Record<string, unknown>, code: number): void;
}

const BASE: Record<ParityCase['action'], () => Config> = {
  'validate-data': () => ({ data: { data: 'data/test.csv' } }),
  'validate-model': () => ({
    model: {
      model: 'forest.onnx',
      data: 'data/test.csv',
      target: 'target',
      gates: ['roc_auc >= 0.9'],
      bootstrap: { resamples: 100 },
    },
  }),
};

const CASES: ParityCase[] = [
  // The data gate.
  {
    action: 'validate-data',
    input: 'data',
    set: (c) => Object.assign(c.data, { data: 'data/drifted.csv' }),
    effect: (r) => expect((r.inputs as { data: { path: string } }).data.path).toBe('data/drifted.csv'),
  },
  {
    action: 'validate-data',
    input: 'reference',
    set: (c) =>
      Object.assign(c.data, {
        data: 'data/drifted.csv',
        reference: 'data/train.csv',
      }),
    effect: (r) =>
      expect(r).toMatchObject({
        passed: false,
        drift: { reference: 'data/train.csv' },
      }),
  },
  {
    action: 'validate-data',
    input: 'contract',
    set: (c) =>
      Object.assign(c.data, {
        data: 'data/drifted.csv',
        contract: 'contract.json',
      }),
    effect: (r) => expect((r.findings as { check: string }[]).some((f) => f.check === 'contract')).toBe(true),
  },
  {
    action: 'validate-data',
    input: 'train',
    set: (c) => Object.assign(c.data, { train: 'data/test.csv' }),
    effect: (r) =>
      expect((r.findings as { check: string }[]).some((f) => f.check === 'train-test-leakage')).toBe(true),
  },
  {
    action: 'validate-data',
    input: 'target',
    set: (c) => Object.assign(c.data, { reference: 'data/train.csv', target: 'target' }),
    effect: (r) => {
      const columns = (r.drift as { columns: { column: string }[] }).columns.map((d) => d.column);
      expect(columns).not.toContain('target');
      expect(columns.length).toBeGreaterThan(0);
    },
  },
  {
    action: 'validate-data',
    input: 'fail-on',
    set: (c) =>
      Object.assign(c.data, {
        data: 'data/drifted.csv',
        reference: 'data/train.csv',
        'fail-on': 'never',
      }),
    effect: (r) => expect(r).toMatchObject({ passed: true, failOn: 'never' }),
  },
  {
    action: 'validate-data',
    input: 'format',
    set: (c) => Object.assign(c.data, { data: 'data/test.txt', format: 'csv' }),
    effect: (r, code) => expect([code, (r.summary as { rows: number }).rows]).toEqual([0, 114]),
  },
  {
    action: 'validate-data',
    input: 'delimiter',
    set: (c) => Object.assign(c.data, { data: 'data/semicolon.csv', delimiter: ';' }),
    effect: (r) => expect((r.summary as { columns: number }).columns).toBe(31),
  },
  // The model gate.
  {
    action: 'validate-model',
    input: 'model',
    set: (c) => Object.assign(c.model, { model: 'sigmoid.onnx' }),
    effect: (r) => expect((r.candidate as { path: string }).path).toBe('sigmoid.onnx'),
  },
  {
    action: 'validate-model',
    input: 'baseline',
    set: (c) =>
      Object.assign(c.model, {
        baseline: 'sigmoid.onnx',
        gates: ['roc_auc >= baseline - 0.01'],
      }),
    effect: (r) => expect((r.baseline as { path: string }).path).toBe('sigmoid.onnx'),
  },
  {
    action: 'validate-model',
    input: 'data',
    set: (c) => Object.assign(c.model, { data: 'data/train.csv' }),
    effect: (r) => expect((r.data as { path: string; rows: number }).path).toBe('data/train.csv'),
  },
  {
    action: 'validate-model',
    input: 'target',
    // data.target is the fallback; model.target wins over it.
    set: (c) => {
      c.data = { target: 'mean radius' };
      c.model.target = 'target';
    },
    effect: (r) => expect(r.target).toBe('target'),
  },
  {
    action: 'validate-model',
    input: 'task',
    // A single probability read as a regression's prediction of the 0/1 label.
    set: (c) => Object.assign(c.model, { model: 'sigmoid.onnx', task: 'regression', gates: ['rmse <= 0.5'] }),
    effect: (r) => expect(r.task).toBe('regression'),
  },
  {
    action: 'validate-model',
    input: 'gates',
    set: (c) => Object.assign(c.model, { gates: ['roc_auc >= 0.9999'] }),
    effect: (r) => expect(r.passed).toBe(false),
  },
  {
    action: 'validate-model',
    input: 'contract',
    // A contract lists the columns in the model's order: here reversed, so the metrics change.
    set: (c) => Object.assign(c.model, { contract: 'reversed-contract.json' }),
    effect: (r) => expect((r.features as string[])[0]).toBe('worst fractal dimension'),
  },
  {
    action: 'validate-model',
    input: 'features',
    set: (c) => Object.assign(c.model, { features: [...FEATURE_NAMES].reverse() }),
    effect: (r) => expect(r.features).toEqual([...FEATURE_NAMES].reverse()),
  },
  {
    action: 'validate-model',
    input: 'golden',
    set: (c) =>
      Object.assign(c.model, {
        model: 'mlp.onnx',
        golden: { path: 'golden.json', atol: 1e-4 },
      }),
    effect: (r) => expect(r.parity).toMatchObject({ golden: 'golden.json' }),
  },
  {
    action: 'validate-model',
    input: 'missing',
    set: (c) => Object.assign(c.model, { data: 'data/missing.csv', missing: 'drop' }),
    effect: (r, code) => expect([code, (r.data as { droppedRows: number }).droppedRows]).toEqual([0, 1]),
  },
  {
    action: 'validate-model',
    input: 'on-missing-baseline',
    set: (c) =>
      Object.assign(c.model, {
        'on-missing-baseline': 'fail',
        gates: ['roc_auc >= 0.9', 'f1 >= baseline - 0.01'],
      }),
    effect: (r) => expect(r).toMatchObject({ passed: false, onMissingBaseline: 'fail' }),
  },
  {
    action: 'validate-model',
    input: 'output-name',
    set: (c) => Object.assign(c.model, { output: { name: 'probabilities' } }),
    effect: (r) => expect((r.output as { inferredFrom: string }).inferredFrom).toMatch(/model\.output\.name/),
  },
  {
    action: 'validate-model',
    input: 'output-kind',
    set: (c) => Object.assign(c.model, { output: { kind: 'logits' } }),
    effect: (r) => expect((r.output as { kind: string }).kind).toBe('logits'),
  },
  {
    action: 'validate-model',
    input: 'threshold',
    set: (c) => Object.assign(c.model, { threshold: 0.9 }),
    effect: (r) => expect((r.output as { threshold: number }).threshold).toBe(0.9),
  },
  {
    action: 'validate-model',
    input: 'slices',
    set: (c) => Object.assign(c.model, { slices: { columns: ['target'] } }),
    effect: (r) => expect((r.slices as unknown[]).length).toBe(2),
  },
  {
    action: 'validate-model',
    input: 'resamples',
    set: (c) => Object.assign(c.model, { bootstrap: { resamples: 200 } }),
    effect: (r) => expect(r.bootstrap).toMatchObject({ resamples: 200 }),
  },
  {
    action: 'validate-model',
    input: 'seed',
    set: (c) => Object.assign(c.model, { bootstrap: { resamples: 100, seed: 7 } }),
    effect: (r) => expect(r.bootstrap).toMatchObject({ seed: 7 }),
  },
  {
    action: 'validate-model',
    input: 'batch-rows',
    set: (c) => Object.assign(c.model, { 'batch-rows': 16 }),
    effect: (r) => expect(r.latency).toMatchObject({ batchRows: 16 }),
  },
  {
    action: 'validate-model',
    input: 'min-rows',
    set: (c) => Object.assign(c.model, { 'min-rows': 200 }),
    effect: (r) =>
      expect(r).toMatchObject({
        passed: false,
        minRows: { required: 200, passed: false },
      }),
  },
  {
    action: 'validate-model',
    input: 'format',
    set: (c) => {
      c.data = { format: 'csv' };
      c.model.data = 'data/test.txt';
    },
    effect: (r, code) => expect([code, (r.data as { rows: number }).rows]).toEqual([0, 114]),
  },
  {
    action: 'validate-model',
    input: 'delimiter',
    set: (c) => {
      c.data = { delimiter: ';' };
      c.model.data = 'data/semicolon.csv';
    },
    effect: (r, code) => expect([code, (r.data as { rows: number }).rows]).toEqual([0, 114]),
  },
];

let FEATURE_NAMES: string[] = [];
let project: string;

beforeAll(async () => {
  project = await temporaryDirectory('mlops-parity-');
  await mkdir(join(project, 'data'));
  for (const [name, source] of Object.entries({
    'test.csv': example.test,
    'train.csv': example.train,
    'drifted.csv': example.drifted,
  })) {
    await copyFile(source, join(project, 'data', name));
  }
  const text = await readFile(example.test, 'utf8');
  await writeFile(join(project, 'data/test.txt'), text);
  await writeFile(join(project, 'data/semicolon.csv'), text.replaceAll(',', ';'));
  // One missing feature value on the first row.
  const lines = text.split('\n');
  lines[1] = lines[1].replace(/^[^,]*/, '');
  await writeFile(join(project, 'data/missing.csv'), lines.join('\n'));
  FEATURE_NAMES = lines[0].split(',').filter((name) => name !== 'target');
  await copyFile(example.contract, join(project, 'contract.json'));
  const contract = JSON.parse(await readFile(example.contract, 'utf8')) as {
    properties: Record<string, unknown>;
  };
  contract.properties = Object.fromEntries(Object.entries(contract.properties).reverse());
  await writeFile(join(project, 'reversed-contract.json'), JSON.stringify(contract));
  await copyFile(join(models, 'sklearn-forest.onnx'), join(project, 'forest.onnx'));
  await copyFile(join(models, 'torch-sigmoid.onnx'), join(project, 'sigmoid.onnx'));
  await copyFile(join(models, 'torch-mlp-logits.onnx'), join(project, 'mlp.onnx'));
  await copyFile(join(models, 'torch-mlp.golden.json'), join(project, 'golden.json'));
});

async function viaCli(
  command: string,
  config: string,
  report: string,
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      [cli, command, '--config', config, '--report', report],
      {
        cwd: project,
      },
    );
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

async function readReport(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(join(project, path), 'utf8'));
  } catch {
    return undefined;
  }
}

describe('the same decision through the action and the CLI, the config alone setting each input', () => {
  it.each(CASES.map((c) => [`${c.action} ${c.input} (${CONFIG_KEYS[c.action][c.input]})`, c] as const))(
    '%s',
    async (_title, { action, input, set, effect }) => {
      const config = BASE[action]();
      set(config);
      const name = `${action}-${input}`;
      await writeFile(join(project, `${name}.yaml`), stringify(config));
      const cliRun = await viaCli(action, `${name}.yaml`, `${name}.cli.json`);
      // The CLI exits 1 for a failed gate where the action's step fails with exit 1 too.
      const actionRun = await runAction(action, {
        cwd: project,
        inputs: { config: `${name}.yaml`, 'report-path': `${name}.action.json` },
      });
      expect(actionRun.exitCode === 0, `${actionRun.stdout}\n${cliRun.stderr}`).toBe(cliRun.code === 0);
      const fromCli = await readReport(`${name}.cli.json`);
      const fromAction = await readReport(`${name}.action.json`);
      expect(fromCli, cliRun.stderr).toBeDefined();
      expect(fromAction, actionRun.stdout).toBeDefined();
      effect(fromCli ?? {}, cliRun.code);
      effect(fromAction ?? {}, actionRun.exitCode);
      expect(decision(fromAction ?? {})).toEqual(decision(fromCli ?? {}));
    },
  );

  it('covers every mapped input that is run', () => {
    for (const action of ['validate-data', 'validate-model'] as const) {
      const run = CASES.filter((c) => c.action === action).map((c) => c.input);
      const expected = Object.keys(CONFIG_KEYS[action]).filter((input) => !NOT_RUN[action]?.includes(input));
      expect(run.sort()).toEqual(expected.sort());
    }
  });
});
