/**
 * Validates workflow and action files with GitHub's own parser (@actions/workflow-parser, the one behind
 * the Actions VS Code extension), plus the project's rules for action.yml and a cross-check of `with:`
 * keys against the inputs of this repository's actions.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { parse as parseYaml } from 'yaml';
import { didYouMean } from '../../src/core/suggest.ts';

/** The files to validate, as absolute paths. */
export interface FoundFiles {
  actions: string[];
  workflows: string[];
}

/**
 * Finds `actions/<name>/action.yml`, every file in `.github/workflows/`, and the YAML files under
 * `templates/` that are workflows (in a `.github/workflows/` folder, or with top-level `on:` and
 * `jobs:`). A template that is not valid YAML is returned as a workflow, so its errors get reported.
 */
export function findWorkflowFiles(root: string): FoundFiles {
  const actionsDir = join(root, 'actions');
  const actions = existsSync(actionsDir)
    ? readdirSync(actionsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(actionsDir, entry.name, 'action.yml'))
        .filter((file) => existsSync(file))
    : [];
  const isYaml = (file: string) => /\.ya?ml$/.test(file);
  const workflowsDir = join(root, '.github', 'workflows');
  const workflows = existsSync(workflowsDir)
    ? readdirSync(workflowsDir)
        .filter(isYaml)
        .map((file) => join(workflowsDir, file))
    : [];
  const templatesDir = join(root, 'templates');
  if (existsSync(templatesDir)) {
    for (const entry of readdirSync(templatesDir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !isYaml(entry.name)) continue;
      const file = join(entry.parentPath, entry.name);
      if (file.includes(`${sep}node_modules${sep}`)) continue;
      // Helm chart templates are Go templates, not YAML (and never workflows).
      if (/[\\/]charts[\\/][^\\/]+[\\/]templates[\\/]/.test(file)) continue;
      if (
        file.includes(`${sep}.github${sep}workflows${sep}`) ||
        looksLikeWorkflow(readFileSync(file, 'utf8'))
      ) {
        workflows.push(file);
      }
    }
  }
  return { actions: actions.sort(), workflows: workflows.sort() };
}

function looksLikeWorkflow(content: string): boolean {
  try {
    const doc = parseYaml(content) as unknown;
    return isRecord(doc) && 'on' in doc && 'jobs' in doc;
  } catch {
    return true;
  }
}

/**
 * Validates a workflow with parseWorkflow (YAML, schema, expressions) and convertWorkflowTemplate
 * (job graph, cron syntax, reusable-workflow references, …). Returns the error messages; [] when valid.
 * With `root`, `with:` keys of steps that use this repository's actions are checked against their inputs.
 */
export async function validateWorkflow(name: string, content: string, root?: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const messages = new Set<string>();
  if (parsed.value !== undefined) {
    // Converting adds the semantic errors (it returns early, with the parse errors, when parsing failed).
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const error of template.errors ?? []) messages.add(error.Message);
  }
  for (const error of parsed.context.errors.getErrors()) messages.add(error.message);
  const errors = [...messages];
  if (errors.length === 0 && root !== undefined) errors.push(...checkActionUses(name, content, root));
  return errors;
}

/**
 * Validates an action.yml with parseAction/convertActionTemplate (GitHub's action schema) and then the
 * project's rules, which the schema leaves open: every input has a description and only known keys,
 * every output has a description (and no `value`, which only composite actions use), branding is set,
 * and `runs` is `using: node24` with `main: ../../dist/<actionName>/index.js`.
 */
export function validateAction(name: string, content: string, actionName: string): string[] {
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) convertActionTemplate(parsed.context, parsed.value);
  const errors = parsed.context.errors.getErrors().map((error) => error.message);
  if (errors.length > 0) return errors;

  const doc = parseYaml(content) as unknown;
  if (!isRecord(doc)) return [`${name}: not a mapping`];
  const rule = (message: string) => errors.push(`${name}: ${message}`);
  for (const key of ['name', 'description'] as const) {
    if (typeof doc[key] !== 'string' || doc[key].trim() === '') rule(`${key} must be a non-empty string`);
  }
  const inputKeys = new Set(['description', 'required', 'default', 'deprecationMessage']);
  for (const [input, definition] of Object.entries(isRecord(doc.inputs) ? doc.inputs : {})) {
    if (!isRecord(definition)) {
      rule(`input '${input}' must be a mapping`);
      continue;
    }
    if (typeof definition.description !== 'string' || definition.description.trim() === '') {
      rule(`input '${input}' has no description`);
    }
    for (const key of Object.keys(definition)) {
      if (!inputKeys.has(key))
        rule(`input '${input}' has unknown key '${key}' (allowed: ${[...inputKeys].join(', ')})`);
    }
  }
  for (const [output, definition] of Object.entries(isRecord(doc.outputs) ? doc.outputs : {})) {
    if (
      !isRecord(definition) ||
      typeof definition.description !== 'string' ||
      definition.description.trim() === ''
    ) {
      rule(`output '${output}' has no description`);
    }
    for (const key of Object.keys(isRecord(definition) ? definition : {})) {
      if (key !== 'description')
        rule(`output '${output}' has unknown key '${key}' (a node action sets outputs in code)`);
    }
  }
  const runs = isRecord(doc.runs) ? doc.runs : {};
  if (runs.using !== 'node24') rule(`runs.using must be node24, not ${String(runs.using)}`);
  const main = `../../dist/${actionName}/index.js`;
  if (runs.main !== main) rule(`runs.main must be ${main}, not ${String(runs.main)}`);
  if (!isRecord(doc.branding) || !doc.branding.icon || !doc.branding.color)
    rule('branding needs an icon and a color');
  return errors;
}

/**
 * Checks steps that use one of this repository's actions: `uses: ./actions/<name>` (this repository's own
 * workflows) or `<owner>/mlops-actions/actions/<name>@<ref>` (the published form the templates and users
 * write, e.g. `mlops-actions/mlops-actions/actions/validate-data@v1`), both against
 * `actions/<name>/action.yml` under `root`:
 * - the action must exist (with a suggestion for a misspelt name);
 * - every `with:` key must be one of its inputs (the runner only warns about unknown ones);
 * - required inputs without a default must be given;
 * - `steps.<id>.outputs.<name>` references, anywhere in the same job, must name one of the outputs of the
 *   action that step `<id>` uses (an unknown output is an empty string at run time, never an error).
 */
export function checkActionUses(name: string, content: string, root: string): string[] {
  const errors: string[] = [];
  const doc = parseYaml(content) as unknown;
  const jobs = isRecord(doc) && isRecord(doc.jobs) ? doc.jobs : {};
  for (const [jobId, job] of Object.entries(jobs)) {
    const steps = isRecord(job) && Array.isArray(job.steps) ? job.steps : [];
    // Outputs of the steps (by id) that use one of our actions, for the output references below.
    const outputsById = new Map<string, { uses: string; outputs: string[] }>();
    steps.forEach((step: unknown, index) => {
      if (!isRecord(step) || typeof step.uses !== 'string') return;
      const actionDir = resolveOwnAction(step.uses, root);
      if (actionDir === undefined) return;
      const where = `${name}: jobs.${jobId}.steps[${index}] (${step.uses})`;
      const manifestPath = join(actionDir, 'action.yml');
      if (!existsSync(manifestPath)) {
        const known = existsSync(join(root, 'actions'))
          ? readdirSync(join(root, 'actions')).filter((entry) =>
              existsSync(join(root, 'actions', entry, 'action.yml')),
            )
          : [];
        errors.push(
          `${where}: no action.yml at ${relative(root, manifestPath)}.${didYouMean(basename(actionDir), known)}`,
        );
        return;
      }
      const manifest = parseYaml(readFileSync(manifestPath, 'utf8')) as unknown;
      const inputs = isRecord(manifest) && isRecord(manifest.inputs) ? manifest.inputs : {};
      const given = isRecord(step.with) ? step.with : {};
      for (const key of Object.keys(given)) {
        if (!(key in inputs))
          errors.push(
            `${where}: unknown input '${key}'.${didYouMean(key, Object.keys(inputs))} Inputs: ${Object.keys(inputs).join(', ')}.`,
          );
      }
      for (const [input, definition] of Object.entries(inputs)) {
        if (
          isRecord(definition) &&
          definition.required === true &&
          definition.default === undefined &&
          !(input in given)
        ) {
          errors.push(`${where}: required input '${input}' is not given`);
        }
      }
      if (typeof step.id === 'string') {
        const outputs = isRecord(manifest) && isRecord(manifest.outputs) ? Object.keys(manifest.outputs) : [];
        outputsById.set(step.id, { uses: step.uses, outputs });
      }
    });
    // The steps context belongs to the job: its steps, its outputs: block, its env and conditions.
    const text = JSON.stringify(job);
    const reported = new Set<string>();
    for (const match of text.matchAll(/\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
      const [reference, id, output] = match;
      const step = outputsById.get(id);
      if (step === undefined || step.outputs.includes(output) || reported.has(reference)) continue;
      reported.add(reference);
      errors.push(
        `${name}: jobs.${jobId}: ${reference} is not an output of ${step.uses}.${didYouMean(output, step.outputs)} Outputs: ${step.outputs.join(', ')}.`,
      );
    }
  }
  return errors;
}

/** The folder of one of this repository's actions that `uses` refers to, or undefined for any other action. */
function resolveOwnAction(uses: string, root: string): string | undefined {
  if (uses.startsWith('./')) {
    const dir = resolve(root, uses);
    // A local action outside actions/ (or in a user's repository, for templates) is not ours to check.
    return dir.startsWith(join(root, 'actions') + sep) ? dir : undefined;
  }
  // owner/mlops-actions/actions/<name>@<ref>: a fork or a mirror under another owner is the same action.
  const match = /^[A-Za-z0-9_.-]+\/mlops-actions\/actions\/([^@/]+)@[^@\s]+$/.exec(uses);
  return match ? join(root, 'actions', match[1]) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
