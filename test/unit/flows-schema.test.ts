/**
 * runSchemaInference (src/core/flows/schema.ts), in process, on the example's real data: the contract
 * inferred (every column, the target's labels) and written where the request says, the data passing
 * it, and what is refused before the data is read: an existing contract without force (left as it
 * was), an out path that is the data, a target the data does not have.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FLAG_NAMES } from '../../src/cli/commands/schema.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { runDataGate } from '../../src/core/flows/data-gate.ts';
import { runSchemaInference, type SchemaRequest } from '../../src/core/flows/schema.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { example, temporaryDirectory } from '../helpers/example.ts';

const run = (request: Partial<SchemaRequest>) =>
  runSchemaInference({ data: example.train, names: SCHEMA_FLAG_NAMES, ...request });

describe('runSchemaInference', () => {
  it('infers a contract of every column that the data passes, and writes it', async () => {
    const dir = await temporaryDirectory('flows-schema-');
    const out = join(dir, 'contract.json');
    const result = await run({ out, target: 'target' });
    expect(result.out).toBe(out);
    expect(result.columns).toBe(31);
    expect(Object.keys(result.contract.properties)).toHaveLength(31);
    expect(result.contract.properties['mean radius']).toMatchObject({ type: 'number' });
    expect(result.contract.properties.target).toMatchObject({ type: 'integer', enum: [0, 1] });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(result.contract)));
    const gate = await runDataGate(
      {
        data: example.test,
        contract: out,
        cwd: dir,
        names: { data: '--data', failOn: '--fail-on', format: '--format' },
      },
      { logger: silentLogger },
    );
    expect(gate.outputs.passed).toBe(true);
  });

  it('reads the data in the format and with the delimiter given', async () => {
    const dir = await temporaryDirectory('flows-schema-');
    // Semicolons, in a file whose name says nothing of its format.
    const data = join(dir, 'train.data');
    await writeFile(data, 'a;b\n1;x\n2;y\n');
    const result = await run({ data, format: 'csv', delimiter: ';' });
    expect(result.columns).toBe(2);
    expect(Object.keys(result.contract.properties)).toEqual(['a', 'b']);
  });

  it('writes nothing without an out path', async () => {
    const result = await run({});
    expect(result.out).toBeUndefined();
    expect(result.contract.type).toBe('object');
  });

  it('leaves an existing contract alone without force, and replaces it with force', async () => {
    const out = join(await temporaryDirectory('flows-schema-'), 'contract.json');
    await writeFile(out, '{"edited": true}\n');
    // As the CLI passes it: --force absent is false.
    const error = await run({ out, force: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `mlops schema infer: ${out} exists; pass --force to overwrite it (your edits to it would be lost).`,
    );
    expect((error as ConfigurationError).location).toEqual({ file: out });
    expect(await readFile(out, 'utf8')).toBe('{"edited": true}\n');
    await expect(run({ out })).rejects.toThrow(ConfigurationError);
    const forced = await run({ out, force: true });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(forced.contract)));
  });

  it('refuses an out path that is the data, even with force', async () => {
    const dir = await temporaryDirectory('flows-schema-');
    const data = join(dir, 'train.csv');
    await writeFile(data, await readFile(example.train));
    await expect(run({ data, out: data, force: true })).rejects.toThrow(
      `--out ${data} is --data ${data}: writing it would replace that input.`,
    );
    expect(await readFile(data, 'utf8')).toBe(await readFile(example.train, 'utf8'));
  });

  it('refuses a target the data does not have', async () => {
    await expect(run({ target: 'label' })).rejects.toThrow(
      /The target column "label" is not in the reference data/,
    );
  });
});
