/**
 * What the labels say about the task, for models whose output alone does not: a network that ends
 * in one float column may output P(positive) or a regression value, and only the target tells
 * (0/1 labels, or real numbers).
 */
import type { ReadOptions } from '../data/batch.ts';
import { cellValue, MissingTokens } from '../data/cells.ts';
import { openTable } from '../data/open-table.ts';

/** `classes`: booleans, text or a few integers; `real`: numbers with a fraction, or many distinct integers. */
export type TargetKind = 'classes' | 'real';

/** Rows read to decide; the decision only needs the first values. */
const SAMPLE_ROWS = 10_000;
/** Distinct integer labels beyond which integers are read as a quantity (as `mlops init` does). */
const MAX_INTEGER_CLASSES = 20;

/**
 * The kind of the target column of a table, from its first (up to 10,000) non-missing values;
 * undefined when the column is absent or every sampled value is missing.
 */
export async function readTargetKind(
  path: string,
  target: string,
  read: ReadOptions | undefined,
  missingTokens?: readonly string[],
): Promise<TargetKind | undefined> {
  const reader = await openTable(path, read);
  const missing = new MissingTokens(missingTokens);
  let seen = 0;
  let numeric = 0;
  let fractional = false;
  const integers = new Set<number>();
  for await (const batch of reader.batches()) {
    const index = reader.columns.indexOf(target);
    if (index < 0) return undefined;
    const column = batch.columns[index];
    for (let i = 0; i < batch.length && seen < SAMPLE_ROWS; i++) {
      const raw = cellValue(column, i);
      if (raw === null || raw === undefined) continue;
      const text = typeof raw === 'string' ? raw.trim() : undefined;
      if (text !== undefined && (text === '' || missing.isMissingValue(text))) continue;
      seen++;
      const value =
        typeof raw === 'number' ? raw : text !== undefined && text !== '' ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) continue;
      numeric++;
      if (!Number.isInteger(value)) fractional = true;
      else if (integers.size <= MAX_INTEGER_CLASSES) integers.add(value);
    }
    if (seen >= SAMPLE_ROWS) break;
  }
  if (seen === 0) return undefined;
  if (numeric < seen) return 'classes';
  return fractional || integers.size > MAX_INTEGER_CLASSES ? 'real' : 'classes';
}
