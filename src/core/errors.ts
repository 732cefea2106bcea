/**
 * Error classes shared by every part of the engine.
 *
 * The adapters (actions, CLI) map them to exit codes and messages:
 * - {@link ConfigurationError} and {@link InputError}: the user can fix it (exit 2, no stack trace);
 * - {@link ValidationFailure}: a gate said no (exit 1), not an error in our code;
 * - anything else is an internal error (exit 3, stack trace in debug output).
 */

/** Where in a user's file something went wrong. */
export interface SourceLocation {
  /** Path of the file, as the user gave it. */
  file?: string;
  /** 1-based line number. */
  line?: number;
  /** 1-based column (character) number. */
  column?: number;
  /** A key path inside a config or schema file, e.g. `data.drift.columns.age`. */
  key?: string;
}

/** A mistake in the user's configuration, inputs or flags: the message says what to change. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
  readonly location: SourceLocation;
  constructor(message: string, location: SourceLocation = {}, options?: ErrorOptions) {
    super(message, options);
    this.location = location;
  }
}

/** Input data that cannot be read (missing file, broken gzip, ragged CSV, invalid UTF-8, …). */
export class InputError extends ConfigurationError {
  override name = 'InputError';
}

/** A gate decided that the inputs do not pass. Carries the report that explains why. */
export class ValidationFailure extends Error {
  override name = 'ValidationFailure';
  readonly reportPath: string | undefined;
  constructor(message: string, reportPath?: string) {
    super(message);
    this.reportPath = reportPath;
  }
}

/** True for errors the user can fix (configuration, flags, unreadable inputs). */
export function isUserError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError;
}

/** Formats a location as `file:line:column` or `file (key)` for messages. */
export function formatLocation(location: SourceLocation): string {
  let text = location.file ?? '';
  if (location.line !== undefined) {
    text += `:${location.line}`;
    if (location.column !== undefined) text += `:${location.column}`;
  }
  if (location.key !== undefined) text += text ? ` (${location.key})` : location.key;
  return text;
}
