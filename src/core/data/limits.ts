/**
 * The documented limits of the data readers (README, "Limits"): what a hostile or broken file can
 * make the data gate hold in memory or spend time on. Each is checked where the data is read and
 * reported as an `InputError` naming the file (and the line, where there is one) and the limit.
 */
import { InputError } from '../errors.ts';

/**
 * Most columns a table may have. Every column costs per-column state in the profile, the contract
 * check and the row checks (a few KB each): 10,000 columns stay within a few hundred MB, while a
 * one-row CSV of 20,000 columns used to take gigabytes.
 */
export const MAX_COLUMNS = 10_000;

/** Deepest nesting of objects and arrays in a JSONL row (the row's own object is level 1). */
export const MAX_JSON_DEPTH = 100;

/** Longest JSONL line, in bytes: longer is a file that is not JSON Lines (or a whole JSON document on one line). */
export const MAX_LINE_BYTES = 64 << 20;

/** The error for a table wider than {@link MAX_COLUMNS}. */
export function tooManyColumnsError(file: string, found: string, line?: number): InputError {
  return new InputError(
    `${file}${line === undefined ? '' : ` line ${line}`}: the table has ${found} columns; at most ${MAX_COLUMNS.toLocaleString('en-US')} are supported ` +
      '(a limit that keeps memory bounded whatever the file holds). Select the columns the gate needs ' +
      '(e.g. `cut -d, -f1-100`, or `df[columns]` in pandas), or split the table.',
    line === undefined ? { file } : { file, line },
  );
}
