/**
 * The one wrapper every action's entry calls: it maps errors to the runner protocol.
 * - a user's mistake (ConfigurationError/InputError): one `::error` annotation naming the file
 *   and line when known, no stack trace, exit 1;
 * - a gate that said no (ValidationFailure): the findings were already annotated, one summary
 *   `::error` with the report path, exit 1;
 * - anything else: an internal error, reported as such with its stack in the debug log.
 */
import * as core from '@actions/core';
import { ConfigurationError, ValidationFailure } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** A logger that writes through @actions/core. */
export const actionsLogger: Logger = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  debug: (message) => core.debug(message),
};

/** Runs an action's main function and reports its outcome to the runner. */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const { file, line, column } = error.location;
      core.error(error.message, { title: 'Configuration error', file, startLine: line, startColumn: column });
      process.exitCode = 1;
    } else if (error instanceof ValidationFailure) {
      core.setFailed(error.message);
    } else {
      const err = error instanceof Error ? error : new Error(String(error));
      core.debug(err.stack ?? err.message);
      core.setFailed(
        `Internal error in mlops-actions (not a validation result; please report it): ${err.message}`,
      );
    }
  }
}
