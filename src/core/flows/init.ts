/**
 * Setting up a repository as one flow, behind `mlops init`: the plan (workflows, mlops.yaml, with
 * data the contract; see init/init.ts) is made for the folder the request names (default: the one
 * the run starts in), then either only compared with what exists (a dry run) or written, which needs
 * `force` when a file exists with other content. The adapter maps its flags to the request and
 * renders what each file became.
 */
import {
  conflicts,
  type FileChange,
  fileChange,
  type InitPlan,
  type PlannedFile,
  planInit,
  writeInitPlan,
} from '../init/init.ts';
import { parseStackKind } from '../init/stack.ts';

export interface InitRequest {
  /** The repository to set up, relative to `cwd` (default `.`). */
  dir?: string;
  /** The folder the run starts in. */
  cwd: string;
  /** The folder holding the workflow templates (where the adapter is installed). */
  templatesDir: string;
  /** Data in the repository (relative to `dir`) to fill mlops.yaml in from and infer a contract from. */
  data?: string;
  target?: string;
  name?: string;
  /** python, node or other; default: detected from the project's files. */
  stack?: string;
  /** Overwrite files that exist with other content. */
  force: boolean;
  /** Write nothing: only say what would change. */
  dryRun: boolean;
}

export interface InitResult {
  plan: InitPlan;
  dryRun: boolean;
  /** Every planned file with what writing it does (a dry run) or did. */
  files: { file: PlannedFile; change: FileChange }[];
  /** The files that existed with other content (a dry run's diffs; written over only with force). */
  blocked: PlannedFile[];
  /** A dry run whose write would be refused without force. */
  needsForce: boolean;
}

/**
 * Plans the setup and writes it unless the request is a dry run. Throws `ConfigurationError` for an
 * unknown stack, a bad name or data (see planInit), and, when writing, for files that exist with
 * other content without `force` (nothing is written then).
 */
export async function runInit(request: InitRequest): Promise<InitResult> {
  const plan = await planInit({
    // Stryker disable next-line StringLiteral: '' resolves to the same folder as '.'
    dir: request.dir ?? '.',
    cwd: request.cwd,
    templatesDir: request.templatesDir,
    data: request.data,
    target: request.target,
    name: request.name,
    ...(request.stack ? { stack: parseStackKind(request.stack) } : {}),
  });
  const files = request.dryRun ? plan.files : await writeInitPlan(plan, { force: request.force });
  const blocked = conflicts(files);
  return {
    plan,
    dryRun: request.dryRun,
    files: files.map((file) => ({ file, change: fileChange(file) })),
    blocked,
    needsForce: request.dryRun && blocked.length > 0 && !request.force,
  };
}
