import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import {
  type DocumentSelector,
  detectTargetFormat,
  setField,
  type TargetFormat,
} from '../../src/core/deploy/edit-target.ts';
import { formatFieldPath, parseFieldPath } from '../../src/core/deploy/field-path.ts';
import {
  formatPackageRef,
  MODEL_DEPLOYMENT,
  type ModelReferenceInput,
  parsePackageRef,
  readModelReference,
  renderModelReference,
  resolveRollback,
  updateModelReference,
} from '../../src/core/deploy/model-reference.ts';
import { ConfigurationError, InputError } from '../../src/core/errors.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'deploy');
const TEMPLATE = join(import.meta.dirname, '..', '..', 'templates', 'environment-repo');

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function configurationError(action: () => unknown): ConfigurationError {
  const error = thrown(action);
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/**
 * Asserts that `after` is `before` with the single occurrence of `from` replaced by `to`: every
 * other byte (comments, spacing, quoting elsewhere) is identical.
 */
function expectSingleEdit(before: string, after: string, from: string, to: string): void {
  expect(occurrences(before, from)).toBe(1);
  expect(after).toBe(before.replace(from, () => to));
}

/** A line diff (longest common subsequence): the lines only in `before` and only in `after`. */
function diffLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || table[i][j + 1] >= table[i + 1][j])) added.push(b[j++]);
    else removed.push(a[i++]);
  }
  return { removed, added };
}

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_C = 'c'.repeat(64);
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function proposal(overrides: Partial<ModelReferenceInput> = {}): ModelReferenceInput {
  return {
    name: 'churn',
    environment: 'staging',
    version: '1.2.0',
    packageRef: `https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip#sha256=${SHA_B}`,
    source: { repository: 'o/r', commit: COMMIT },
    gates: { verdict: 'passed', data: true, model: true, metrics: { auc: 0.93, f1: 0.8 } },
    deployedAt: '2025-02-01T00:00:00Z',
    ...overrides,
  };
}

describe('parsePackageRef', () => {
  it('splits a URL with a #sha256= fragment', () => {
    expect(
      parsePackageRef(`https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip#sha256=${SHA_A}`),
    ).toEqual({ uri: 'https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip', sha256: SHA_A });
  });

  it('splits a registry-style @sha256: suffix', () => {
    expect(parsePackageRef(`artifact://123456/churn-package@sha256:${SHA_B}`)).toEqual({
      uri: 'artifact://123456/churn-package',
      sha256: SHA_B,
    });
  });

  it('lower-cases the digest and ignores surrounding whitespace', () => {
    expect(parsePackageRef(`  s3://bucket/churn.zip#sha256=${'AB'.repeat(32)}\n`)).toEqual({
      uri: 's3://bucket/churn.zip',
      sha256: 'ab'.repeat(32),
    });
  });

  it('names both accepted forms when the digest is missing', () => {
    const error = configurationError(() => parsePackageRef('https://example.com/churn.zip'));
    expect(error.message).toContain('has no sha256 digest');
    expect(error.message).toContain('<uri>#sha256=<64 hex digits>');
    expect(error.message).toContain('<uri>@sha256:<64 hex digits>');
  });

  it('counts the hex digits of a short digest and rejects non-hex ones', () => {
    expect(
      configurationError(() => parsePackageRef(`https://e.com/a.zip#sha256=${'a'.repeat(63)}`)).message,
    ).toContain('it has 63 hex digits');
    expect(
      configurationError(() => parsePackageRef(`https://e.com/a.zip#sha256=${'g'.repeat(64)}`)).message,
    ).toContain('not all hex digits');
    expect(
      configurationError(() => parsePackageRef(`https://e.com/a.zip#sha1=${'a'.repeat(40)}`)).message,
    ).toContain('has no sha256 digest');
  });

  it('requires a URI scheme and no whitespace', () => {
    expect(configurationError(() => parsePackageRef(`churn-1.2.0.zip#sha256=${SHA_A}`)).message).toContain(
      'must start with a URI scheme',
    );
    expect(
      configurationError(() => parsePackageRef(`https://e.com/a b.zip#sha256=${SHA_A}`)).message,
    ).toContain('contains whitespace');
  });

  it('formats a reference back in the form its scheme uses', () => {
    for (const ref of [`https://e.com/a.zip#sha256=${SHA_A}`, `artifact://1/pkg@sha256:${SHA_B}`]) {
      expect(formatPackageRef(parsePackageRef(ref))).toBe(ref);
    }
  });
});

describe('model reference files', () => {
  it('renders a new reference deterministically, valid against the schema, in the documented key order', () => {
    const text = renderModelReference(proposal());
    expect(renderModelReference(proposal())).toBe(text);
    const deployment = readModelReference(text, 'churn.yaml');
    expect(deployment).toEqual({
      apiVersion: MODEL_DEPLOYMENT.apiVersion,
      kind: MODEL_DEPLOYMENT.kind,
      metadata: { name: 'churn', environment: 'staging' },
      spec: {
        model: { name: 'churn', version: '1.2.0' },
        package: { ref: 'https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip', sha256: SHA_B },
        source: { repository: 'o/r', commit: COMMIT },
        gates: { verdict: 'passed', data: true, model: true, metrics: { auc: 0.93, f1: 0.8 } },
        deployedAt: '2025-02-01T00:00:00Z',
      },
    });
    expect(Object.keys(parseDocument(text).toJS().spec)).toEqual([
      'model',
      'package',
      'source',
      'gates',
      'deployedAt',
    ]);
    expect(updateModelReference(undefined, proposal())).toBe(text);
  });

  it('quotes values YAML would read as numbers when rendering', () => {
    const text = renderModelReference(proposal({ source: { repository: 'o/r', commit: '1'.repeat(40) } }));
    expect(readModelReference(text, 'churn.yaml').spec.source.commit).toBe('1'.repeat(40));
  });

  it('updates an existing file in place: only the changed lines differ, comments and style stay', () => {
    // A version 1 file (written before records carried verdicts) becomes version 2.
    const before = fixture('model-reference.yaml');
    const after = updateModelReference(before, proposal(), 'model-reference.yaml');
    const { removed, added } = diffLines(before, after);
    expect(removed).toEqual([
      'apiVersion: mlops-actions.dev/v1',
      '    model: {name: churn, version: "1.1.0"}',
      "        ref: 'https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip'",
      `        sha256: ${SHA_A}`,
      '        commit: 1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a',
      '            auc: 0.910',
      '    deployedAt: "2025-01-01T00:00:00Z"',
    ]);
    expect(added).toEqual([
      'apiVersion: mlops-actions.dev/v2',
      '    model: {name: churn, version: "1.2.0"}',
      "        ref: 'https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip'",
      `        sha256: ${SHA_B}`,
      `        commit: ${COMMIT}`,
      '            auc: 0.93',
      // A key new to the mapping goes after the ones people ordered.
      '        verdict: passed',
      '    deployedAt: "2025-02-01T00:00:00Z"',
      '    previous:',
      '        version: 1.1.0',
      '        ref: https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip',
      `        sha256: ${SHA_A}`,
    ]);
    // f1 0.80 equals 0.8: an equal value is not rewritten, so its formatting stays.
    expect(after).toContain('            f1: 0.80\n');
    // The new block goes inside spec, above the closing comment that sits at the left margin.
    expect(after.endsWith(`        sha256: ${SHA_A}\n# end of file\n`)).toBe(true);
    const deployment = readModelReference(after, 'model-reference.yaml');
    expect(deployment.metadata.labels).toEqual({ team: 'risk' });
    expect(deployment.spec.previous).toEqual({
      version: '1.1.0',
      ref: 'https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip',
      sha256: SHA_A,
    });
  });

  it('moves previous along on the next deployment and offers it as the rollback', () => {
    const first = updateModelReference(fixture('model-reference.yaml'), proposal(), 'churn.yaml');
    const second = updateModelReference(
      first,
      proposal({
        version: '1.3.0',
        packageRef: `artifact://99/churn@sha256:${SHA_C}`,
        deployedAt: '2025-03-01T00:00:00Z',
      }),
      'churn.yaml',
    );
    const { removed, added } = diffLines(first, second);
    expect(removed).toEqual([
      '    model: {name: churn, version: "1.2.0"}',
      "        ref: 'https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip'",
      `        sha256: ${SHA_B}`,
      '    deployedAt: "2025-02-01T00:00:00Z"',
      '        version: 1.1.0',
      '        ref: https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip',
      `        sha256: ${SHA_A}`,
    ]);
    expect(added).toEqual([
      '    model: {name: churn, version: "1.3.0"}',
      "        ref: 'artifact://99/churn'",
      `        sha256: ${SHA_C}`,
      '    deployedAt: "2025-03-01T00:00:00Z"',
      '        version: 1.2.0',
      '        ref: https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip',
      `        sha256: ${SHA_B}`,
    ]);
    expect(resolveRollback(readModelReference(second, 'churn.yaml'))).toEqual({
      version: '1.2.0',
      packageRef: `https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip#sha256=${SHA_B}`,
    });
  });

  it('changes nothing when the referenced package is proposed again, even at a later time', () => {
    const first = updateModelReference(fixture('model-reference.yaml'), proposal(), 'churn.yaml');
    expect(updateModelReference(first, proposal({ deployedAt: '2030-01-01T00:00:00Z' }), 'churn.yaml')).toBe(
      first,
    );
  });

  it('removes gate lines that no longer apply and rewrites nothing else', () => {
    const before = fixture('model-reference.yaml');
    const sameAsFixture = proposal({
      packageRef: `https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip#sha256=${SHA_A}`,
      version: '1.1.0',
      source: { repository: 'o/r', commit: '1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a' },
    });
    const after = updateModelReference(
      before,
      { ...sameAsFixture, gates: { verdict: 'passed', model: true } },
      'churn.yaml',
    );
    // The same package: no previous, the old deployedAt; only the format version and the gates change.
    expect(diffLines(before, after)).toEqual({
      removed: [
        'apiVersion: mlops-actions.dev/v1',
        '        data: true',
        '        metrics:',
        '            auc: 0.910',
        '            f1: 0.80',
      ],
      added: ['apiVersion: mlops-actions.dev/v2', '        verdict: passed'],
    });
    const none = updateModelReference(
      before,
      { ...sameAsFixture, gates: { verdict: 'unvalidated' } },
      'churn.yaml',
    );
    expect(diffLines(before, none)).toEqual({
      removed: [
        'apiVersion: mlops-actions.dev/v1',
        '        data: true',
        '        model: true   # passed on the holdout',
        '        metrics:',
        '            auc: 0.910',
        '            f1: 0.80',
      ],
      added: ['apiVersion: mlops-actions.dev/v2', '        verdict: unvalidated'],
    });
  });

  it('keeps a flow mapping on its line when keys are added to it, and accepts an unknown source', () => {
    const input = proposal({
      source: { repository: null, commit: null },
      gates: { verdict: 'passed', data: true },
    });
    const before = renderModelReference(input).replace(
      '  gates:\n    verdict: passed\n    data: true\n',
      '  gates: {verdict: passed, data: true}  # flow\n',
    );
    const after = updateModelReference(
      before,
      { ...input, gates: { verdict: 'passed', data: true, model: true, metrics: { auc: 0.9 } } },
      'c.yaml',
    );
    expectSingleEdit(
      before,
      after,
      '{verdict: passed, data: true}',
      '{verdict: passed, data: true, model: true, metrics: {auc: 0.9}}',
    );
    expect(readModelReference(after, 'c.yaml').spec.source).toEqual({ repository: null, commit: null });
  });

  it('refuses to update the file of another model or environment', () => {
    const error = configurationError(() =>
      updateModelReference(
        fixture('model-reference.yaml'),
        proposal({ environment: 'production' }),
        'x.yaml',
      ),
    );
    expect(error.message).toContain('references churn in staging, not churn in production');
  });

  it('rejects a digest given twice that disagrees', () => {
    expect(configurationError(() => renderModelReference(proposal({ sha256: SHA_C }))).message).toContain(
      'pass one digest',
    );
    expect(
      readModelReference(
        renderModelReference(proposal({ packageRef: 'https://e.com/churn.zip', sha256: SHA_C })),
        'x.yaml',
      ).spec.package,
    ).toEqual({ ref: 'https://e.com/churn.zip', sha256: SHA_C });
  });

  it('names the file, line and key of schema errors, with a suggestion for typos', () => {
    const valid = renderModelReference(proposal());
    const typo = configurationError(() =>
      readModelReference(valid.replace('deployedAt:', 'deployAt:'), 'churn.yaml'),
    );
    expect(typo.message).toMatch(
      /^churn\.yaml:\d+: unknown key "spec\.deployAt"\. Did you mean "deployedAt"\?/,
    );
    expect(typo.location).toMatchObject({ file: 'churn.yaml', key: 'spec.deployAt' });
    const digest = configurationError(() => readModelReference(valid.replace(SHA_B, 'xyz'), 'churn.yaml'));
    expect(digest.message).toContain('"spec.package.sha256" must be 64 lower-case hex digits; found "xyz"');
    expect(digest.location.line).toBe(valid.split('\n').findIndex((line) => line.includes(SHA_B)) + 1);
    const number = configurationError(() =>
      readModelReference(valid.replace('version: 1.2.0', 'version: 1.10'), 'churn.yaml'),
    );
    expect(number.message).toContain('Write it in quotes ("1.10")');
    const missing = configurationError(() =>
      readModelReference(valid.replace(/ {2}deployedAt:.*\n/, ''), 'c.yaml'),
    );
    expect(missing.message).toContain('"spec" is missing the key "deployedAt"');
    expect(thrown(() => readModelReference('spec: [1,\n', 'broken.yaml'))).toBeInstanceOf(InputError);
  });

  it('validates what it is asked to render', () => {
    expect(configurationError(() => renderModelReference(proposal({ version: 'v1.2' }))).message).toContain(
      '"spec.model.version" must be a semantic version',
    );
    expect(
      configurationError(() => renderModelReference(proposal({ deployedAt: 'yesterday' }))).message,
    ).toContain('"spec.deployedAt" must be an ISO 8601 date and time');
  });
});

/** Every file under a folder, recursively, as paths relative to it with forward slashes. */
function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

describe('environment repository template', () => {
  const yamlFiles = listFiles(TEMPLATE).filter(
    (path) => /\.ya?ml$/.test(path) && !path.startsWith('charts/model-server/templates/'),
  );

  it('holds only valid ModelDeployments, each at environments/<environment>/models/<model>.yaml', () => {
    const references = yamlFiles.filter((path) =>
      parseAllDocuments(readFileSync(join(TEMPLATE, path), 'utf8')).some(
        (document) => document.toJS()?.kind === MODEL_DEPLOYMENT.kind,
      ),
    );
    expect(references).toEqual([
      'environments/production/models/example.yaml',
      'environments/staging/models/example.yaml',
    ]);
    for (const path of references) {
      const deployment = readModelReference(readFileSync(join(TEMPLATE, path), 'utf8'), path);
      expect(path).toBe(
        `environments/${deployment.metadata.environment}/models/${deployment.metadata.name}.yaml`,
      );
      expect(deployment.spec.previous).toBeDefined();
    }
  });

  it('has target fields that hold the package each model reference names', () => {
    const targets: [string, string, string][] = [
      ['staging', 'environments/staging/inferenceservice.yaml', 'spec.predictor.model.storageUri'],
      ['production', 'environments/production/values.yaml', 'model.storageUri'],
    ];
    for (const [environment, file, field] of targets) {
      const reference = readModelReference(
        readFileSync(join(TEMPLATE, `environments/${environment}/models/example.yaml`), 'utf8'),
        file,
      );
      const text = readFileSync(join(TEMPLATE, file), 'utf8');
      const edit = setField(text, 'yaml', field, reference.spec.package.ref, file);
      expect(edit).toEqual({ text, changed: false, previous: reference.spec.package.ref });
    }
  });

  it('ships a KServe v1beta1 InferenceService for ONNX over the v2 protocol', () => {
    const service = parseDocument(
      readFileSync(join(TEMPLATE, 'environments/staging/inferenceservice.yaml'), 'utf8'),
    ).toJS();
    expect(service).toMatchObject({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      spec: { predictor: { model: { modelFormat: { name: 'onnx' }, protocolVersion: 'v2' } } },
    });
    const kustomization = parseDocument(
      readFileSync(join(TEMPLATE, 'environments/staging/kustomization.yaml'), 'utf8'),
    ).toJS();
    expect(kustomization.resources).toEqual(['inferenceservice.yaml']);
  });
});

describe('field paths', () => {
  it('parses dots, indexes and quoted keys, and formats them back', () => {
    expect(parseFieldPath('spec.predictor.model.storageUri')).toEqual([
      'spec',
      'predictor',
      'model',
      'storageUri',
    ]);
    expect(parseFieldPath('images[0].newTag')).toEqual(['images', 0, 'newTag']);
    expect(parseFieldPath(`'a.b'.c`)).toEqual(['a.b', 'c']);
    expect(parseFieldPath(`metadata.annotations["example.com/x"]`)).toEqual([
      'metadata',
      'annotations',
      'example.com/x',
    ]);
    expect(parseFieldPath(`'it\\'s'[2][3]`)).toEqual(["it's", 2, 3]);
    for (const path of ['images[0].newTag', `'a.b'.c`, `metadata.annotations.'example.com/x'`]) {
      expect(formatFieldPath(parseFieldPath(path))).toBe(path);
    }
  });

  it('explains malformed paths', () => {
    for (const [path, why] of [
      ['', 'it is empty'],
      ['a..b', 'a key is missing at character 3'],
      ['a.', 'it ends with a dot'],
      ['a[x]', '"[" must be followed by a list index'],
      [`a.'b`, 'never closed'],
      ['a[0', '"]" expected'],
    ]) {
      expect(configurationError(() => parseFieldPath(path)).message).toContain(why);
    }
  });

  it('tells the format from the file name', () => {
    expect(detectTargetFormat('values.json')).toBe('json');
    expect(detectTargetFormat('a/b.YML')).toBe('yaml');
    expect(configurationError(() => detectTargetFormat('values.toml')).message).toContain(
      '.yaml, .yml or .json',
    );
  });
});

describe('setField on YAML', () => {
  const service = fixture('inferenceservice.yaml');
  const set = (
    path: string,
    value: string,
    text = service,
    selector?: DocumentSelector,
    format: TargetFormat = 'yaml',
  ) => setField(text, format, path, value, 'inferenceservice.yaml', selector);

  it('replaces only the target value, keeping its quotes, spacing and trailing comment', () => {
    const edit = set(
      'spec.predictor.model.storageUri',
      'https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip',
    );
    expect(edit.changed).toBe(true);
    expect(edit.previous).toBe('https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip');
    expectSingleEdit(
      service,
      edit.text,
      '"https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip"',
      '"https://github.com/o/r/releases/download/v1.2.0/churn-1.2.0.zip"',
    );
  });

  it('edits inside flow mappings and quotes a value that flow syntax would split', () => {
    expectSingleEdit(
      service,
      set('spec.predictor.model.modelFormat.name', 'onnx-v2').text,
      'name: onnx,',
      'name: onnx-v2,',
    );
    expectSingleEdit(
      service,
      set('spec.predictor.model.modelFormat.name', 'onnx, x').text,
      'name: onnx,',
      'name: "onnx, x",',
    );
  });

  it('keeps single quotes, and quotes a plain value that would read as another type', () => {
    const quoted = set(`metadata.annotations["example.com/model.version"]`, '1.2.0');
    expectSingleEdit(service, quoted.text, `'1.1.0'`, `'1.2.0'`);
    const multiple = fixture('kustomization.yaml');
    const tag = setField(multiple, 'yaml', 'images[1].newTag', '2.10', 'kustomization.yaml');
    expectSingleEdit(multiple, tag.text, 'newTag: 2.0.0', 'newTag: "2.10"');
    expect(parseDocument(tag.text).toJS().images[1].newTag).toBe('2.10');
    expectSingleEdit(
      multiple,
      setField(multiple, 'yaml', 'images.0.newTag', '1.11', 'k.yaml').text,
      '"1.10"',
      '"1.11"',
    );
  });

  it('keeps a number a number when the new value is one, and an anchor on its value', () => {
    const replicas = set('spec.predictor.minReplicas', '3');
    expectSingleEdit(service, replicas.text, 'minReplicas: 1', 'minReplicas: 3');
    expect(replicas.previous).toBe(1);
    const anchored = set('spec.predictor.timeout', '90');
    expectSingleEdit(service, anchored.text, '&timeout 60', '&timeout 90');
    // The alias reads the new value: the anchor still names it.
    expect(parseDocument(anchored.text).toJS().spec.transformer.timeout).toBe(90);
  });

  it('fills an empty value and rewrites a block scalar in its own style', () => {
    expectSingleEdit(
      service,
      set('spec.predictor.model.runtime', 'kserve-tritonserver').text,
      'runtime:\n',
      'runtime: kserve-tritonserver\n',
    );
    const block = set('spec.predictor.notes', 'one\ntwo\n');
    expectSingleEdit(
      service,
      block.text,
      '      Free text that must\n      survive untouched.\n',
      '      one\n      two\n',
    );
    expect(parseDocument(block.text).toJS().spec.predictor.notes).toBe('one\ntwo\n');
  });

  it('edits list items in place', () => {
    expectSingleEdit(
      service,
      set('spec.predictor.args[1]', 'other: value').text,
      `'a string: with colon'`,
      `'other: value'`,
    );
  });

  it('returns the same bytes when the field already holds the value', () => {
    for (const [path, value] of [
      ['spec.predictor.model.storageUri', 'https://github.com/o/r/releases/download/v1.1.0/churn-1.1.0.zip'],
      ['spec.predictor.minReplicas', '1'],
      ['spec.predictor.notes', 'Free text that must\nsurvive untouched.\n'],
    ]) {
      const edit = set(path, value);
      expect(edit.changed).toBe(false);
      expect(edit.text).toBe(service);
    }
    const once = set('spec.predictor.model.storageUri', 's3://models/churn/1.2.0').text;
    expect(set('spec.predictor.model.storageUri', 's3://models/churn/1.2.0', once)).toEqual({
      text: once,
      changed: false,
      previous: 's3://models/churn/1.2.0',
    });
  });

  it('keeps CRLF line endings', () => {
    const text = 'a:\r\n  b: old # note\r\n  c: 1\r\n';
    expect(set('a.b', 'new', text).text).toBe('a:\r\n  b: new # note\r\n  c: 1\r\n');
  });

  it('names the file, the path, the keys there and a suggestion for a missing key', () => {
    const error = configurationError(() => set('spec.predictor.model.storageUrl', 'x'));
    expect(error.message).toMatch(
      /^inferenceservice\.yaml:\d+: "spec\.predictor\.model\.storageUrl" does not exist/,
    );
    expect(error.message).toContain(
      '"spec.predictor.model" has no key "storageUrl". Did you mean "storageUri"?',
    );
    expect(error.message).toContain(
      'Keys there: modelFormat, protocolVersion, storageUri, runtime, resources.',
    );
    expect(error.location).toMatchObject({
      file: 'inferenceservice.yaml',
      key: 'spec.predictor.model.storageUrl',
    });
    expect(configurationError(() => set('spek.predictor', 'x')).message).toContain(
      'the top level has no key "spek". Did you mean "spec"?',
    );
  });

  it('refuses a mapping, a list, an index out of range and a path through an alias', () => {
    expect(configurationError(() => set('spec.predictor.model', 'x')).message).toContain(
      '"spec.predictor.model" is a mapping (keys: modelFormat, protocolVersion, storageUri, runtime, resources), not a single value',
    );
    expect(configurationError(() => set('spec.predictor.args', 'x')).message).toContain(
      'is a list of 2 items, not a single value: name an item, e.g. "spec.predictor.args[0]"',
    );
    expect(configurationError(() => set('spec.predictor.args[2]', 'x')).message).toContain(
      'has 2 items (use 0 to 1)',
    );
    expect(configurationError(() => set('spec.predictor.minReplicas.value', 'x')).message).toContain(
      'is a single value (1)',
    );
    expect(
      configurationError(() => set('spec.predictor.model.resources.requests.cpu', '1')).message,
    ).toContain('is the alias *resources');
  });

  it('chooses a document of a multi-document file by selector or index', () => {
    const text = fixture('multi-document.yaml');
    const path = 'spec.predictor.model.storageUri';
    const byKind = set(path, 's3://models/churn/1.2.0', text, {
      match: { kind: 'InferenceService', 'metadata.name': 'churn' },
    });
    expectSingleEdit(text, byKind.text, 's3://models/churn/1.1.0', 's3://models/churn/1.2.0');
    expect(byKind.previous).toBe('s3://models/churn/1.1.0');
    expectSingleEdit(
      text,
      set(path, 's3://f', text, { documentIndex: 2 }).text,
      's3://models/fraud/2.0.0',
      's3://f',
    );
    expect(configurationError(() => set(path, 'x', text)).message).toContain(
      'holds 3 YAML documents (#0 ConfigMap churn-config (line 2), #1 InferenceService churn (line 10), #2 InferenceService fraud (line 19))',
    );
    expect(
      configurationError(() => set(path, 'x', text, { match: { kind: 'InferenceService' } })).message,
    ).toContain('2 YAML documents in inferenceservice.yaml have kind=InferenceService');
    expect(configurationError(() => set(path, 'x', text, { match: { kind: 'Service' } })).message).toContain(
      'No YAML document in inferenceservice.yaml has kind=Service',
    );
    expect(
      configurationError(() => set('data.storageUri', 'x', text, { documentIndex: 1 })).message,
    ).toContain('the top level has no key "data"');
  });

  it('reports YAML that does not parse as an unreadable input with its position', () => {
    const error = thrown(() => set('a', 'x', 'a: [1, 2\nb: 3\n'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/^inferenceservice\.yaml:\d+:\d+ is not valid YAML/);
  });
});

describe('setField on JSON', () => {
  const values = fixture('values.json');
  const set = (path: string, value: string, text = values) =>
    setField(text, 'json', path, value, 'values.json');

  it('replaces only the value bytes, whatever the indentation', () => {
    const edit = set('model.storageUri', 'https://example.com/churn-1.2.0.zip');
    expect(edit.previous).toBe('https://example.com/churn-1.1.0.zip');
    expectSingleEdit(
      values,
      edit.text,
      String.raw`"https:\/\/example.com\/churn-1.1.0.zip"`,
      '"https://example.com/churn-1.2.0.zip"',
    );
    expectSingleEdit(values, set('model.tags[1]', 'c "quoted"').text, '"b"]', String.raw`"c \"quoted\""]`);
    expect(JSON.parse(set('model.tags[1]', 'c "quoted"').text).model.tags).toEqual(['a', 'c "quoted"']);
  });

  it('keeps numbers and booleans typed when the new value is one, else writes a string', () => {
    expectSingleEdit(values, set('model.replicas', '3').text, '"replicas": 2', '"replicas": 3');
    expectSingleEdit(values, set('model.replicas', 'three').text, '"replicas": 2', '"replicas": "three"');
    expectSingleEdit(values, set('model.enabled', 'false').text, 'true', 'false');
  });

  it('returns the same bytes when the value is already there, however it is escaped', () => {
    expect(set('model.storageUri', 'https://example.com/churn-1.1.0.zip')).toEqual({
      text: values,
      changed: false,
      previous: 'https://example.com/churn-1.1.0.zip',
    });
    expect(set('model.replicas', '2').changed).toBe(false);
  });

  it('names missing keys with a suggestion, and refuses objects and arrays', () => {
    const error = configurationError(() => set('model.storageUrl', 'x'));
    expect(error.message).toContain(
      'values.json:2: "model.storageUrl" does not exist: "model" has no key "storageUrl". Did you mean "storageUri"?',
    );
    expect(error.message).toContain('Keys there: name, storageUri, replicas, enabled, tags.');
    expect(configurationError(() => set('model', 'x')).message).toContain(
      '"model" is a mapping (keys: name, storageUri, replicas, enabled, tags)',
    );
    expect(configurationError(() => set('model.tags', 'x')).message).toContain('is a list of 2 items');
    expect(configurationError(() => set('empty.x', 'x')).message).toContain(
      '"empty" has no key "x". Keys there: (none).',
    );
  });

  it('reports broken JSON with its line and column', () => {
    const error = thrown(() => set('a', 'x', '{\n  "a": [1,\n}'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('values.json:3:1 is not valid JSON: expected a value, found "}".');
  });
});
