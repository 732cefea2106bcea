// Types of generate-docs.js for the TypeScript tests (the script is plain JS run by Node).

export const REPO_ROOT: string;
export const FIX_COMMAND: string;
export const CONFIG_SCHEMA_PATH: string;

export class DocsError extends Error {}

export interface ActionInput {
  name: string;
  description: string;
  required: boolean;
  default?: string;
}
export interface ActionOutput {
  name: string;
  description: string;
}
export interface ActionInfo {
  name: string;
  file: string;
  description: string;
  inputs: ActionInput[];
  outputs: ActionOutput[];
}
export interface SchemaRow {
  path: string;
  type: string;
  description: string;
}
export interface DocFile {
  file: string;
  current: string;
  expected: string;
  stale: { section: string; current: string; expected: string }[];
}

export function escapeCell(text: string): string;
export function codeSpan(text: string): string;
export function describeCell(text: string): string;
export function renderTable(header: string[], rows: string[][]): string;
export function parseAction(text: string, name: string, file: string): ActionInfo;
export function loadActions(root: string): ActionInfo[];
export function renderActionsTable(actions: ActionInfo[]): string;
export function renderInputsTable(action: ActionInfo): string;
export function renderOutputsTable(action: ActionInfo): string;
export function describeType(root: object, schema: object, nested?: boolean): string;
export function walkSchema(root: object, schema?: object, path?: string): SchemaRow[];
export function renderConfigReference(schema: object): string;
export function findSections(text: string, file: string): Map<string, { start: number; end: number }>;
export function fillSections(
  text: string,
  contents: Record<string, string>,
  file: string,
  options: { required: boolean },
): string;
export function generateDocs(root: string): DocFile[];
export function diffLines(current: string, expected: string, limit?: number): string;
export function checkDocs(root: string): string[];
export function writeDocs(root: string): string[];
export function main(
  args: string[],
  io?: { root?: string; stdout?: (text: string) => void; stderr?: (text: string) => void },
): number;
