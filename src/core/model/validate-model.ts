/**
 * The model gate: evaluates a candidate ONNX model on a holdout, compares it with a baseline on
 * the same rows, attaches paired-bootstrap intervals, and decides with the configured gates.
 * Returns a `model-validation` report (version 2, schema in src/core/schemas/); user mistakes and
 * unreadable inputs throw `ConfigurationError`/`InputError` and never become a failed gate.
 *
 * The parts: options.ts (what is asked, the defaults), evaluation.ts (the models run on the
 * holdout, or a shard of it), decide.ts (metrics, intervals, slices, gates, budgets: the report),
 * gates.ts (how one gate decides), report-types.ts (the report).
 */
import type { Logger } from '../logger.ts';
import { decideModelGate, requireGates } from './decide.ts';
import { evaluateModelGate } from './evaluation.ts';
import type { ValidateModelOptions } from './options.ts';
import type { ModelValidationReport } from './report-types.ts';

export { decideModelGate } from './decide.ts';
export { type EvaluatedModels, evaluateModelGate } from './evaluation.ts';
export { type DecideOptions, MODEL_GATE_DEFAULTS, type ValidateModelOptions } from './options.ts';
export type { ModelValidationReport } from './report-types.ts';

/**
 * Runs the model gate. Throws `ConfigurationError`/`InputError` for things the user must fix
 * (no gates, unreadable model or data, signature mismatches); returns the report otherwise.
 */
export async function validateModel(
  options: ValidateModelOptions,
  logger: Logger,
): Promise<ModelValidationReport> {
  requireGates(options.gates);
  const evaluated = await evaluateModelGate(options, logger);
  return decideModelGate(evaluated, options);
}
