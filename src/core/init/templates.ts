/**
 * The workflow templates `mlops init` copies into a repository: where they are at run time, which file
 * becomes which workflow, and the few values (the `env:` block at the top of each) it fills in.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../errors.ts';

/** A template in `templates/workflows/` and the workflow file it becomes in `.github/workflows/`. */
export interface WorkflowTemplate {
  template: string;
  workflow: string;
  /** One line for the list of written files. */
  summary: string;
}

export const WORKFLOW_TEMPLATES: readonly WorkflowTemplate[] = [
  {
    template: 'ci.yml',
    workflow: 'mlops-ci.yml',
    summary: 'CI on pull requests and pushes to main: tests, data gate, train, model gate, report',
  },
  {
    template: 'cd.yml',
    workflow: 'mlops-cd.yml',
    summary: 'CD on v* tags: gates, package (version = tag) on the release, deployment PR to staging',
  },
  {
    template: 'promote.yml',
    workflow: 'mlops-promote.yml',
    summary: 'promote by hand: the package staging runs, as a deployment PR to production',
  },
  {
    template: 'ct.yml',
    workflow: 'mlops-ct.yml',
    summary: 'continuous training on a schedule and on "new-data" dispatches: gates, package, staging PR',
  },
];

/**
 * The folder holding `templates/workflows/`, found by walking up from `from` (a file URL or path): the
 * repository root when running from `src/` (tests) and from the bundle `dist/cli/index.js` alike, and
 * the package root when installed from npm. Throws `ConfigurationError` when no ancestor has it (a
 * broken installation: say which folder was searched).
 */
export function findTemplatesDirectory(from: string): string {
  const start = from.startsWith('file:') ? fileURLToPath(from) : from;
  let folder = dirname(start);
  for (;;) {
    const candidate = join(folder, 'templates', 'workflows');
    if (existsSync(join(candidate, WORKFLOW_TEMPLATES[0].template))) return candidate;
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new ConfigurationError(
    `The workflow templates (templates/workflows/) are not in any folder above ${dirname(start)}: this installation of mlops-actions is incomplete. Reinstall it, or run mlops from a clone of the repository.`,
  );
}

/**
 * Sets values in the top-level `env:` block of a workflow template, keeping everything else (comments,
 * order, other keys) byte for byte. Only keys the template defines are changed; a key in `required`
 * that the template lacks is an internal error (a broken template), so `mlops init` never writes a
 * workflow whose placeholders were silently left in place.
 */
export function setWorkflowEnv(
  text: string,
  values: Readonly<Record<string, string>>,
  file: string,
  required: readonly string[] = [],
): string {
  const block = /^env:[ \t]*(?:#.*)?\r?\n((?:(?:[ \t]+.*|[ \t]*)\r?\n)*)/m.exec(text);
  if (!block) {
    if (required.length > 0) throw new Error(`Template ${file} has no top-level env: block.`);
    return text;
  }
  const start = block.index + block[0].length - block[1].length;
  let body = block[1];
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(
      `^([ \\t]+${key}:[ \\t]*)(?:"(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^#\\r\\n]*?)([ \\t]+#.*)?$`,
      'm',
    );
    if (!line.test(body)) {
      if (required.includes(key)) throw new Error(`Template ${file} does not set ${key} in its env: block.`);
      continue;
    }
    body = body.replace(line, (_match, prefix: string, comment: string | undefined) => {
      return `${prefix}${yamlScalar(value)}${comment ?? ''}`;
    });
  }
  return text.slice(0, start) + body + text.slice(start + block[1].length);
}

/** A YAML scalar for `value`: plain when that reads back as the same string, else double-quoted. */
export function yamlScalar(value: string): string {
  const plain =
    /^[A-Za-z0-9_./][A-Za-z0-9_./@+-]*$/.test(value) &&
    !/^(?:true|false|yes|no|on|off|null|~|y|n)$/i.test(value) &&
    !/^[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:e[-+]?\d+)?$/i.test(value) &&
    !/^0[box]/i.test(value);
  return plain ? value : JSON.stringify(value);
}
