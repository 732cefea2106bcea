/** Paths of the bundled example and helpers to write it in other formats for tests. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import reportSchema from '../../src/core/schemas/data-validation-report.schema.json' with { type: 'json' };
import { repoRoot } from '../harness/run-action.ts';

export const exampleDir = join(repoRoot, 'templates/example');
export const example = {
  train: join(exampleDir, 'data/train.csv'),
  test: join(exampleDir, 'data/test.csv'),
  drifted: join(exampleDir, 'data/drifted.csv'),
  contract: join(exampleDir, 'contract.json'),
};

/** A fresh temporary directory, removed after the test file's last test (see ./temp.ts). */
export { temporaryFolder as temporaryDirectory } from './temp.ts';

/** Parses a simple CSV (no quoted fields, as the example's) into header and numeric rows. */
export async function readSimpleCsv(path: string): Promise<{ header: string[]; rows: (number | null)[][] }> {
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  const header = lines[0].split(',');
  const rows = lines
    .slice(1)
    .map((line) => line.split(',').map((cell) => (cell === '' ? null : Number(cell))));
  return { header, rows };
}

/** Writes the same table as CSV.gz, JSONL, JSONL.gz and Parquet; returns their paths. */
export async function writeFormats(
  source: string,
  dir: string,
): Promise<Record<'csvGz' | 'jsonl' | 'jsonlGz' | 'parquet', string>> {
  const { header, rows } = await readSimpleCsv(source);
  const csv = await readFile(source);
  const jsonl = `${rows.map((row) => JSON.stringify(Object.fromEntries(header.map((name, i) => [name, row[i]])))).join('\n')}\n`;
  const paths = {
    csvGz: join(dir, 'data.csv.gz'),
    jsonl: join(dir, 'data.jsonl'),
    jsonlGz: join(dir, 'data.jsonl.gz'),
    parquet: join(dir, 'data.parquet'),
  };
  await writeFile(paths.csvGz, gzipSync(csv));
  await writeFile(paths.jsonl, jsonl);
  await writeFile(paths.jsonlGz, gzipSync(jsonl));
  const columnData = header.map((name, i) => ({
    name,
    data: rows.map((row) => row[i]),
    type: name === 'target' ? ('INT32' as const) : ('DOUBLE' as const),
  }));
  await writeFile(paths.parquet, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 50 })));
  return paths;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateReport = ajv.compile(reportSchema);

/** Asserts that a report conforms to the committed JSON Schema; returns the errors otherwise. */
export function reportSchemaErrors(report: unknown): string[] {
  return validateReport(report)
    ? []
    : (validateReport.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
