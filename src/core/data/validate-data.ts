/**
 * The data gate: one streaming pass over the data feeds the profile, the contract check and the
 * row checks together; drift compares the profile with the reference's. The result is a
 * `data-validation` report (see src/core/schemas/data-validation-report.schema.json).
 */

import { extname } from 'node:path';
import { digestFile } from '../digest.ts';
import { ConfigurationError, InputError } from '../errors.ts';
import { readJsonFile } from '../json/file.ts';
import type { Logger } from '../logger.ts';
import { silentLogger } from '../logger.ts';
import { didYouMean } from '../suggest.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import type { ReadOptions, TableReader } from './batch.ts';
import { type DataContract, loadContract } from './contract.ts';
import { type ContractChecker, createContractChecker } from './contract-check.ts';
import {
  type ColumnComparison,
  type ColumnDistribution,
  compareDistributions,
  type DriftDecisions,
  type DriftOptions,
  decideDrift,
  formatStatistic,
} from './drift.ts';
import {
  type BatchConsumer,
  DATA_CHECKS,
  type FailOn,
  type Finding,
  type Severity,
  sortFindings,
} from './findings.ts';
import { openTable } from './open-table.ts';
import { chooseProfiler, type ParallelMode } from './parallel-profile.ts';
import {
  categoryCounts,
  cumulativeShare,
  DEFAULT_PROFILE_OPTIONS,
  numericCount,
  parseProfile,
  sortedValues,
  valueAtQuantile,
} from './profile.ts';
import { profileTable } from './profile-table.ts';
import type { ColumnProfile, DataProfile, ProfileOptions } from './profile-types.ts';
import { createDuplicateRowChecker, createLeakageChecker, createTrainingRowIndex } from './row-checks.ts';

export type CheckLevel = 'error' | 'warning' | 'ignore';

/**
 * Default drift decisions (documented in the README and the action's README): Holm-adjusted
 * p-values below 0.05 across the columns of a run, and an effect of at least 0.1.
 */
export const DEFAULT_DRIFT_OPTIONS: DriftOptions = {
  smallSampleMax: 1000,
  pValue: 0.05,
  correction: 'holm',
  ks: 0.1,
  psi: 0.1,
  jensenShannon: 0.1,
  wasserstein: 0.1,
};

export interface ValidateDataOptions {
  /** The data to validate. */
  data: string;
  /** Reference data, or a saved `profile.json`, for drift. */
  reference?: string;
  /** The data contract (JSON Schema of a row, with `x-mlops` rules). */
  contract?: string;
  /** Training data, for the train/test leakage check. */
  train?: string;
  /** The config file the options came from, listed among the inputs. */
  config?: string;
  /** Label column: left out of drift (its drift is a model-gate matter). */
  target?: string;
  read?: ReadOptions;
  missingTokens?: readonly string[];
  failOn?: FailOn;
  checks?: {
    duplicates?: CheckLevel;
    leakage?: CheckLevel;
    unexpectedColumns?: CheckLevel;
    drift?: CheckLevel;
  };
  drift?: Partial<DriftOptions> & { ignore?: string[] };
  /** When shared rows count as leakage (see `decideLeakage`). */
  leakage?: { pValue?: number; maxShare?: number };
  profile?: Partial<ProfileOptions>;
  /** Profile on a second thread: `auto` (large CSV files), `always`, or `never`. */
  parallel?: ParallelMode;
}

export interface InputDescription {
  path: string;
  sha256: string;
  bytes?: number;
  rows?: number;
  format?: string;
  compressed?: boolean;
  kind?: 'data' | 'profile' | 'contract' | 'config';
}

/** The `data-validation` report, version 2 (version 1 had per-column thresholds and no adjusted p-values). */
export interface DataValidationReport {
  kind: 'data-validation';
  version: 2;
  passed: boolean;
  failOn: FailOn;
  tool: { name: typeof TOOL_NAME; version: string };
  summary: {
    rows: number;
    columns: number;
    findings: Record<Severity, number>;
    driftedColumns: number;
  };
  inputs: {
    data: InputDescription;
    reference?: InputDescription;
    train?: InputDescription;
    contract?: InputDescription;
    config?: InputDescription;
  };
  findings: Finding[];
  drift?: { reference: string } & DriftDecisions;
  profile: DataProfile | { path: string };
}

/**
 * Runs the data gate. Throws `InputError`/`ConfigurationError` for unreadable inputs or a bad
 * contract (the caller reports them as such, never as a failed validation); returns a report
 * whose `passed` says whether the gate passed.
 */
export async function validateData(
  options: ValidateDataOptions,
  logger: Logger = silentLogger,
): Promise<DataValidationReport> {
  const failOn = options.failOn ?? 'error';
  const contract: DataContract | undefined = options.contract
    ? await loadContract(options.contract)
    : undefined;
  // Precedence: the config or flags, then the contract's x-mlops, then the defaults. Unexpected
  // columns are the contract checker's to judge (additionalProperties, x-mlops.unexpectedColumns);
  // only an explicit `options.checks.unexpectedColumns` overrides it, below.
  const checks = {
    duplicates: contract?.['x-mlops']?.duplicateRows ?? 'warning',
    leakage: 'error',
    drift: 'error',
    ...options.checks,
  } satisfies NonNullable<ValidateDataOptions['checks']>;
  const profileOptions: Partial<ProfileOptions> = { ...options.profile };
  if (options.missingTokens) profileOptions.missingTokens = options.missingTokens;
  const missingTokens = options.missingTokens ?? DEFAULT_PROFILE_OPTIONS.missingTokens;

  // Start hashing every input on a worker thread right away; parsing runs meanwhile.
  const digests = {
    data: digestFile(options.data),
    reference: options.reference ? digestFile(options.reference) : undefined,
    train: options.train ? digestFile(options.train) : undefined,
    contract: options.contract ? digestFile(options.contract) : undefined,
    config: options.config ? digestFile(options.config) : undefined,
  };
  // Unobserved rejections would crash the process before we report the real error.
  for (const promise of Object.values(digests)) promise?.catch(() => {});

  // Open the data first: its columns decide which training columns the leakage check compares.
  const reader = await openTable(options.data, options.read);
  if (reader.format !== 'jsonl') checkNamedColumns(options, reader.columns, undefined);

  let trainingIndex: ReturnType<typeof createTrainingRowIndex> | undefined;
  let trainRows: number | undefined;
  let trainReader: TableReader | undefined;
  if (options.train && checks.leakage !== 'ignore') {
    logger.info(`Indexing training rows of ${options.train} for the leakage check`);
    trainReader = await openTable(options.train, options.read);
    trainingIndex = createTrainingRowIndex({ missingTokens, columns: reader.columns, file: options.train });
    trainRows = await scan(trainReader, [trainingIndex]);
  }

  let referenceProfile: DataProfile | undefined;
  let referenceInput: Omit<InputDescription, 'sha256'> | undefined;
  if (options.reference) {
    if (isProfileFile(options.reference)) {
      logger.info(`Reading the reference profile ${options.reference}`);
      referenceProfile = await readProfileFile(options.reference);
      referenceInput = { path: options.reference, kind: 'profile', rows: referenceProfile.rows };
    } else {
      logger.info(`Profiling the reference data ${options.reference}`);
      const referenceReader = await openTable(options.reference, options.read);
      const profiled: DataProfile = await profileTable(referenceReader, profileOptions);
      referenceProfile = profiled;
      referenceInput = {
        path: options.reference,
        kind: 'data',
        rows: profiled.rows,
        format: referenceReader.format,
        compressed: referenceReader.compressed,
      };
    }
  }

  // Columns the gate is told about must exist: otherwise it would pass having checked nothing.
  // JSONL files may gain columns late, so they are checked again after the scan.
  if (reader.format !== 'jsonl') checkNamedColumns(options, reader.columns, referenceProfile);

  logger.info(`Validating ${options.data}`);
  const contractOptions = {
    file: options.data,
    missingTokens,
    unexpectedColumns: options.checks?.unexpectedColumns,
  };
  // For large CSV files the profile and the contract check go to a second core; this thread keeps
  // tokenizing and the row checks.
  const profiler = await chooseProfiler(
    reader,
    profileOptions,
    options.parallel,
    { main: 0, of: 1 },
    contract ? { contract, options: contractOptions } : undefined,
  );
  const consumers: BatchConsumer[] = [profiler];
  let contractChecker: ContractChecker | undefined;
  if (contract && profiler.contractFindings === undefined) {
    contractChecker = createContractChecker(contract, contractOptions);
    consumers.push(contractChecker);
  }
  const duplicateChecker =
    checks.duplicates === 'ignore'
      ? undefined
      : createDuplicateRowChecker({ file: options.data, missingTokens, severity: checks.duplicates });
  if (duplicateChecker) consumers.push(duplicateChecker);
  const leakageChecker = trainingIndex
    ? createLeakageChecker(trainingIndex, {
        file: options.data,
        severity: checks.leakage as Severity,
        trainFile: options.train,
        ...options.leakage,
      })
    : undefined;
  if (leakageChecker) consumers.push(leakageChecker);

  let rows: number;
  try {
    rows = await scan(reader, consumers);
  } catch (error) {
    await profiler.close?.();
    throw error;
  }
  if (rows === 0) {
    await profiler.close?.();
    throw new InputError(
      `${options.data} has no data rows${reader.format === 'csv' ? ' (only a header line)' : ''}: there is nothing to validate. Check that the right file was given and that it was written completely.`,
      { file: options.data },
    );
  }
  const profile = await profiler.finish([{ path: options.data, format: reader.format, rows }]);
  checkNamedColumns(options, reader.columns, referenceProfile);

  const findings: Finding[] = [];
  if (contractChecker) findings.push(...contractChecker.finish(rows, reader.columns));
  else if (profiler.contractFindings) findings.push(...profiler.contractFindings());
  const duplicate = duplicateChecker?.finish();
  if (duplicate) findings.push(duplicate);
  const leakage = leakageChecker?.finish();
  if (leakage) findings.push(leakage);

  let drift: DataValidationReport['drift'];
  if (referenceProfile && options.reference) {
    const driftOptions = buildDriftOptions(options, contract);
    const ignored = new Set([...(options.drift?.ignore ?? []), ...(options.target ? [options.target] : [])]);
    const comparisons: ColumnComparison[] = [];
    for (const current of profile.columns) {
      if (ignored.has(current.name)) continue;
      const reference = referenceProfile.columns.find((c) => c.name === current.name);
      if (!reference) continue;
      const referenceDistribution = toDistribution(reference, current);
      const currentDistribution = toDistribution(current, reference);
      if (!referenceDistribution || !currentDistribution) continue;
      comparisons.push(
        compareDistributions(current.name, referenceDistribution, currentDistribution, driftOptions),
      );
    }
    const decisions = decideDrift(comparisons, driftOptions);
    drift = { reference: options.reference, ...decisions };
    if (checks.drift !== 'ignore') findings.push(...driftFindings(decisions, checks.drift, options.data));
  }

  const sorted = sortFindings(findings);
  const counts = { error: 0, warning: 0, info: 0 };
  for (const finding of sorted) counts[finding.severity]++;
  const passed =
    failOn === 'never'
      ? true
      : failOn === 'warning'
        ? counts.error + counts.warning === 0
        : counts.error === 0;

  const dataDigest = await digests.data;
  const inputs: DataValidationReport['inputs'] = {
    data: {
      path: options.data,
      kind: 'data',
      format: reader.format,
      compressed: reader.compressed,
      rows,
      ...dataDigest,
    },
  };
  if (digests.reference && referenceInput)
    inputs.reference = { ...referenceInput, ...(await digests.reference) };
  if (digests.train)
    inputs.train = {
      path: options.train!,
      kind: 'data',
      rows: trainRows,
      format: trainReader?.format,
      ...(await digests.train),
    };
  if (digests.contract)
    inputs.contract = { path: options.contract!, kind: 'contract', ...(await digests.contract) };
  if (digests.config) inputs.config = { path: options.config!, kind: 'config', ...(await digests.config) };
  if (profile.sources[0]) profile.sources[0].sha256 = dataDigest.sha256;

  return {
    kind: 'data-validation',
    version: 2,
    passed,
    failOn,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    summary: {
      rows,
      columns: reader.columns.length,
      findings: counts,
      driftedColumns: drift ? drift.columns.filter((c) => c.drifted).length : 0,
    },
    inputs,
    findings: sorted,
    ...(drift ? { drift } : {}),
    profile,
  };
}

/**
 * Refuses a target that is not a column of the data (the real label would be drift-tested and the
 * gate pass), and reference data that shares no column with the data (drift would compare
 * nothing: "0 of 0 columns drifted").
 */
function checkNamedColumns(
  options: ValidateDataOptions,
  columns: readonly string[],
  reference: DataProfile | undefined,
): void {
  const target = options.target;
  if (target !== undefined && !columns.includes(target)) {
    throw new ConfigurationError(
      `The target column ${JSON.stringify(target)} is not a column of ${options.data} (its columns: ${listColumns(columns)}).${didYouMean(target, columns)} ` +
        'Set the target (--target, the action input target, or data.target in mlops.yaml) to the name of the label column, or leave it out for data without labels.',
      { file: options.data, key: 'target' },
    );
  }
  if (reference === undefined || !options.reference || columns.length === 0) return;
  const referenceColumns = reference.columns.map((column) => column.name);
  const known = new Set(referenceColumns);
  if (columns.some((name) => known.has(name))) return;
  throw new InputError(
    `The reference ${options.reference} shares no column with the data ${options.data}: drift compares columns by name, so nothing would be compared. ` +
      `Reference columns: ${listColumns(referenceColumns)}. Data columns: ${listColumns(columns)}. ` +
      'Check that both files are the right ones and that both have a header with the same column names.',
    { file: options.reference },
  );
}

/** Column names for a message: quoted, the first 20. */
function listColumns(columns: readonly string[]): string {
  if (columns.length === 0) return '(none)';
  const shown = columns
    .slice(0, 20)
    .map((name) => JSON.stringify(name.length > 60 ? `${name.slice(0, 59)}…` : name));
  return shown.join(', ') + (columns.length > 20 ? ` and ${columns.length - 20} more` : '');
}

/** Feeds every batch of a table to the consumers; returns the number of rows. */
export async function scan(reader: TableReader, consumers: readonly BatchConsumer[]): Promise<number> {
  let rows = 0;
  for await (const batch of reader.batches()) {
    for (const consumer of consumers) {
      const pending = consumer.add(batch, reader.columns);
      if (pending) await pending;
    }
    rows += batch.length;
  }
  return rows;
}

/** `.json` (not `.jsonl`) references are saved profiles. */
function isProfileFile(path: string): boolean {
  return extname(path).toLowerCase() === '.json';
}

/** Reads a saved `profile.json` (from `mlops profile`) as a reference. */
export async function readProfileFile(path: string): Promise<DataProfile> {
  const json = await readJsonFile(path, 'Reference profile', {
    readHint: 'Check the path.',
    parseHint: 'Write it with `mlops profile --out`.',
  });
  return parseProfile(json, path);
}

function buildDriftOptions(options: ValidateDataOptions, contract: DataContract | undefined): DriftOptions {
  const { ignore: _ignore, ...given } = options.drift ?? {};
  const columns: NonNullable<DriftOptions['columns']> = {};
  // Per-column drift settings in the contract's x-mlops, overridden by the config's.
  for (const [name, rules] of Object.entries(contract?.['x-mlops']?.columns ?? {})) {
    if (!rules.drift) continue;
    refuseVersionOneThreshold(rules.drift, `the contract's x-mlops.columns.${name}.drift`, 'minEffect');
    columns[name] = { ...rules.drift };
  }
  for (const [name, rules] of Object.entries(given.columns ?? {})) {
    refuseVersionOneThreshold(rules, `drift.columns.${name}`, 'min-effect');
    columns[name] = { ...columns[name], ...rules };
  }
  return { ...DEFAULT_DRIFT_OPTIONS, ...given, columns };
}

/**
 * Version 1 read a per-column `threshold` as a p-value (KS, chi-square) or a distance; since p-values
 * are adjusted across columns and every test has an effect floor, the old key would mean
 * something else now: refuse it and say what replaced it.
 */
function refuseVersionOneThreshold(rules: { threshold?: number }, where: string, floorKey: string): void {
  if (rules.threshold === undefined) return;
  throw new ConfigurationError(
    `${where}.threshold is no longer read: drift p-values are now adjusted across all compared columns (drift.p-value and drift.correction in mlops.yaml), and each test has an effect floor. Remove threshold; to require a larger (or allow a smaller) change for this column, set ${where}.${floorKey} (KS D, PSI, Jensen–Shannon distance or normalized Wasserstein).`,
    { key: `${where}.threshold` },
  );
}

const NUMERIC_TYPES = new Set(['integer', 'number', 'datetime']);

/**
 * The distribution drift compares, from a column profile. A column is numeric when both sides
 * are numeric; a boolean or low-cardinality column is compared by its categories.
 */
export function toDistribution(column: ColumnProfile, other: ColumnProfile): ColumnDistribution | undefined {
  if (column.type === 'empty' && other.type === 'empty') return undefined;
  const numeric = NUMERIC_TYPES.has(column.type) && (NUMERIC_TYPES.has(other.type) || other.type === 'empty');
  if (numeric && column.numeric) {
    return {
      kind: 'numeric',
      // The values compared: infinities are counted in the profile but left out of its statistics.
      count: numericCount(column),
      sorted: sortedValues(column),
      cdf: (x) => cumulativeShare(column, x),
      quantile: (q) => valueAtQuantile(column, q),
      std: column.numeric.std,
    };
  }
  if (numeric)
    return {
      kind: 'numeric',
      count: 0,
      sorted: new Float64Array(0),
      cdf: () => 0,
      quantile: () => Number.NaN,
      std: 0,
    };
  return { kind: 'categorical', count: column.count, counts: categoryCounts(column) };
}

/**
 * Findings of a drift decision: a drifted column at the check's severity (a warning when
 * dataset-level drift decides, which then adds one finding for the data set), a significant but
 * negligible change as info. Each message carries the rule that decided it.
 */
function driftFindings(decisions: DriftDecisions, severity: Severity, file: string): Finding[] {
  const findings: Finding[] = [];
  const dataset = decisions.dataset;
  for (const column of decisions.columns) {
    if (column.decision !== 'drifted' && column.decision !== 'negligible') continue;
    const drifted = column.decision === 'drifted';
    findings.push({
      check: DATA_CHECKS.drift,
      severity: !drifted ? 'info' : dataset && severity === 'error' ? 'warning' : severity,
      column: column.column,
      message: describeDrift(column),
      count: 1,
      file,
    });
  }
  if (dataset?.result) {
    findings.push({
      check: DATA_CHECKS.drift,
      severity,
      message: `The data set drifted from the reference: ${dataset.rule} (drift.dataset-share).`,
      count: dataset.drifted,
      file,
    });
  }
  return findings;
}

function describeDrift(column: DriftDecisions['columns'][number]): string {
  const unseen = column.unseenCategories?.length
    ? `; unseen categories: ${column.unseenCategories
        .slice(0, 5)
        .map((c) => `"${c.value}" (${c.count})`)
        .join(', ')}`
    : '';
  const verdict = column.drifted ? 'drifted from the reference' : 'changed a little';
  return `column "${column.column}" ${verdict}: ${column.test}, ${column.rule}, on ${column.referenceCount} reference and ${column.currentCount} current values${unseen}.`;
}

/** Compact number formatting for messages (4 significant digits, scientific when tiny). */
export const formatNumber = formatStatistic;
