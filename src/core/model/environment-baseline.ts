/**
 * The model gate's view of an environment: `baseline: environment:<name>` compares the candidate
 * with the model that environment runs. The gate does not know environment repositories; the
 * deploy layer supplies a resolver (see `environmentBaselineResolver` in deploy/deployed-baseline.ts),
 * as `deploy` itself receives its pull-request API.
 */

/** `environment:<name>` as a baseline. */
export const ENVIRONMENT_BASELINE = /^environment:([A-Za-z0-9][A-Za-z0-9._-]*)$/;

/** The model an environment runs, fetched and verified, unpacked to a temporary folder. */
export interface EnvironmentModel {
  /** Path of the unpacked model.onnx. */
  model: string;
  version: string;
  packageRef: string;
  /** Removes the temporary folder. */
  remove(): Promise<void>;
}

/** Looks up the model an environment runs; `notDeployed` says why there is none (the project's first model). */
export interface EnvironmentBaselineResolver {
  /** The model's name in the environment repository, for messages. */
  readonly model: string;
  resolve(environment: string): Promise<EnvironmentModel | { notDeployed: string }>;
}
