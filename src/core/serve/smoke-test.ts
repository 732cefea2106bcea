/**
 * The serving smoke test: a package is served as a model server would serve it, before it reaches
 * an environment. It is opened and verified, served with ONNX Runtime over the Open Inference
 * Protocol on loopback, and then, as a client:
 *
 * - health: `/v2/health/live`, `/v2/health/ready`, the model's `…/ready` and `/v2` answer 200;
 * - metadata: `/v2/models/<name>` names the package's model and version, and lists the inputs and
 *   outputs the package's signature records (datatype and shape; -1 for a variable dimension);
 * - parity: `infer` on the golden inputs gives the golden outputs within `atol + rtol·|expected|`
 *   (the package's golden.json, else the one given; tolerances as the model gate's);
 * - latency: the p95 of one-row `infer` round trips (client time included) is within the budget
 *   (`model.budgets.latency-p95-ms` of mlops.yaml, else the one the package's model report recorded).
 *
 * Every answer must also match the protocol's schema (derived from its OpenAPI description). One
 * JSON report (kind smoke-test, version 1, src/core/schemas/smoke-test-report.schema.json) says
 * what was checked and why each check passed, failed or was skipped.
 */
import { ConfigurationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { quantileSorted } from '../model/latency.ts';
import { MODEL_GATE_DEFAULTS } from '../model/options.ts';
import { type GoldenFile, loadGoldenFile } from '../model/parity.ts';
import {
  type MetadataTensor,
  SMOKE_TEST_CHECKS,
  type SmokeTestCheck,
  type SmokeTestCheckName,
  type SmokeTestReport,
} from '../report/smoke-test-report.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { createProtocolClient, type HttpAnswer, type ProtocolClient } from './client.ts';
import { describeSchemaError, openInferenceValidator, type TensorSpec } from './open-inference.ts';
import {
  createServedModel,
  type OpenedPackage,
  openPackage,
  PackageRejected,
  type PullPackage,
} from './open-package.ts';
import { onnxRuntimeSessions, type SessionFactory } from './served-model.ts';
import { type InferenceServer, type ServerLimits, startInferenceServer } from './server.ts';

export interface SmokeTestOptions {
  /** A package folder, archive or oci:// reference. */
  package: string;
  /** A golden file, used when the package carries none. */
  golden?: string;
  /** Tolerances given (mlops.yaml's model.golden), with where they came from. */
  tolerance?: { atol?: number; rtol?: number; source: string };
  /** The p95 latency budget given (mlops.yaml's model.budgets), with where it came from. */
  budget?: { latencyP95Ms: number; source: string };
  /** Timed one-row requests (default 200) after `warmup` untimed ones (default 20). */
  runs?: number;
  warmup?: number;
  logger: Logger;
  sessions?: SessionFactory;
  pull?: PullPackage;
  limits?: Partial<ServerLimits>;
}

/** Worst values kept in the report. */
const WORST = 5;
/** Golden rows cycled through by the latency requests. */
const LATENCY_ROWS = 64;

/**
 * Runs the smoke test. A package that fails verification or a model ONNX Runtime cannot load is a
 * failed check in the report; a path that does not exist or a golden file that is not one is an
 * `InputError` (the user's to fix), as is an `oci://` reference this build cannot pull.
 */
export async function runSmokeTest(options: SmokeTestOptions): Promise<SmokeTestReport> {
  const started = performance.now();
  const checks: SmokeTestCheck[] = [];
  const report: SmokeTestReport = {
    kind: 'smoke-test',
    version: 1,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    passed: false,
    package: { path: options.package, name: null, version: null, digest: null, contentSha256: null },
    server: { protocol: 'open-inference-v2-rest', url: null, startMs: null },
    checks,
  };
  const skipRest = (after: SmokeTestCheckName) => {
    for (const check of SMOKE_TEST_CHECKS.slice(SMOKE_TEST_CHECKS.indexOf(after) + 1)) {
      checks.push({ check, status: 'skipped', reason: `not run: the ${after} check failed` });
    }
  };
  const finish = () => {
    report.passed = checks.length > 0 && checks.every((check) => check.status !== 'failed');
    return report;
  };

  let pkg: OpenedPackage;
  try {
    pkg = await openPackage(options.package, { pull: options.pull });
  } catch (error) {
    if (!(error instanceof PackageRejected)) throw error;
    checks.push({ check: 'package', status: 'failed', reason: error.message });
    skipRest('package');
    return finish();
  }
  try {
    const { manifest } = pkg;
    report.package = {
      path: options.package,
      name: manifest.package.name,
      version: manifest.package.version,
      digest: pkg.digest ?? null,
      contentSha256: manifest.contentSha256,
    };
    checks.push({
      check: 'package',
      status: 'passed',
      reason: `${manifest.files.length + 1} files match the manifest${pkg.digest ? `; package digest sha256:${pkg.digest}` : ''}`,
    });
    // The golden file is read before anything runs: one that is not a golden file is the user's to fix.
    const goldenPath = pkg.golden ?? options.golden;
    const golden = goldenPath ? await loadGoldenFile(goldenPath, pkg.model) : undefined;

    let server: InferenceServer;
    try {
      const model = await createServedModel(pkg, options.sessions ?? onnxRuntimeSessions);
      try {
        server = await startInferenceServer({
          model,
          host: '127.0.0.1',
          port: 0,
          logger: options.logger,
          limits: options.limits,
        });
      } catch (error) {
        await model.session.release();
        throw error;
      }
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      checks.push({ check: 'load', status: 'failed', reason: error.message });
      skipRest('load');
      return finish();
    }
    report.server.url = server.url;
    report.server.startMs = performance.now() - started;
    checks.push({
      check: 'load',
      status: 'passed',
      reason: `ONNX Runtime loaded model.onnx and the server answers at ${server.url}`,
    });
    const client = createProtocolClient(server.url);
    try {
      checks.push(await checkHealth(client, pkg));
      const metadata = await checkMetadata(client, pkg);
      report.metadata = metadata.details;
      checks.push(metadata.check);
      if (golden && goldenPath) {
        const parity = await checkParity(client, pkg, golden, goldenPath, options);
        report.parity = parity.details;
        checks.push(parity.check);
      } else {
        checks.push({
          check: 'parity',
          status: 'skipped',
          reason:
            'no golden file: the package carries no golden.json and none was given (--golden, the golden input, or model.golden.path in mlops.yaml)',
        });
      }
      const latency = await checkLatency(client, pkg, golden, options);
      report.latency = latency.details;
      checks.push(latency.check);
    } finally {
      client.close();
      await server.close();
    }
    return finish();
  } finally {
    await pkg.close();
  }
}

/** The path of a model endpoint. */
function modelPath(pkg: OpenedPackage, suffix = ''): string {
  return `/v2/models/${encodeURIComponent(pkg.manifest.package.name)}${suffix}`;
}

/** Why an answer is not what the protocol says, or undefined. */
function checkAnswer(answer: HttpAnswer, schema: string | undefined, what: string): string | undefined {
  if (answer.status !== 200) {
    const error = (answer.json as { error?: unknown } | undefined)?.error;
    return `${what} answered ${answer.status}${typeof error === 'string' ? `: ${error}` : ''}`;
  }
  if (schema) {
    const validate = openInferenceValidator(schema);
    if (!validate(answer.json)) {
      return `${what}'s answer is not the protocol's ${schema}: ${describeSchemaError(validate.errors?.[0], 'the answer')}`;
    }
  }
  return undefined;
}

async function checkHealth(client: ProtocolClient, pkg: OpenedPackage): Promise<SmokeTestCheck> {
  const problems: string[] = [];
  for (const [path, schema] of [
    ['/v2/health/live', undefined],
    ['/v2/health/ready', undefined],
    [modelPath(pkg, '/ready'), undefined],
    ['/v2', 'metadata_server_response'],
  ] as const) {
    const answer = await client.request('GET', path);
    const problem = checkAnswer(answer, schema, `GET ${path}`);
    if (problem) problems.push(problem);
  }
  return problems.length > 0
    ? { check: 'health', status: 'failed', reason: problems.join('; ') }
    : {
        check: 'health',
        status: 'passed',
        reason: 'live, ready, the model ready and the server metadata answer 200',
      };
}

/** A signature type ("float [?, 30]", "sequence of …") as protocol metadata, or undefined for a non-tensor. */
function signatureTensor(
  entry: { name: string; type: string },
  tensors: readonly TensorSpec[],
): MetadataTensor | undefined {
  const match = /^(\w+) \[(.*)\]$/.exec(entry.type);
  if (!match) return undefined;
  const served = tensors.find((spec) => spec.name === entry.name);
  const dims = match[2] === '?' ? null : match[2].split(', ').map((d) => (/^\d+$/.test(d) ? Number(d) : -1));
  return {
    name: entry.name,
    // The datatype the protocol gives this element type (from the served spec of the same type).
    datatype: served?.datatype ?? `(${match[1]})`,
    shape: dims ?? [-1],
  };
}

async function checkMetadata(
  client: ProtocolClient,
  pkg: OpenedPackage,
): Promise<{ check: SmokeTestCheck; details?: SmokeTestReport['metadata'] }> {
  const path = modelPath(pkg);
  const answer = await client.request('GET', path);
  const problem = checkAnswer(answer, 'metadata_model_response', `GET ${path}`);
  if (problem) return { check: { check: 'metadata', status: 'failed', reason: problem } };
  const metadata = answer.json as {
    name: string;
    versions?: string[];
    inputs?: MetadataTensor[];
    outputs?: MetadataTensor[];
  };
  const { name, version } = pkg.manifest.package;
  const mismatches: string[] = [];
  if (metadata.name !== name) mismatches.push(`name is "${metadata.name}", the package's is "${name}"`);
  if (!metadata.versions?.includes(version))
    mismatches.push(
      `versions ${JSON.stringify(metadata.versions ?? [])} do not include the package's ${version}`,
    );
  // What the package recorded (signature.json; the manifest's ONNX identity for packages without one).
  const recorded = pkg.signature ?? pkg.manifest.onnx;
  const compare = (
    part: 'inputs' | 'outputs',
    served: readonly MetadataTensor[] | undefined,
    specs: readonly TensorSpec[],
  ) => {
    const expected = recorded[part]
      .map((entry) => signatureTensor(entry, specs))
      .filter((tensor): tensor is MetadataTensor => tensor !== undefined);
    const list = served ?? [];
    for (const tensor of expected) {
      const found = list.find((t) => t.name === tensor.name);
      if (!found) mismatches.push(`${part}: "${tensor.name}" is in the signature but not served`);
      else if (found.datatype !== tensor.datatype || found.shape.join(',') !== tensor.shape.join(',')) {
        mismatches.push(
          `${part}: "${tensor.name}" is served as ${found.datatype} [${found.shape.join(', ')}], the signature says ${tensor.datatype} [${tensor.shape.join(', ')}]`,
        );
      }
    }
    for (const tensor of list) {
      if (!expected.some((t) => t.name === tensor.name))
        mismatches.push(`${part}: "${tensor.name}" is served but not in the signature`);
    }
  };
  compare('inputs', metadata.inputs, pkg.tensors.inputs);
  compare('outputs', metadata.outputs, pkg.tensors.outputs);
  const details = { inputs: metadata.inputs ?? [], outputs: metadata.outputs ?? [], mismatches };
  const describe = (tensors: readonly MetadataTensor[]) =>
    tensors.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join(', ');
  return {
    details,
    check:
      mismatches.length > 0
        ? { check: 'metadata', status: 'failed', reason: mismatches.join('; ') }
        : {
            check: 'metadata',
            status: 'passed',
            reason: `${name} ${version}: inputs ${describe(details.inputs)}; outputs ${describe(details.outputs)}, as the signature records`,
          },
  };
}

/** A protocol request input from a golden tensor (rows `from`…`to` of it, or all). */
function requestInput(
  spec: TensorSpec,
  tensor: { shape: number[]; data: number[] },
  rows?: { from: number; to: number },
): { name: string; shape: number[]; datatype: string; data: (number | boolean)[] } {
  let shape = tensor.shape;
  let data: (number | boolean)[] = tensor.data;
  if (rows) {
    const width = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
    shape = [rows.to - rows.from, ...tensor.shape.slice(1)];
    data = tensor.data.slice(rows.from * width, rows.to * width);
  }
  if (spec.datatype === 'BOOL') data = data.map((v) => v !== 0);
  return { name: spec.name, shape, datatype: spec.datatype, data };
}

/** Zeros of one row for an input: variable dimensions are 1. */
function zeroInput(spec: TensorSpec): { name: string; shape: number[]; datatype: string; data: unknown[] } {
  const shape = (spec.shape ?? [1]).map((d) => (d === -1 ? 1 : d));
  const size = shape.reduce((a, b) => a * b, 1);
  const zero = spec.datatype === 'BOOL' ? false : spec.datatype === 'BYTES' ? '' : 0;
  return { name: spec.name, shape, datatype: spec.datatype, data: new Array(size).fill(zero) };
}

async function checkParity(
  client: ProtocolClient,
  pkg: OpenedPackage,
  golden: GoldenFile,
  goldenPath: string,
  options: SmokeTestOptions,
): Promise<{ check: SmokeTestCheck; details: NonNullable<SmokeTestReport['parity']> }> {
  const recorded = pkg.modelReport?.parity as { atol?: number; rtol?: number } | undefined;
  const atol = options.tolerance?.atol ?? recorded?.atol ?? MODEL_GATE_DEFAULTS.atol;
  const rtol = options.tolerance?.rtol ?? recorded?.rtol ?? MODEL_GATE_DEFAULTS.rtol;
  const toleranceSource =
    options.tolerance?.atol !== undefined || options.tolerance?.rtol !== undefined
      ? options.tolerance.source
      : recorded
        ? "the package's model report (the model gate's parity check)"
        : "the model gate's defaults";
  const specs = pkg.tensors.inputs;
  const rows = golden.inputs[specs[0].name]?.shape[0] ?? 0;
  // A model whose batch dimension is fixed (e.g. 1) gets the golden rows one request at a time.
  const batched = specs.every(
    (spec) => spec.shape === null || spec.shape[0] === -1 || spec.shape[0] === rows,
  );
  const requests = batched ? [undefined] : Array.from({ length: rows }, (_, r) => ({ from: r, to: r + 1 }));
  const outputs = Object.keys(golden.outputs);
  const actual: Record<string, number[]> = Object.fromEntries(outputs.map((name) => [name, []]));
  const path = modelPath(pkg, '/infer');
  const base: NonNullable<SmokeTestReport['parity']> = {
    golden: goldenPath,
    source: pkg.golden ? 'package' : 'given',
    atol,
    rtol,
    toleranceSource,
    rows,
    requests: requests.length,
    passed: false,
    maxAbsDiff: null,
    mismatches: 0,
    worst: [],
  };
  const fail = (reason: string) => ({
    check: { check: 'parity' as const, status: 'failed' as const, reason },
    details: base,
  });
  const notServed = outputs.filter((name) => !pkg.tensors.outputs.some((spec) => spec.name === name));
  if (notServed.length > 0) {
    return fail(
      `the golden file's output${notServed.length === 1 ? '' : 's'} ${notServed.map((n) => `"${n}"`).join(', ')} ${notServed.length === 1 ? 'is' : 'are'} not a tensor the server can return`,
    );
  }
  for (const [index, rowRange] of requests.entries()) {
    const body = JSON.stringify({
      id: `smoke-test-parity-${index}`,
      inputs: specs.map((spec) => requestInput(spec, golden.inputs[spec.name], rowRange)),
      outputs: outputs.map((name) => ({ name })),
    });
    const answer = await client.request('POST', path, body);
    const problem = checkAnswer(answer, 'inference_response', `POST ${path}`);
    if (problem) return fail(problem);
    const response = answer.json as { id?: string; outputs: { name: string; data: unknown[] }[] };
    if (response.id !== `smoke-test-parity-${index}`)
      return fail(`POST ${path} answered with id ${JSON.stringify(response.id)}, not the request's`);
    for (const name of outputs) {
      const output = response.outputs.find((o) => o.name === name);
      if (!output) return fail(`POST ${path} did not return the output "${name}" it was asked for`);
      for (const value of output.data.flat(Number.POSITIVE_INFINITY) as unknown[])
        actual[name].push(Number(value));
    }
  }
  const all: NonNullable<SmokeTestReport['parity']>['worst'] = [];
  let maxAbsDiff = 0;
  let mismatches = 0;
  for (const name of outputs) {
    const expected = golden.outputs[name];
    const got = actual[name];
    if (got.length !== expected.data.length) {
      return fail(`output "${name}" has ${got.length} values; the golden file has ${expected.data.length}`);
    }
    const perRow = expected.data.length / Math.max(1, expected.shape[0] ?? 1);
    for (let i = 0; i < got.length; i++) {
      const e = expected.data[i];
      const a = got[i];
      const diff = Math.abs(a - e);
      if (Number.isNaN(diff)) maxAbsDiff = Number.POSITIVE_INFINITY;
      else if (diff > maxAbsDiff) maxAbsDiff = diff;
      if (!(diff <= atol + rtol * Math.abs(e))) {
        mismatches++;
        all.push({
          output: name,
          row: Math.floor(i / perRow),
          index: i % perRow,
          expected: e,
          actual: a,
          absDiff: diff,
        });
      }
    }
  }
  all.sort((x, y) => (y.absDiff ?? Number.POSITIVE_INFINITY) - (x.absDiff ?? Number.POSITIVE_INFINITY));
  const finite = (v: number | null) => (v === null || Number.isFinite(v) ? v : null);
  const details = {
    ...base,
    passed: mismatches === 0,
    maxAbsDiff: finite(maxAbsDiff),
    mismatches,
    worst: all.slice(0, WORST).map((w) => ({
      ...w,
      expected: finite(w.expected),
      actual: finite(w.actual),
      absDiff: finite(w.absDiff),
    })),
  };
  const values = outputs.reduce((n, name) => n + golden.outputs[name].data.length, 0);
  return {
    details,
    check:
      mismatches === 0
        ? {
            check: 'parity',
            status: 'passed',
            reason: `${values} values of ${rows} golden rows within ${atol} + ${rtol}·|expected| (largest difference ${formatNumber(maxAbsDiff)})`,
          }
        : {
            check: 'parity',
            status: 'failed',
            reason: `${mismatches} of ${values} values outside ${atol} + ${rtol}·|expected| (largest difference ${formatNumber(maxAbsDiff)}, output "${all[0].output}" row ${all[0].row})`,
          },
  };
}

async function checkLatency(
  client: ProtocolClient,
  pkg: OpenedPackage,
  golden: GoldenFile | undefined,
  options: SmokeTestOptions,
): Promise<{ check: SmokeTestCheck; details?: SmokeTestReport['latency'] }> {
  const runs = options.runs ?? 200;
  const warmup = options.warmup ?? 20;
  const specs = pkg.tensors.inputs;
  const goldenRows = golden ? (golden.inputs[specs[0].name]?.shape[0] ?? 0) : 0;
  const bodies: string[] = [];
  if (golden && goldenRows > 0) {
    for (let r = 0; r < Math.min(goldenRows, LATENCY_ROWS); r++) {
      bodies.push(
        JSON.stringify({
          inputs: specs.map((spec) => requestInput(spec, golden.inputs[spec.name], { from: r, to: r + 1 })),
        }),
      );
    }
  } else {
    bodies.push(JSON.stringify({ inputs: specs.map(zeroInput) }));
  }
  const path = modelPath(pkg, '/infer');
  const times = new Float64Array(runs);
  for (let i = 0; i < warmup + runs; i++) {
    const answer = await client.request('POST', path, bodies[i % bodies.length]);
    const problem = checkAnswer(answer, i === 0 ? 'inference_response' : undefined, `POST ${path}`);
    if (problem)
      return { check: { check: 'latency', status: 'failed', reason: `one-row requests fail: ${problem}` } };
    if (i >= warmup) times[i - warmup] = answer.ms;
  }
  times.sort();
  const recorded = (pkg.modelReport?.budgets as { budget?: string; limit?: number }[] | undefined)?.find(
    (budget) => budget.budget === 'latency-p95-ms' && typeof budget.limit === 'number',
  );
  const budget = options.budget
    ? { limitMs: options.budget.latencyP95Ms, source: options.budget.source }
    : recorded
      ? { limitMs: recorded.limit as number, source: "the package's model report (the model gate's budget)" }
      : null;
  const p95 = quantileSorted(times, 0.95);
  const details = {
    runs,
    warmupRuns: warmup,
    p50Ms: quantileSorted(times, 0.5),
    p95Ms: p95,
    p99Ms: quantileSorted(times, 0.99),
    maxMs: times[times.length - 1] ?? 0,
    input: bodies.length > 0 && golden && goldenRows > 0 ? ('golden' as const) : ('zeros' as const),
    budget,
    passed: budget ? p95 <= budget.limitMs : null,
  };
  const measured = `p95 ${formatMs(p95)} over ${runs} one-row infer round trips (p50 ${formatMs(details.p50Ms)}, client time included)`;
  return {
    details,
    check: !budget
      ? {
          check: 'latency',
          status: 'skipped',
          reason: `${measured}; no budget to hold it to (model.budgets.latency-p95-ms in mlops.yaml, or a latency budget in the package's model report)`,
        }
      : {
          check: 'latency',
          status: details.passed ? 'passed' : 'failed',
          reason: `${measured} ${details.passed ? 'within' : 'over'} the budget of ${formatMs(budget.limitMs)} (${budget.source})`,
        },
  };
}

function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(3)).toString() : String(value);
}

/** One line per check, for a terminal or a log. */
export function renderSmokeTestText(report: SmokeTestReport, reportPath?: string): string {
  const icon = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;
  const head = `${report.passed ? 'PASSED' : 'FAILED'}  smoke test of ${report.package.name ?? report.package.path}${report.package.version ? ` ${report.package.version}` : ''} (Open Inference Protocol v2, loopback)`;
  const lines = report.checks.map(
    (check) => `  ${icon[check.status]}  ${check.check.padEnd(9)} ${check.reason}`,
  );
  return `${head}\n${lines.join('\n')}\n${reportPath ? `  report: ${reportPath}\n` : ''}`;
}
