/**
 * What the engine may say while it works. The action adapter writes through @actions/core, the
 * CLI to stderr; tests pass a silent or collecting logger. Core never writes to the console.
 */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { info() {}, warning() {}, debug() {} };
