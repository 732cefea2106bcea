/**
 * `mlops.yaml`: the project configuration, validated against its JSON Schema with line numbers
 * and "did you mean" for typos.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { ConfigurationError } from '../errors.ts';
import { resolveRealPath } from '../files.ts';
import { describeYamlSchemaError, locateInYaml, pickSchemaError } from '../json/schema-errors.ts';
import schema from '../schemas/mlops-config.schema.json' with { type: 'json' };
import type { PValueCorrection } from '../stats/multiple-testing.ts';

export type Severity3 = 'error' | 'warning' | 'ignore';
export type DriftTestName = 'kolmogorov-smirnov' | 'chi-square' | 'psi' | 'jensen-shannon' | 'wasserstein';

/** The `data:` part of mlops.yaml, as written (kebab-case keys). */
export interface DataConfig {
  data?: string;
  reference?: string;
  train?: string;
  contract?: string;
  target?: string;
  format?: 'csv' | 'jsonl' | 'parquet';
  delimiter?: string;
  'missing-values'?: string[];
  'fail-on'?: 'error' | 'warning' | 'never';
  checks?: {
    duplicates?: Severity3;
    leakage?: Severity3;
    'unexpected-columns'?: Severity3;
    drift?: Severity3;
  };
  drift?: {
    'small-sample-max'?: number;
    'p-value'?: number;
    correction?: PValueCorrection;
    'kolmogorov-smirnov'?: number;
    psi?: number;
    'jensen-shannon'?: number;
    wasserstein?: number;
    'dataset-share'?: number;
    ignore?: string[];
    columns?: Record<string, { test?: DriftTestName; 'min-effect'?: number; threshold?: number }>;
  };
  leakage?: { 'p-value'?: number; 'max-share'?: number };
  profile?: { 'exact-values'?: number; 'exact-distinct'?: number; 'top-values'?: number };
}

/** One `model.thresholds` entry, as written. */
export interface ThresholdConfig {
  metric: string;
  min?: number;
  max?: number;
  'max-decrease'?: number;
  'max-increase'?: number;
  relative?: boolean;
  confidence?: 'point' | 'interval' | 'noninferior';
  slice?: string;
}

/** The `model:` part of mlops.yaml, as written (kebab-case keys). */
export interface ModelConfig {
  model?: string;
  baseline?: string;
  data?: string;
  contract?: string;
  task?: 'binary' | 'multiclass' | 'regression';
  target?: string;
  features?: string[];
  output?: { name?: string; kind?: 'probabilities' | 'logits' | 'values' };
  classes?: (string | number)[];
  threshold?: number;
  missing?: 'error' | 'nan' | 'drop';
  'batch-rows'?: number;
  'on-missing-baseline'?: 'fail' | 'skip' | 'value-only';
  bootstrap?: false | { resamples?: number; seed?: number; level?: number };
  'min-rows'?: number;
  gates?: string[];
  thresholds?: ThresholdConfig[];
  slices?: { columns?: string[]; buckets?: Record<string, number[]>; 'min-rows'?: number };
  budgets?: { 'latency-p95-ms'?: number; 'latency-p99-ms'?: number; 'size-mb'?: number };
  golden?: { path: string; atol?: number; rtol?: number };
}

/** The `deploy:` part of mlops.yaml, as written. */
export interface DeployConfig {
  repository?: string;
  base?: string;
  environments?: Record<
    string,
    {
      labels?: string[];
      reviewers?: string[];
      draft?: boolean;
      'auto-merge'?: 'merge' | 'squash' | 'rebase';
      targets?: { file: string; field: string; value: string; document?: number }[];
    }
  >;
}

export interface MlopsConfig {
  version?: 1;
  data?: DataConfig;
  model?: ModelConfig;
  deploy?: DeployConfig;
}

/** A loaded config with the folder its relative paths are resolved against. */
export interface LoadedConfig {
  config: MlopsConfig;
  file: string;
  /** Resolves a path written in the config relative to the config file. */
  resolvePath(path: string): string;
}

/**
 * YAML aliases (`*name`) a config may expand, in all: a "billion laughs" file of nested aliases
 * expands to gigabytes from a few lines, and mlops.yaml needs no aliases at all in practice.
 */
export const MAX_ALIAS_COUNT = 100;

/** The keys of mlops.yaml that hold paths (relative to the config file, kept inside the repository). */
const PATH_KEYS = [
  ['data', 'data'],
  ['data', 'reference'],
  ['data', 'train'],
  ['data', 'contract'],
  ['model', 'model'],
  ['model', 'baseline'],
  ['model', 'data'],
  ['model', 'contract'],
  ['model', 'golden', 'path'],
] as const;

// verbose: errors carry the failing subschema (the keys allowed where an unknown one was found).
const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
const validateSchema = ajv.compile<MlopsConfig>(schema);

/**
 * Reads and validates an `mlops.yaml`. Throws `ConfigurationError` with the line and key of any
 * mistake, including a path that leads out of the repository (see {@link findConfigRoot}).
 */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `Config file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). Check the path, or leave the config input empty to use defaults.`,
      { file },
    );
  }
  const parsed = parseConfigDocument(text, file);
  const base = dirname(resolve(file));
  checkConfigPaths(parsed, file, base, findConfigRoot(file));
  return { config: parsed.config, file, resolvePath: (path) => resolveConfigPath(base, path) };
}

/** Parses and validates config text; `file` is used in messages. */
export function parseConfig(text: string, file: string): MlopsConfig {
  return parseConfigDocument(text, file).config;
}

interface ParsedConfig {
  config: MlopsConfig;
  document: Document;
  lineCounter: LineCounter;
}

function parseConfigDocument(text: string, file: string): ParsedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first.linePos?.[0].line;
    throw new ConfigurationError(
      `${file}${line ? `:${line}` : ''} is not valid YAML: ${first.message.split('\n')[0]}`,
      { file, line },
    );
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    // The yaml package throws a ReferenceError ("Excessive alias count …") past the limit.
    if (!(error instanceof ReferenceError)) throw error;
    throw new ConfigurationError(
      `${file} expands YAML aliases (*name) more than ${MAX_ALIAS_COUNT} times, as a "billion laughs" file does to exhaust memory: write the values out instead of aliasing them.`,
      { file },
    );
  }
  if (!validateSchema(value)) {
    const error = pickSchemaError(validateSchema.errors ?? [])!;
    const { line, source } = locateInYaml(document, lineCounter, error);
    const { key, message } = describeYamlSchemaError(error, source);
    throw new ConfigurationError(`${file}${line ? `:${line}` : ''}: ${message}`, {
      file,
      line,
      key: key || undefined,
    });
  }
  return { config: value, document, lineCounter };
}

/**
 * The folder the config's paths must stay inside: the git repository that holds the config file
 * (the nearest folder above it with a `.git`), or, outside any git repository, the config file's
 * own folder. A pull request edits mlops.yaml: a path out of the repository
 * (`data: ../../etc/passwd`, an absolute path elsewhere, a symbolic link leading out) would make the
 * gates read, report on and package files of the machine that runs them.
 */
export function findConfigRoot(file: string): string {
  const folder = dirname(resolve(file));
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return folder;
  }
}

/** Refuses, naming the key and its line, every path of the config that resolves outside `root`. */
function checkConfigPaths(parsed: ParsedConfig, file: string, base: string, root: string): void {
  const realRoot = resolveRealPath(root);
  for (const keys of PATH_KEYS) {
    let value: unknown = parsed.config;
    for (const key of keys) value = (value as Record<string, unknown> | undefined)?.[key];
    if (typeof value !== 'string') continue;
    // A deployed model as the baseline is a name, not a path.
    if (keys[1] === 'baseline' && value.startsWith('environment:')) continue;
    const inside = relative(realRoot, resolveRealPath(resolve(base, value)));
    if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) continue;
    const key = keys.join('.');
    const { line } = locateInYaml(parsed.document, parsed.lineCounter, {
      instancePath: `/${keys.join('/')}`,
      keyword: 'path',
    } as ErrorObject);
    throw new ConfigurationError(
      `"${key}" is ${value}, which is outside the repository ${root}: paths in mlops.yaml are relative to it and must stay inside the repository (symbolic links included). Move the file into the repository, or give it as an input or flag instead.`,
      { file, line, key },
    );
  }
}

/**
 * A path from the config, relative to the config's folder. Returned relative to the working directory
 * when it lies inside it, so reports, annotations and PR comments show `data/test.csv` rather than
 * the runner's absolute checkout path.
 */
export function resolveConfigPath(base: string, path: string): string {
  const absolute = resolve(base, path);
  const fromCwd = relative(process.cwd(), absolute);
  return fromCwd === '' || fromCwd.startsWith('..') || isAbsolute(fromCwd) ? absolute : fromCwd;
}
