/**
 * Bad action inputs (issue #12, "action booleans like `upload: yes`"), through the bundled actions
 * run as the runner runs them (action.yml defaults applied): booleans, numbers, choices and lists
 * a workflow author could mistype. Each must fail the step (exit 1) with one `::error` that names
 * the input and what it accepts, before any work, and never as "Internal error … please report it".
 *
 * A new case goes into `CASES`: the action, the inputs (with whatever else the action needs to get
 * as far as reading them), the input the error must name, and what the message must say.
 */
import { describe, expect, it } from 'vitest';
import { runAction } from '../harness/run-action.ts';

interface Case {
  action: string;
  inputs: Record<string, string>;
  /** The input the error names, as written in action.yml. */
  input: string;
  /** What the message says it accepts. */
  accepts: RegExp;
}

/** Just enough for each action to get past its required inputs. */
const MODEL = { model: 'model.onnx', data: 'test.csv', target: 'label', gates: 'roc_auc >= 0.5' };
const PACKAGE = { model: 'model.onnx', name: 'churn' };
const DEPLOY = { environment: 'staging', token: 'not-a-real-token', repository: 'octo-org/env' };

const CASES: Case[] = [
  // Booleans: `yes`, `on`, `1` are YAML 1.1 spellings that GitHub's boolean inputs do not take.
  {
    action: 'package-model',
    inputs: { ...PACKAGE, upload: 'yes' },
    input: 'upload',
    accepts: /true or false/,
  },
  {
    action: 'package-model',
    inputs: { ...PACKAGE, release: 'on' },
    input: 'release',
    accepts: /true or false/,
  },
  {
    action: 'package-model',
    inputs: { ...PACKAGE, overwrite: '1' },
    input: 'overwrite',
    accepts: /true or false/,
  },
  { action: 'report', inputs: { comment: 'yes' }, input: 'comment', accepts: /true or false/ },
  { action: 'report', inputs: { checks: 'no' }, input: 'checks', accepts: /true or false/ },
  { action: 'deploy-pr', inputs: { ...DEPLOY, draft: 'maybe' }, input: 'draft', accepts: /true or false/ },
  // Numbers.
  {
    action: 'package-model',
    inputs: { ...PACKAGE, 'retention-days': 'ninety' },
    input: 'retention-days',
    accepts: /a whole number from 1 to 90/,
  },
  {
    action: 'package-model',
    inputs: { ...PACKAGE, 'retention-days': '91' },
    input: 'retention-days',
    accepts: /a whole number from 1 to 90/,
  },
  {
    action: 'package-model',
    inputs: { ...PACKAGE, 'retention-days': '1.5' },
    input: 'retention-days',
    accepts: /a whole number from 1 to 90/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, threshold: 'high' },
    input: 'threshold',
    accepts: /between 0 and 1/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, threshold: '1.5' },
    input: 'threshold',
    accepts: /between 0 and 1/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, resamples: '-1' },
    input: 'resamples',
    accepts: /whole number/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, seed: 'x' },
    input: 'seed',
    accepts: /non-negative integer/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, 'batch-rows': '0' },
    input: 'batch-rows',
    accepts: /positive integer/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, 'min-rows': '1.5' },
    input: 'min-rows',
    accepts: /positive integer/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, shard: '5/3' },
    input: 'shard',
    accepts: /K\/N|1 ≤ K ≤ N|shard/,
  },
  // Choices.
  {
    action: 'validate-model',
    inputs: { ...MODEL, missing: 'ignore' },
    input: 'missing',
    accepts: /error, nan, drop/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, 'on-missing-baseline': 'never' },
    input: 'on-missing-baseline',
    accepts: /fail, skip, value-only/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, task: 'ranking' },
    input: 'task',
    accepts: /binary, multiclass, regression/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, 'output-kind': 'odds' },
    input: 'output-kind',
    accepts: /probabilities, logits, values/,
  },
  {
    action: 'validate-data',
    inputs: { data: 'test.csv', 'fail-on': 'sometimes' },
    input: 'fail-on',
    accepts: /error, warning, never/,
  },
  { action: 'validate-data', inputs: { data: 'test.csv', format: 'xls' }, input: 'format', accepts: /csv/ },
  {
    action: 'deploy-pr',
    inputs: { ...DEPLOY, 'auto-merge': 'yes' },
    input: 'auto-merge',
    accepts: /merge, squash, rebase/,
  },
  // Lists: only comments left, or an item that is not a gate.
  {
    action: 'report',
    inputs: { reports: '# mlops-reports/*.json\n\n' },
    input: 'reports',
    accepts: /paths or globs/,
  },
  {
    action: 'validate-model',
    inputs: { ...MODEL, gates: 'roc_auc >= 0.9\nroc_auc >>= 0.9' },
    input: 'gates',
    accepts: /roc_auc >>= 0\.9/,
  },
  // Required inputs left empty.
  { action: 'package-model', inputs: { model: '', name: 'churn' }, input: 'model', accepts: /required/ },
  { action: 'deploy-pr', inputs: { ...DEPLOY, environment: ' ' }, input: 'environment', accepts: /required/ },
];

describe('bad action inputs through the bundles', () => {
  it.each(
    CASES.map((c) => [`${c.action}: ${JSON.stringify(c.inputs[c.input] ?? '')} for ${c.input}`, c] as const),
  )('%s is a configuration error naming the input', async (_title, { action, inputs, input, accepts }) => {
    const run = await runAction(action, { inputs });
    const errors = run.annotations.filter((a) => a.level === 'error');
    expect(run.exitCode, run.stdout).toBe(1);
    expect(errors, run.stdout).toHaveLength(1);
    const [error] = errors;
    // The reports list has no input name in its message: it says what to list instead.
    if (input !== 'reports') expect(error.message).toContain(input);
    expect(error.message).toMatch(accepts);
    expect(error.title).toBe('Configuration error');
    expect(run.stdout).not.toMatch(/Internal error|please report it|TypeError|\n\s+at /);
    expect(run.stderr).toBe('');
  });
});
