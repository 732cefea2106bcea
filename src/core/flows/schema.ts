/**
 * Contract inference as one flow, behind `mlops schema infer`: the out path is checked before the
 * data is read (not one of the inputs, and an existing contract, which the user may have edited, is
 * replaced only when the request says so), the data is profiled and a contract inferred from its
 * profile, and written where the request says. The adapter maps its flags to the request and prints.
 */
import { existsSync } from 'node:fs';
import type { DataContract } from '../data/contract.ts';
import { inferContract } from '../data/contract-infer.ts';
import { openTable } from '../data/open-table.ts';
import { profileTable } from '../data/profile-table.ts';
import { ConfigurationError } from '../errors.ts';
import { checkOutputPath, writeJsonAtomic } from '../files.ts';

/** How the adapter names the command and its flags, for messages (`mlops schema infer`, `--out`, …). */
export interface SchemaNames {
  command: string;
  data: string;
  out: string;
  force: string;
}

export interface SchemaRequest {
  /** The reference data the contract is inferred from. */
  data: string;
  /** Where to write the contract; nothing is written without it. */
  out?: string;
  /** Replace `out` when it exists. */
  force?: boolean;
  /** The label column, recorded in the contract. */
  target?: string;
  format?: 'csv' | 'jsonl' | 'parquet';
  delimiter?: string;
  names: SchemaNames;
}

export interface SchemaResult {
  contract: DataContract;
  /** How many columns the data has (each has a property in the contract). */
  columns: number;
  /** Where the contract was written, when the request named a path. */
  out?: string;
}

/**
 * Infers a data contract from the request's data. Throws `ConfigurationError` naming the flag before
 * the data is read when the out path is the data, a folder, or an existing file without `force`.
 */
export async function runSchemaInference(request: SchemaRequest): Promise<SchemaResult> {
  const { names, out } = request;
  if (out) checkOutputPath(out, [{ label: names.data, path: request.data }], names.out);
  if (out && existsSync(out) && !request.force) {
    throw new ConfigurationError(
      `${names.command}: ${out} exists; pass ${names.force} to overwrite it (your edits to it would be lost).`,
      { file: out },
    );
  }
  const reader = await openTable(request.data, { format: request.format, delimiter: request.delimiter });
  const profile = await profileTable(reader);
  const contract = inferContract(profile, { target: request.target });
  const columns = profile.columns.length;
  if (!out) return { contract, columns };
  await writeJsonAtomic(out, contract);
  return { contract, columns, out };
}
