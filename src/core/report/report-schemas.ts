/**
 * The gate reports' JSON Schema validators, compiled once on first use and shared by everything that
 * reads reports back (the report action, package-model).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import dataReportSchema from '../schemas/data-validation-report.schema.json' with { type: 'json' };
import modelReportSchema from '../schemas/model-validation-report.schema.json' with { type: 'json' };

/** The kinds of gate report, as their `kind` field spells them. */
export type GateReportKind = 'data-validation' | 'model-validation';

let compiled: Record<GateReportKind, ValidateFunction> | undefined;

/** The validator of a gate report kind's schema. */
export function gateReportValidator(kind: GateReportKind): ValidateFunction {
  // `required` inside `oneOf` branches trips ajv's strict mode; the schemas are checked strictly
  // against their producers in the gates' own tests, so readers compile them leniently.
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    compiled = {
      'data-validation': ajv.compile(dataReportSchema),
      'model-validation': ajv.compile(modelReportSchema),
    };
  }
  return compiled[kind];
}
