/**
 * Numbers, counts, sizes, durations and budgets as every renderer writes them: the Markdown of job
 * summaries, check runs and PR comments, and the plain text the CLI prints use these functions
 * only, so the same report reads the same everywhere (`1,000 rows`, `47.1 KiB`, `≤ 977 KiB`).
 */
import { formatNumber } from '../data/validate-data.ts';
import type { BudgetResult } from '../model/report-types.ts';

export { formatNumber };

/** A number as a report may hold it: NaN in memory, null once it went through JSON. */
export type ReportNumber = number | null | undefined;
/** An interval as a report may hold it. */
export type ReportInterval = [ReportNumber, ReportNumber] | undefined;

/** True for a number that is not NaN (null and undefined are not numbers). */
export function isNumber(value: ReportNumber): value is number {
  return typeof value === 'number' && !Number.isNaN(value);
}

/** A value to 4 significant digits; `n/a` when undefined (NaN, or null after JSON). */
export function formatValue(value: ReportNumber): string {
  return isNumber(value) ? formatNumber(value) : 'n/a';
}

/** Like {@link formatValue}, with a `+` on positive values (changes). */
export function formatSigned(value: ReportNumber): string {
  return isNumber(value) && value > 0 ? `+${formatNumber(value)}` : formatValue(value);
}

/** `[low, high]`, empty when there is no interval. */
export function formatInterval(interval: ReportInterval, signed = false): string {
  if (!interval) return '';
  const format = signed ? formatSigned : formatValue;
  return `[${format(interval[0])}, ${format(interval[1])}]`;
}

/** A count with thousands separators: `104,894`; `n/a` when undefined. Fractions are rounded. */
export function formatCount(count: ReportNumber): string {
  return isNumber(count) ? Math.round(count).toLocaleString('en-US') : 'n/a';
}

/** A count with its noun, singular for 1: `1 row`, `1,000 rows`. */
export function formatQuantity(count: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : plural}`;
}

/** Rows: `1 row`, `104,894 rows`. */
export function formatRows(count: number): string {
  return formatQuantity(count, 'row');
}

/** Bytes in B, KiB, MiB or GiB (powers of 1024), three significant digits: `2,474 B` is `2.42 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${formatCount(bytes)} B` : `${Number(value.toPrecision(3))} ${units[unit]}`;
}

/** A duration in milliseconds: `0.081 ms`, `n/a ms` when not measured. */
export function formatMilliseconds(ms: ReportNumber): string {
  return `${formatValue(ms)} ms`;
}

/** Throughput: `412,346 rows/s`; `n/a` when undefined. */
export function formatThroughput(rowsPerSecond: ReportNumber): string {
  return isNumber(rowsPerSecond) ? `${formatCount(rowsPerSecond)} rows/s` : 'n/a';
}

/** A budget's measure (value or limit) in its unit: milliseconds for latency, bytes for size. */
export function formatBudgetMeasure(budget: BudgetResult['budget'], value: number): string {
  return budget === 'size-bytes' ? formatBytes(value) : formatMilliseconds(value);
}

/** A budget's limit as a condition: `≤ 5 ms`, `≤ 977 KiB`. */
export function formatBudgetLimit(result: Pick<BudgetResult, 'budget' | 'limit'>): string {
  return `≤ ${formatBudgetMeasure(result.budget, result.limit)}`;
}

/**
 * A budget's result in one phrase, the same in the CLI and in Markdown:
 * `size-bytes 2.42 KiB (budget ≤ 977 KiB)`, or `latency-p95-ms not measured (budget ≤ 5 ms)`.
 * Whether it passed is said next to it (a status column, PASSED/FAILED).
 */
export function describeBudget(result: Pick<BudgetResult, 'budget' | 'limit' | 'value'>): string {
  const value = result.value as ReportNumber;
  const measured = isNumber(value) ? formatBudgetMeasure(result.budget, value) : 'not measured';
  return `${result.budget} ${measured} (budget ${formatBudgetLimit(result)})`;
}
