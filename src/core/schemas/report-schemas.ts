/**
 * The gate reports' JSON Schema validators, compiled once on first use and shared by everything that
 * reads reports back (the report action, package-model), one per format version still read.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { InputError } from '../errors.ts';
import dataReportSchema from './data-validation-report.schema.json' with { type: 'json' };
import dataReportSchemaV1 from './data-validation-report.v1.schema.json' with { type: 'json' };
import modelReportSchema from './model-validation-report.schema.json' with { type: 'json' };
import modelReportSchemaV1 from './model-validation-report.v1.schema.json' with { type: 'json' };
import smokeTestReportSchema from './smoke-test-report.schema.json' with { type: 'json' };

/** The kinds of gate report, as their `kind` field spells them. */
export type GateReportKind = 'data-validation' | 'model-validation';

/** The version each gate writes now, and the older versions readers still accept (and upgrade). */
export const GATE_REPORT_VERSIONS = {
  'data-validation': { current: 2, read: [1, 2] },
  'model-validation': { current: 2, read: [1, 2] },
} as const satisfies Record<GateReportKind, { current: number; read: readonly number[] }>;

const SCHEMAS: Record<GateReportKind, Record<number, object>> = {
  'data-validation': { 1: dataReportSchemaV1, 2: dataReportSchema },
  'model-validation': { 1: modelReportSchemaV1, 2: modelReportSchema },
};

const compiled = new Map<string, ValidateFunction>();

/** The validator of a gate report kind's schema, for `version` (default: the current one). */
export function gateReportValidator(kind: GateReportKind, version?: number): ValidateFunction {
  const resolved = version ?? GATE_REPORT_VERSIONS[kind].current;
  const key = `${kind}@${resolved}`;
  let validate = compiled.get(key);
  if (!validate) {
    const schema = SCHEMAS[kind][resolved];
    if (!schema) throw new RangeError(`No schema for ${kind} report version ${resolved}`);
    // `required` inside `oneOf` branches trips ajv's strict mode; the schemas are checked strictly
    // against their producers in the gates' own tests, so readers compile them leniently.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

/**
 * Checks that `json` (read from `file`) is a gate report of a kind and version this tool reads and
 * that it matches that version's schema; throws an `InputError` naming the file and what is wrong
 * otherwise (`fix` ends the schema message, e.g. "Pass the report as the gate wrote it.").
 */
export function checkGateReport(
  json: unknown,
  file: string,
  fix: string,
): { kind: GateReportKind; version: number } {
  const record = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const kind = record.kind;
  if (
    typeof json !== 'object' ||
    json === null ||
    !(typeof kind === 'string' && kind in GATE_REPORT_VERSIONS)
  ) {
    throw new InputError(
      `${file} is not a gate report: its kind is ${JSON.stringify(kind)}, expected data-validation or model-validation. List only the reports validate-data and validate-model wrote.`,
      { file },
    );
  }
  const versions = GATE_REPORT_VERSIONS[kind as GateReportKind];
  const version = record.version;
  if (typeof version !== 'number' || !(versions.read as readonly number[]).includes(version)) {
    throw new InputError(
      `${file} is a ${kind} report of version ${JSON.stringify(version)}; this version of mlops-actions reads version${versions.read.length > 1 ? 's' : ''} ${versions.read.join(' and ')}. Use the same version of the gate actions and the report action.`,
      { file },
    );
  }
  const validate = gateReportValidator(kind as GateReportKind, version);
  if (!validate(json)) {
    const first = validate.errors?.[0];
    throw new InputError(
      `${file} does not match the ${kind} report schema (version ${version}) at ${first?.instancePath || '/'}: ${first?.message}. ${fix}`,
      { file, key: first?.instancePath },
    );
  }
  return { kind: kind as GateReportKind, version };
}

let smokeTestValidator: ValidateFunction | undefined;

/**
 * Checks that `json` (read from `file`) is a `smoke-test` report of version 1 that matches its
 * schema; throws an `InputError` naming the file otherwise. The smoke test is not a gate a package
 * carries, so it is read here apart from {@link checkGateReport}.
 */
export function checkSmokeTestReport(json: Record<string, unknown>, file: string, fix: string): void {
  if (json.version !== 1) {
    throw new InputError(
      `${file} is a smoke-test report of version ${JSON.stringify(json.version)}; this version of mlops-actions reads version 1. Use the same version of the smoke-test action and the report action.`,
      { file },
    );
  }
  smokeTestValidator ??= new Ajv2020({ allErrors: true, strict: false }).compile(smokeTestReportSchema);
  if (!smokeTestValidator(json)) {
    const first = smokeTestValidator.errors?.[0];
    throw new InputError(
      `${file} does not match the smoke-test report schema (version 1) at ${first?.instancePath || '/'}: ${first?.message}. ${fix}`,
      { file, key: first?.instancePath },
    );
  }
}
