/**
 * `mlops serve` over real HTTP on loopback, with a client that checks every answer against the Open
 * Inference Protocol's published OpenAPI description itself (the vendored open_inference_rest.yaml,
 * read here with its own nullable pre-pass, independently of the schema the server derives from it):
 * the response schema of the answer's path, method and status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, readFile, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { silentLogger } from '../../src/core/logger.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../src/core/model/onnx-session.ts';
import { pushPackage } from '../../src/core/oci/index.ts';
import { buildPackage } from '../../src/core/package/build-package.ts';
import { deriveOpenInferenceSchema } from '../../src/core/serve/derive-schema.ts';
import { createServedModel, openPackage } from '../../src/core/serve/open-package.ts';
import { onnxRuntimeSessions } from '../../src/core/serve/served-model.ts';
import {
  type InferenceServer,
  type ServerLimits,
  startInferenceServer,
} from '../../src/core/serve/server.ts';
import { rewriteNullable } from '../harness/github-api.ts';
import { ociToolsMissing, startRegistry } from '../harness/oci-registry.ts';
import { repoRoot } from '../harness/run-action.ts';
import { temporaryDirectory } from '../helpers/example.ts';
import { TEST_LINEAGE } from '../helpers/packages.ts';
import { cli } from '../hostile/fixtures/run-cli.ts';

const VENDORED = join(repoRoot, 'src/core/schemas/vendor/open-inference-protocol/open_inference_rest.yaml');
const DERIVED = join(repoRoot, 'src/core/serve/open-inference.schema.json');
const MODELS = join(repoRoot, 'test/fixtures/models');
const node24 = join(repoRoot, 'node_modules/node/bin/node');
const node = process.versions.node.startsWith('24.') ? process.execPath : node24;

// ---------------------------------------------------------------------------------------------
// The description as a checker of answers

interface Operation {
  template: string;
  method: string;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

const description = parseYaml(readFileSync(VENDORED, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
};
// OpenAPI 3.0's `nullable: true` rewritten as JSON Schema, as for GitHub's description (the
// protocol's description has none today; a newer copy may).
rewriteNullable(description);
const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
ajv.addSchema({ ...description, $id: 'oip' });
const operations: Operation[] = Object.entries(description.paths).flatMap(([template, item]) =>
  Object.entries(item)
    .filter(([method]) => method !== 'parameters')
    .map(([method, operation]) => ({ ...operation, template, method: method.toUpperCase() })),
);
const validators = new Map<string, ValidateFunction>();
function schemaValidator(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `oip${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

/**
 * The operation of the description a request path belongs to. The description lists `/v2/` and only
 * the versioned model paths; the prose (inference_rest.md) makes the version optional and writes
 * `/v2`: those are matched to the same operations.
 */
function findOperation(method: string, url: string): { operation?: Operation; methods: string[] } {
  let path = url.split('?')[0];
  if (path === '/v2') path = '/v2/';
  path = path.replace(/^(\/v2\/models\/[^/]+)(\/ready|\/infer)?$/, '$1/versions/-$2');
  const onPath = operations.filter((operation) =>
    new RegExp(`^${operation.template.replace(/\$\{\w+\}/g, '[^/]+').replace(/[.]/g, '\\.')}$`).test(path),
  );
  return {
    operation: onPath.find((operation) => operation.method === method),
    methods: onPath.map((operation) => operation.method),
  };
}

/** Which schema of the description an answer must match (a `#/components/schemas/…` pointer), if any. */
function answerSchema(operation: Operation | undefined, url: string, status: number): string | undefined {
  const schemaOf = (status: string) =>
    operation?.responses[status]?.content?.['application/json']?.schema?.$ref ?? undefined;
  if (operation?.responses[String(status)]) return schemaOf(String(status));
  if (status < 400) throw new Error(`${operation?.template ?? url} does not describe status ${status}`);
  // "A failed … request must be indicated by an HTTP error status (typically 400). The HTTP body must
  // contain the … error response object": the operation's error object, else the one named after its
  // answer (metadata_model_response → metadata_model_error_response), else the metadata errors'.
  const described = schemaOf('400');
  if (described) return described;
  const named = schemaOf('200')?.replace(/_response$/, '_error_response');
  if (named && description.components.schemas[named.split('/').at(-1) as string]) return named;
  return url.startsWith('/v2/models/')
    ? '#/components/schemas/metadata_model_error_response'
    : '#/components/schemas/metadata_server_error_response';
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

let answersChecked = 0;

/** Fails when an answer is not what the description says for its path, method and status. */
function checkAnswer(method: string, url: string, answer: Answer): void {
  const { operation, methods } = findOperation(method, url);
  if (!operation) {
    // A path the description does not have is 404; one it has with other methods, 405.
    expect(answer.status, `${method} ${url} is not in the description`).toBe(methods.length > 0 ? 405 : 404);
  }
  const schema = answerSchema(operation, url, answer.status);
  if (schema || answer.status >= 400) {
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json, `${method} ${url} → ${answer.status}: not JSON: ${answer.text}`).toBeDefined();
  }
  if (schema) {
    const validate = schemaValidator(schema);
    expect(
      validate(answer.json),
      `${method} ${url} → ${answer.status} does not match ${schema}: ${JSON.stringify(validate.errors)}\n${answer.text.slice(0, 500)}`,
    ).toBe(true);
  }
  if (answer.status >= 400) expect(typeof (answer.json as { error?: unknown }).error).toBe('string');
  answersChecked++;
}

/** One request on a connection of its own; the answer as it came, unchecked. */
function rawRequest(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string | number> = {},
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          // Without a Content-Length, node:http sends the body chunked.
          ...(body !== undefined && headers['transfer-encoding'] !== 'chunked'
            ? { 'content-length': Buffer.byteLength(body) }
            : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A request whose answer is checked against the description. */
async function call(
  base: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<Answer> {
  const answer = await rawRequest(
    base,
    method,
    path,
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  );
  checkAnswer(method, path, answer);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Packages of the fixture models, served in this process

interface FixtureModel {
  file: string;
  data: string;
  features: string[];
  inputs: { name: string; type: string; shape: (string | number | null)[] }[];
  outputs: { name: string; type: string }[];
}

const fixtures = (
  JSON.parse(readFileSync(join(MODELS, 'expected.json'), 'utf8')) as { models: FixtureModel[] }
).models;
const packageName = (fixture: FixtureModel) => basename(fixture.file, '.onnx');
const servers = new Map<string, InferenceServer>();
const archives = new Map<string, string>();
const closers: (() => Promise<void>)[] = [];

async function packageOf(file: string, name: string): Promise<string> {
  const key = `${file}:${name}`;
  let archive = archives.get(key);
  if (!archive) {
    const built = await buildPackage({
      model: join(repoRoot, file),
      name,
      version: '1.0.0',
      out: await temporaryDirectory('mlops-serve-package-'),
      lineage: TEST_LINEAGE,
    });
    archive = built.archive;
    archives.set(key, archive);
  }
  return archive;
}

/** Serves a fixture model's package in this process (one server per model and limits). */
async function serve(fixture: FixtureModel, limits: Partial<ServerLimits> = {}): Promise<InferenceServer> {
  const key = `${fixture.file}:${JSON.stringify(limits)}`;
  let server = servers.get(key);
  if (!server) {
    const pkg = await openPackage(await packageOf(fixture.file, packageName(fixture)));
    server = await startInferenceServer({
      model: await createServedModel(pkg, onnxRuntimeSessions),
      logger: silentLogger,
      limits,
    });
    servers.set(key, server);
    const started = server;
    closers.push(async () => {
      await started.close();
      await pkg.close();
    });
  }
  return server;
}

const fixture = (name: string) => fixtures.find((f) => f.file.endsWith(`/${name}.onnx`)) as FixtureModel;
const mlp = () => fixture('torch-mlp-logits');

/** The rows of a fixture's CSV as strings, by column. */
function readColumns(path: string): { rows: number; column(name: string): string[] } {
  const [header, ...lines] = readFileSync(join(repoRoot, path), 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const cells = lines.map((line) => line.split(','));
  return {
    rows: cells.length,
    column: (name) => {
      const index = names.indexOf(name);
      if (index < 0) throw new Error(`${path} has no column ${name}`);
      return cells.map((row) => row[index]);
    },
  };
}

const DATATYPE: Record<string, string> = { float: 'FP32', double: 'FP64', int64: 'INT64' };
const ORT_TYPE: Record<string, 'float32' | 'float64' | 'int64'> = {
  float: 'float32',
  double: 'float64',
  int64: 'int64',
};

/** The request inputs for rows `from`…`to` of a fixture's data, as the model gate would feed them. */
function requestInputs(model: FixtureModel, from = 0, to?: number) {
  const table = readColumns(model.data);
  const end = to ?? table.rows;
  return model.inputs.map((input) => {
    const columns = model.inputs.length === 1 ? model.features : [input.name];
    const values = columns.map((column) => table.column(column).slice(from, end).map(Number));
    const rows = end - from;
    const data: number[] = [];
    for (let r = 0; r < rows; r++) for (const column of values) data.push(column[r]);
    return {
      name: input.name,
      shape: input.shape.length === 2 ? [rows, columns.length] : [rows],
      datatype: DATATYPE[input.type],
      data,
    };
  });
}

/** ONNX Runtime's own outputs on the same inputs (tensor outputs only). */
async function runtimeOutputs(model: FixtureModel, inputs: ReturnType<typeof requestInputs>) {
  const ort = await loadOnnxRuntime();
  const session = await createOnnxSession(join(repoRoot, model.file));
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const input of inputs) {
      const type = ORT_TYPE[model.inputs.find((i) => i.name === input.name)?.type as string];
      const data =
        type === 'float32'
          ? Float32Array.from(input.data)
          : type === 'float64'
            ? Float64Array.from(input.data)
            : BigInt64Array.from(input.data, (v) => BigInt(v));
      feeds[input.name] = new ort.Tensor(type, data, input.shape);
    }
    const names = model.outputs.filter((o) => !o.type.startsWith('seq')).map((o) => o.name);
    const results = await session.run(feeds, names);
    return Object.fromEntries(
      names.map((name) => [
        name,
        {
          dims: results[name].dims,
          data: Array.from(results[name].data as ArrayLike<number | bigint | string>, (v) =>
            typeof v === 'bigint' ? Number(v) : v,
          ),
        },
      ]),
    );
  } finally {
    await session.release();
  }
}

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

// ---------------------------------------------------------------------------------------------

describe('the schema the server validates requests with', () => {
  it('is derived from the vendored OpenAPI description (UPDATE_OPEN_INFERENCE_SCHEMA=1 regenerates it)', () => {
    const derived = deriveOpenInferenceSchema(parseYaml(readFileSync(VENDORED, 'utf8')));
    if (process.env.UPDATE_OPEN_INFERENCE_SCHEMA === '1')
      writeFileSync(DERIVED, `${JSON.stringify(derived, null, 2)}\n`);
    expect(JSON.parse(readFileSync(DERIVED, 'utf8'))).toEqual(derived);
    // Every payload of the description is there, references rewritten.
    expect(Object.keys(derived.$defs as object).sort()).toEqual(
      Object.keys(description.components.schemas).sort(),
    );
    expect(JSON.stringify(derived)).not.toContain('#/components/');
  });
});

describe('mlops serve: the six endpoints', () => {
  it('answers health, server and model metadata, model ready and infer as the description says', async () => {
    const server = await serve(mlp());
    const base = server.url;
    for (const path of ['/v2', '/v2/']) {
      const answer = await call(base, 'GET', path);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ name: 'mlops-actions', extensions: [] });
    }
    expect((await call(base, 'GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await call(base, 'GET', '/v2/health/ready')).json).toMatchObject({ ready: true });
    for (const path of ['/v2/models/torch-mlp-logits', '/v2/models/torch-mlp-logits/versions/1.0.0']) {
      const metadata = await call(base, 'GET', path);
      expect(metadata.status).toBe(200);
      expect(metadata.json).toMatchObject({
        name: 'torch-mlp-logits',
        versions: ['1.0.0'],
        platform: 'onnx_onnxv1',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }],
        outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
      });
    }
    for (const path of [
      '/v2/models/torch-mlp-logits/ready',
      '/v2/models/torch-mlp-logits/versions/1.0.0/ready',
    ]) {
      const ready = await call(base, 'GET', path);
      expect(ready.status).toBe(200);
      expect(ready.json).toEqual({ name: 'torch-mlp-logits', ready: true });
    }
    const inputs = requestInputs(mlp(), 0, 2);
    for (const path of [
      '/v2/models/torch-mlp-logits/infer',
      '/v2/models/torch-mlp-logits/versions/1.0.0/infer',
    ]) {
      const answer = await call(base, 'POST', path, {
        id: 'req-7',
        inputs,
        parameters: { note: 'x', n: 1, b: true },
      });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({
        model_name: 'torch-mlp-logits',
        model_version: '1.0.0',
        id: 'req-7',
        outputs: [{ name: 'logits', datatype: 'FP32', shape: [2, 2] }],
      });
    }
    // Without an id, none is made up.
    const anonymous = await call(base, 'POST', '/v2/models/torch-mlp-logits/infer', { inputs });
    expect(anonymous.json).not.toHaveProperty('id');
  });

  it('answers unknown models, versions and paths with 404, wrong methods with 405, each with the error object', async () => {
    const base = (await serve(mlp())).url;
    const cases: [method: 'GET' | 'POST' | 'PUT', path: string, status: number, message: RegExp][] = [
      [
        'GET',
        '/v2/models/other',
        404,
        /Unknown model "other": this server serves "torch-mlp-logits" \(version 1\.0\.0\)/,
      ],
      ['GET', '/v2/models/torch-mlp-logits/versions/2.0.0', 404, /Unknown version "2\.0\.0"/],
      ['GET', '/v2/models/other/ready', 404, /Unknown model "other"/],
      ['POST', '/v2/models/other/infer', 404, /Unknown model "other"/],
      ['GET', '/v2/models/torch-mlp-logits/infer', 405, /GET is not allowed .*use POST/],
      ['PUT', '/v2/health/live', 405, /use GET/],
      ['GET', '/v1/models/torch-mlp-logits', 404, /No such path.*\/v2\/health\/live/],
      ['GET', '/v2/models/torch-mlp-logits/explain', 404, /No such path/],
    ];
    for (const [method, path, status, message] of cases) {
      const answer = await call(base, method, path, method === 'POST' ? { inputs: [] } : undefined);
      expect(answer.status, `${method} ${path}`).toBe(status);
      expect((answer.json as { error: string }).error).toMatch(message);
    }
  });
});

describe('mlops serve: infer on real rows', () => {
  for (const model of fixtures) {
    it(`${packageName(model)}: every row of ${basename(model.data)} at once, and single rows, equal ONNX Runtime's own outputs to 1e-6`, async () => {
      const base = (await serve(model)).url;
      const path = `/v2/models/${packageName(model)}/infer`;
      for (const [from, to] of [
        [0, undefined],
        [0, 1],
        [7, 8],
      ] as [number, number | undefined][]) {
        const inputs = requestInputs(model, from, to);
        const expected = await runtimeOutputs(model, inputs);
        const answer = await call(base, 'POST', path, { id: `${from}`, inputs });
        expect(answer.status, answer.text).toBe(200);
        const outputs = (
          answer.json as { outputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[] }
        ).outputs;
        // Every tensor output, none other (a ZipMap's sequence of maps is not a tensor).
        expect(outputs.map((o) => o.name).sort()).toEqual(Object.keys(expected).sort());
        for (const output of outputs) {
          const want = expected[output.name];
          expect(output.shape).toEqual([...want.dims]);
          expect(output.data).toHaveLength(want.data.length);
          for (const [i, value] of output.data.entries()) {
            const reference = want.data[i];
            if (typeof reference === 'string') expect(value).toBe(reference);
            else
              expect(Math.abs((value as number) - reference), `${output.name}[${i}]`).toBeLessThanOrEqual(
                1e-6,
              );
          }
        }
      }
    });
  }

  it('serves a model whose weights are external data, from the package folder', async () => {
    const onnx = join(repoRoot, 'test/fixtures/onnx');
    const [logistic] = JSON.parse(readFileSync(join(onnx, 'expected.json'), 'utf8')) as {
      golden: { features: number[][]; probability: number[] };
    }[];
    const pkg = await openPackage(await packageOf('test/fixtures/onnx/external.onnx', 'external'));
    expect(pkg.model.externalFiles.map((file) => file.location)).toEqual(['external.weights']);
    const server = await startInferenceServer({
      model: await createServedModel(pkg, onnxRuntimeSessions),
      logger: silentLogger,
    });
    closers.push(async () => {
      await server.close();
      await pkg.close();
    });
    const { features, probability } = logistic.golden;
    const answer = await call(server.url, 'POST', '/v2/models/external/infer', {
      inputs: [{ name: 'features', shape: [features.length, 4], datatype: 'FP32', data: features.flat() }],
    });
    const [output] = (answer.json as { outputs: { name: string; data: number[] }[] }).outputs;
    expect(output.name).toBe('probability');
    for (const [i, p] of probability.entries()) expect(Math.abs(output.data[i] - p)).toBeLessThan(1e-6);
  });

  it('takes tensor data nested as its shape, and asked-for outputs only, in the order asked', async () => {
    const model = fixture('sklearn-forest');
    const base = (await serve(model)).url;
    const [input] = requestInputs(model, 0, 3);
    const nested = [0, 1, 2].map((r) => input.data.slice(r * 30, (r + 1) * 30));
    const flat = await call(base, 'POST', '/v2/models/sklearn-forest/infer', { inputs: [input] });
    const answer = await call(base, 'POST', '/v2/models/sklearn-forest/infer', {
      inputs: [{ ...input, data: nested }],
      outputs: [{ name: 'probabilities' }, { name: 'label' }],
    });
    const byName = (json: unknown) =>
      Object.fromEntries(
        (json as { outputs: { name: string; data: unknown }[] }).outputs.map((o) => [o.name, o.data]),
      );
    expect((answer.json as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual([
      'probabilities',
      'label',
    ]);
    expect(byName(answer.json)).toEqual(byName(flat.json));
    const one = await call(base, 'POST', '/v2/models/sklearn-forest/infer', {
      inputs: [input],
      outputs: [{ name: 'label' }],
    });
    expect((one.json as { outputs: { name: string; datatype: string }[] }).outputs).toMatchObject([
      { name: 'label', datatype: 'INT64' },
    ]);
  });
});

describe('mlops serve: requests the model cannot take are 400 with a clear error', () => {
  it('names the field and what the model takes', async () => {
    const base = (await serve(fixture('per-column-regression'))).url;
    const path = '/v2/models/per-column-regression/infer';
    const good = requestInputs(fixture('per-column-regression'), 0, 2);
    const [age, bmi, bp] = good;
    const cases: [body: unknown, message: RegExp][] = [
      [
        { inputs: [{ ...age, shape: [2] }, bmi, bp] },
        /inputs\[0\] \("age"\): shape \[2\] does not fit the model's input "age" \[-1, 1\] \(rank 1, the model's is 2/,
      ],
      [
        { inputs: [{ ...age, shape: [1, 2] }, bmi, bp] },
        /shape \[1, 2\] does not fit .* \(dimension 2 must be 1/,
      ],
      [{ inputs: [{ ...age, shape: [3, 1] }, bmi, bp] }, /shape \[3, 1\] holds 3 values, but data has 2/],
      [
        { inputs: [{ ...age, datatype: 'FP32' }, bmi, bp] },
        /datatype "FP32", but the model's input "age" takes INT64/,
      ],
      [{ inputs: [{ ...age, data: [54.5, 45] }, bmi, bp] }, /data\[0\] is 54\.5; INT64 takes integers/],
      [
        { inputs: [age, { ...bmi, data: ['a', 1] }, bp] },
        /inputs\[1\] \("bmi"\): data\[0\] is "a"; FP64 takes numbers/,
      ],
      [
        { inputs: [age, bmi, bp, { ...bp, name: 'sex' }] },
        /inputs\[3\] \("sex"\): model "per-column-regression" has no input "sex"; its inputs are "age", "bmi", "bp"/,
      ],
      [{ inputs: [age, bmi] }, /The request has no input "bp"/],
      [{ inputs: [age, bmi, bp, bp] }, /input "bp" is given twice/],
      [
        { inputs: [age, bmi, bp], outputs: [{ name: 'probabilities' }] },
        /has no output "probabilities"; its outputs are "variable"/,
      ],
      [
        { inputs: [{ ...age, data: [[54], [45, 1]] }, bmi, bp] },
        /nested data must follow the shape \[2, 1\]: data\[1\] has 2 items, not 1/,
      ],
      [{ inputs: [{ ...age, shape: [2, -1] }, bmi, bp] }, /dimension 2 is -1, not a size/],
      [
        { id: 42, inputs: [age, bmi, bp] },
        /not an Open Inference Protocol inference request: id must be string/,
      ],
      [
        { inputs: [{ name: 'age', shape: [2, 1], data: [1, 2] }] },
        /inputs\[0\] must have required property 'datatype'/,
      ],
      [{ outputs: [] }, /must have required property 'inputs'/],
      [
        { inputs: [age, bmi, bp], parameters: { a: { b: 1 } } },
        /parameters\.a must be a string, a number or a boolean/,
      ],
      [
        { inputs: [age, bmi, bp], parameters: { binary_data_output: true } },
        /binary tensor data extension is not supported/,
      ],
      ['{"inputs": [', /The request body is not JSON/],
      ['', /The request body is not JSON/],
      [
        `${'['.repeat(100)}${']'.repeat(100)}`,
        /nests arrays or objects 100 levels deep; this server reads at most 64/,
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await call(base, 'POST', path, body);
      expect(answer.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect((answer.json as { error: string }).error, JSON.stringify(body).slice(0, 200)).toMatch(message);
    }
    // The same server still answers good requests.
    expect((await call(base, 'POST', path, { inputs: good })).status).toBe(200);
  });

  it('refuses an output that is not a tensor (ZipMap) and explains it', async () => {
    const model = fixture('sklearn-logreg-zipmap');
    const base = (await serve(model)).url;
    const answer = await call(base, 'POST', '/v2/models/sklearn-logreg-zipmap/infer', {
      inputs: requestInputs(model, 0, 1),
      outputs: [{ name: 'output_probability' }],
    });
    expect(answer.status).toBe(400);
    expect((answer.json as { error: string }).error).toMatch(
      /"output_probability" is not a tensor .* its tensor outputs are "output_label"/,
    );
    const metadata = await call(base, 'GET', '/v2/models/sklearn-logreg-zipmap');
    expect((metadata.json as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual([
      'output_label',
    ]);
  });

  it('refuses an oversized body from its Content-Length or as it streams, and a body that does not arrive in time', async () => {
    const limits = { maxBodyBytes: 4096, bodyTimeoutMs: 300 };
    const server = await serve(mlp(), limits);
    const path = '/v2/models/torch-mlp-logits/infer';
    const big = JSON.stringify({
      inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: new Array(2000).fill(0.5) }],
    });
    expect(big.length).toBeGreaterThan(4096);
    const declared = await rawRequest(server.url, 'POST', path, big);
    checkAnswer('POST', path, declared);
    expect(declared.status).toBe(400);
    expect((declared.json as { error: string }).error).toMatch(
      `has ${Buffer.byteLength(big)} bytes, more than this server's limit of 4096`,
    );
    expect(declared.headers.connection).toBe('close');
    // Chunked: no Content-Length, refused once it grows past the limit.
    const chunked = await rawRequest(server.url, 'POST', path, big, { 'transfer-encoding': 'chunked' });
    checkAnswer('POST', path, chunked);
    expect(chunked.status).toBe(400);
    expect((chunked.json as { error: string }).error).toMatch(
      /more than 4096 bytes|more than this server's limit of 4096/,
    );
    // Headers, then a body that stops half way: answered once bodyTimeoutMs has passed.
    const socket = await openSocket(server.url);
    const started = performance.now();
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inputs": [`,
    );
    const slow = await readAnswer(socket);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    checkAnswer('POST', path, slow);
    expect(slow.status).toBe(400);
    expect((slow.json as { error: string }).error).toMatch(/not received within 0\.3 s \(12 bytes arrived\)/);
    // A good request still works.
    expect((await call(server.url, 'POST', path, { inputs: requestInputs(mlp(), 0, 1) })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI

function openSocket(base: string): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads one HTTP/1.1 answer (with a Content-Length) from a socket. */
function readAnswer(socket: Socket): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      if (buffer.length < end + 4 + length) return;
      socket.off('data', onData);
      const text = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(head[0].split(' ')[1]), headers, text, json });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

interface RunningCli {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `mlops serve` (the built CLI) and waits until it listens. */
function startCli(args: string[]): Promise<RunningCli> {
  const child = spawn(node, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mlops serve did not start:\n${out}\n${err}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], stdout: () => out, stderr: () => err, exit });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`mlops serve exited ${code} before listening:\n${out}\n${err}`));
    });
  });
}

/** Runs `mlops serve` expecting it to stop by itself (an error). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('mlops serve (the CLI)', () => {
  let archive: string;
  beforeAll(async () => {
    archive = await packageOf('test/fixtures/models/torch-mlp-logits.onnx', 'breast-cancer');
  });

  it('SIGTERM: stops taking connections, answers the request in flight, closes idle keep-alive connections and exits 0', async () => {
    const running = await startCli(['--package', archive, '--port', '0']);
    const path = '/v2/models/breast-cancer/infer';
    expect((await call(running.url, 'GET', '/v2/health/ready')).status).toBe(200);
    // An idle keep-alive connection must not hold the shutdown up.
    const idle = await openSocket(running.url);
    idle.write('GET /v2/health/live HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await readAnswer(idle)).status).toBe(200);
    const idleClosed = new Promise((resolve) => idle.once('close', resolve));
    // A request in flight: its headers and half its body are sent before the signal, the rest after.
    const body = JSON.stringify({ id: 'in-flight', inputs: requestInputs(mlp(), 0, 1) });
    const busy = await openSocket(running.url);
    busy.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 100)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    running.child.kill('SIGTERM');
    await waitFor(
      () => /SIGTERM: stopping, answering 1 request in flight first/.test(running.stderr()),
      running,
    );
    await idleClosed;
    // No new connections.
    await expect(openSocket(running.url)).rejects.toThrow(/ECONNREFUSED/);
    busy.write(body.slice(100));
    const answer = await readAnswer(busy);
    checkAnswer('POST', path, answer);
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(answer.json).toMatchObject({ id: 'in-flight', outputs: [{ name: 'logits', shape: [1, 2] }] });
    expect(await running.exit).toEqual({ code: 0, signal: null });
  });

  it('verifies the package before serving: a changed file, an unlisted file or a link is exit 2 naming it', async () => {
    const built = await buildPackage({
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      name: 'tampered',
      version: '1.0.0',
      out: await temporaryDirectory('mlops-serve-tampered-'),
      lineage: TEST_LINEAGE,
    });
    await appendFile(join(built.directory, 'signature.json'), ' ');
    const changed = await runCli(['--package', built.directory, '--port', '0']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/fails verification, so it is not served: signature\.json: changed/);
    const other = await buildPackage({
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      name: 'extra',
      version: '1.0.0',
      out: await temporaryDirectory('mlops-serve-extra-'),
      lineage: TEST_LINEAGE,
    });
    await writeFile(join(other.directory, 'notes.txt'), 'hello');
    const extra = await runCli(['--package', other.directory, '--port', '0']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/notes\.txt: not in the manifest/);
    await readFile(join(other.directory, 'notes.txt'));
    const linked = await buildPackage({
      model: join(MODELS, 'torch-mlp-logits.onnx'),
      name: 'linked',
      version: '1.0.0',
      out: await temporaryDirectory('mlops-serve-linked-'),
      lineage: TEST_LINEAGE,
    });
    await symlink('/etc/passwd', join(linked.directory, 'passwd'));
    const link = await runCli(['--package', linked.directory, '--port', '0']);
    expect(link.code).toBe(2);
    expect(link.stderr).toMatch(/passwd is a symbolic link/);
  });

  it('usage mistakes are exit 2 naming the flag', async () => {
    const missing = await runCli(['--package', '/nonexistent/pkg.zip']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\/nonexistent\/pkg\.zip does not exist: give a package folder/);
    const port = await runCli(['--package', archive, '--port', 'http']);
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port must be a whole number from 0 to 65535; got "http"/);
    const size = await runCli(['--package', archive, '--max-request-mb', '0']);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--max-request-mb must be a positive number/);
    const running = await startCli(['--package', archive, '--port', '0']);
    const taken = await runCli(['--package', archive, '--port', new URL(running.url).port]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/Port \d+ on 127\.0\.0\.1 is in use: choose another port/);
    running.child.kill('SIGTERM');
    expect((await running.exit).code).toBe(0);
  });

  it('serves a package pulled from an OCI registry (oci://, pushed by mlops oci push), verified like any other', async (context) => {
    if (!process.env.CI && !existsSync('/usr/bin/docker-registry')) {
      context.skip(`Debian's docker-registry is missing (${ociToolsMissing().join(', ')})`);
    }
    const registry = await startRegistry();
    try {
      const pushed = await pushPackage({
        package: archive,
        to: `${registry.host}/models/breast-cancer:1.0.0`,
        plainHttp: true,
      });
      const running = await startCli([
        '--package',
        `oci://${pushed.reference}`,
        '--plain-http',
        '--port',
        '0',
      ]);
      const metadata = await call(running.url, 'GET', '/v2/models/breast-cancer');
      expect(metadata.json).toMatchObject({ name: 'breast-cancer', versions: ['1.0.0'] });
      const answer = await call(running.url, 'POST', '/v2/models/breast-cancer/infer', {
        inputs: requestInputs(mlp(), 0, 1),
      });
      expect(answer.status).toBe(200);
      running.child.kill('SIGTERM');
      expect((await running.exit).code).toBe(0);
      // https is the default: a loopback registry over plain http needs the flag.
      const refused = await runCli(['--package', `oci://${pushed.reference}`, '--port', '0']);
      expect(refused.code).toBe(2);
    } finally {
      await registry.stop();
    }
  });

  it('checked every answer of this file against the description', () => {
    expect(answersChecked).toBeGreaterThan(60);
  });
});

async function waitFor(condition: () => boolean, running: RunningCli): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; stdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
