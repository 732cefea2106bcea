import { ConfigurationError } from '../../core/errors.ts';
import type { SchemaNames } from '../../core/flows/schema.ts';
import { type Command, EXIT, requireFlag, stringFlag } from '../cli.ts';

/** The flags as the schema flow's messages name them (the flow's test uses them too). */
export const SCHEMA_FLAG_NAMES: SchemaNames = {
  command: 'mlops schema infer',
  data: '--data',
  out: '--out',
  force: '--force',
};

export const schemaCommand: Command = {
  name: 'schema',
  takesArguments: true,
  summary: 'Data contracts: `mlops schema infer` writes one from reference data, for you to review and edit.',
  usage: 'mlops schema infer --data train.csv --out contract.json [--target column] [--force]',
  flags: {
    data: { type: 'string', value: 'file', description: 'Reference data to infer the contract from.' },
    out: {
      type: 'string',
      value: 'file',
      description: 'Where to write the contract (JSON Schema 2020-12 of one row).',
    },
    target: { type: 'string', value: 'column', description: 'The label column (recorded in the contract).' },
    force: { type: 'boolean', description: 'Overwrite --out if it exists.' },
    format: { type: 'string', value: 'format', description: 'Force the format: csv, jsonl or parquet.' },
    delimiter: { type: 'string', value: 'char', description: 'CSV delimiter.' },
  },
  details:
    'Inferred: types, nullability, observed ranges widened by each column’s tails (a few outliers tolerated as warnings), enums for low-cardinality text, missing-share limits.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runSchemaInference } = await import('../../core/flows/schema.ts');
    if (context.positionals[0] !== 'infer') {
      throw new ConfigurationError(
        `mlops schema: expected the subcommand "infer"${context.positionals[0] ? `, got "${context.positionals[0]}"` : ''}. Run \`mlops schema --help\`.`,
      );
    }
    if (context.positionals.length > 1) {
      throw new ConfigurationError(
        `mlops schema infer: unexpected argument "${context.positionals[1]}" (the data goes in --data FILE). Run \`mlops schema --help\`.`,
      );
    }
    const { contract, columns, out } = await runSchemaInference({
      data: requireFlag(context, 'data', 'schema infer'),
      out: stringFlag(context, 'out'),
      force: context.flags.force === true,
      target: stringFlag(context, 'target'),
      format: stringFlag(context, 'format') as 'csv' | 'jsonl' | 'parquet' | undefined,
      delimiter: stringFlag(context, 'delimiter'),
      names: SCHEMA_FLAG_NAMES,
    });
    context.print(
      out
        ? `contract for ${columns} columns written to ${out}: review it, then commit it.\n`
        : `${JSON.stringify(contract, null, 2)}\n`,
    );
    context.result(contract);
    return EXIT.passed;
  },
};
