import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/core/config/config.ts';
import { resolveDataOptions } from '../../src/core/config/data-options.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { suggestClosest } from '../../src/core/suggest.ts';
import { temporaryFolder } from '../helpers/temp.ts';

function configError(text: string): ConfigurationError {
  try {
    parseConfig(text, 'mlops.yaml');
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('mlops.yaml', () => {
  it('accepts a complete data section', () => {
    const config = parseConfig(
      'version: 1\ndata:\n  data: d.csv\n  fail-on: warning\n  drift:\n    psi: 0.25\n    columns:\n      age: { test: wasserstein, threshold: 0.2 }\n',
      'mlops.yaml',
    );
    expect(config.data?.drift?.columns?.age).toEqual({ test: 'wasserstein', threshold: 0.2 });
  });

  it('names an unknown key with its line and a suggestion', () => {
    const error = configError('version: 1\ndata:\n  data: d.csv\n  dirft:\n    psi: 0.2\n');
    expect(error.location).toMatchObject({ file: 'mlops.yaml', line: 4, key: 'data.dirft' });
    expect(error.message).toContain('unknown key "data.dirft"');
    expect(error.message).toContain('Did you mean "drift"?');
  });

  it('names the allowed values of an enum and the line of the bad value', () => {
    const error = configError('data:\n  checks:\n    leakage: fatal\n');
    expect(error.message).toMatch(/"data.checks.leakage" must be one of "error", "warning", "ignore"/);
    expect(error.location.line).toBe(3);
  });

  it('reports wrong types and invalid YAML with lines', () => {
    expect(configError('data:\n  drift:\n    psi: high\n').message).toContain(
      '"data.drift.psi" must be a number',
    );
    const yamlError = configError('data:\n  data: [unclosed\n');
    expect(yamlError.message).toContain('is not valid YAML');
  });

  it('resolves config paths relative to the config file; inputs win', async () => {
    const dir = await temporaryFolder('mlops-config-');
    await writeFile(
      join(dir, 'mlops.yaml'),
      'data:\n  data: data/test.csv\n  train: data/train.csv\n  fail-on: warning\n  checks:\n    duplicates: error\n',
    );
    const loaded = await loadConfig(join(dir, 'mlops.yaml'));
    const names = { data: '--data', failOn: '--fail-on', format: '--format' };
    const options = resolveDataOptions({ failOn: 'never' }, loaded, names);
    expect(options.data).toBe(join(dir, 'data/test.csv'));
    expect(options.train).toBe(join(dir, 'data/train.csv'));
    expect(options.failOn).toBe('never');
    expect(options.checks).toEqual({ duplicates: 'error' });
    expect(() => resolveDataOptions({ failOn: 'eror' }, loaded, names)).toThrow(
      /--fail-on must be one of error, warning, never; got "eror". Did you mean "error"\?/,
    );
    expect(() => resolveDataOptions({}, undefined, names)).toThrow(/No data to validate: set --data/);
  });

  it('says when the config file is missing', async () => {
    await expect(loadConfig('/nonexistent/mlops.yaml')).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe('suggestClosest', () => {
  it('suggests plausible typos only', () => {
    expect(suggestClosest('dirft', ['drift', 'data'])).toBe('drift');
    expect(suggestClosest('zzzzzz', ['drift', 'data'])).toBeUndefined();
    expect(suggestClosest('contr', ['contract', 'config'])).toBe('contract');
  });
});
