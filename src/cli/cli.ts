/**
 * The CLI framework: commands with typed flags, `--help` generated from their definitions,
 * `--json` output, and the exit codes every command shares:
 * 0 passed · 1 the gate failed · 2 usage or input error · 3 internal error.
 */
import { parseArgs } from 'node:util';
import { ConfigurationError, formatLocation } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { didYouMean } from '../core/suggest.ts';

export const EXIT = { passed: 0, failed: 1, usage: 2, internal: 3 } as const;

export interface FlagDefinition {
  type: 'string' | 'boolean';
  description: string;
  /** Shown in help as `--flag <value>`. */
  value?: string;
  multiple?: boolean;
  short?: string;
}

export interface CommandContext {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** True with `--json`: print one JSON object on stdout, human text on stderr. */
  json: boolean;
  logger: Logger;
  /** Human-readable output (stdout, or stderr with --json). */
  print(text: string): void;
  /** The command's JSON result (printed with --json only). */
  result(value: unknown): void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagDefinition>;
  /** Extra help text after the flags. */
  details?: string;
  /**
   * Whether the command reads plain arguments (subcommands, files). Without it, any argument that is
   * not a flag is a usage error: a file after `--data x.csv` would otherwise be dropped in silence.
   */
  takesArguments?: boolean;
  run(context: CommandContext): Promise<number>;
}

const COMMON_FLAGS: Record<string, FlagDefinition> = {
  json: {
    type: 'boolean',
    description: 'Print the result as one JSON object on stdout (human text goes to stderr).',
  },
  verbose: { type: 'boolean', description: 'Print progress and debug details to stderr.' },
  help: { type: 'boolean', short: 'h', description: 'Show this help.' },
};

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Help text for one command. */
export function renderCommandHelp(command: Command): string {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const rows = Object.entries(flags).map(([name, flag]) => {
    const left = `  ${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.type === 'string' ? ` <${flag.value ?? 'value'}>` : ''}`;
    return `${left.padEnd(34)} ${flag.description}${flag.multiple ? ' (repeatable)' : ''}`;
  });
  return `${command.summary}\n\nUsage: ${command.usage}\n\nFlags:\n${rows.join('\n')}\n${command.details ? `\n${command.details}\n` : ''}`;
}

/** Help text for the whole CLI. */
export function renderMainHelp(commands: Command[], version: string): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`);
  return (
    `mlops ${version}: data and model gates, ONNX packaging and deployment PRs (MLOps level 2 on GitHub).\n\n` +
    `Usage: mlops <command> [flags]\n\nCommands:\n${rows.join('\n')}\n\n` +
    `Run \`mlops <command> --help\` for the flags of a command. Every command takes --json.\n` +
    'Exit codes: 0 passed, 1 the gate failed, 2 usage or input error (the message says what to fix), 3 internal error.\n'
  );
}

/** Parses argv for a command and runs it; returns the exit code. Never throws. */
export async function runCommand(command: Command, argv: string[], io: Io): Promise<number> {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  const human = (text: string) => (json ? io.stderr(text) : io.stdout(text));
  const logger: Logger = {
    info: (message) => io.stderr(`${message}\n`),
    warning: (message) => io.stderr(`warning: ${message}\n`),
    debug: (message) => {
      if (verbose) io.stderr(`debug: ${message}\n`);
    },
  };
  if (!verbose) logger.info = () => {};
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv,
        options: Object.fromEntries(
          Object.entries(flags).map(([name, flag]) => [
            name,
            {
              type: flag.type,
              ...(flag.multiple ? { multiple: true } : {}),
              ...(flag.short ? { short: flag.short } : {}),
            },
          ]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw usageError(error as Error & { code?: string }, command, Object.keys(flags));
    }
    if (parsed.values.help) {
      io.stdout(renderCommandHelp(command));
      return EXIT.passed;
    }
    if (!command.takesArguments && parsed.positionals.length > 0) {
      throw new ConfigurationError(
        `mlops ${command.name}: unexpected argument "${parsed.positionals[0]}" (a value goes after its flag, one per flag, e.g. --data FILE; --help marks the flags that can be repeated). Run \`mlops ${command.name} --help\`.`,
      );
    }
    let printed = false;
    const code = await command.run({
      flags: parsed.values as CommandContext['flags'],
      positionals: parsed.positionals,
      json,
      logger,
      print: human,
      result: (value) => {
        if (json && !printed) io.stdout(`${JSON.stringify(value, null, 2)}\n`);
        printed = true;
      },
    });
    return code;
  } catch (error) {
    return reportError(error, io, json, verbose);
  }
}

function usageError(error: Error & { code?: string }, command: Command, known: string[]): ConfigurationError {
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(error.message);
  if (unknown) {
    return new ConfigurationError(
      `mlops ${command.name}: unknown flag ${unknown[1]}${unknown[2]}.${didYouMean(unknown[2], known).replace('"', '"--')} Run \`mlops ${command.name} --help\` for the flags.`,
    );
  }
  return new ConfigurationError(
    `mlops ${command.name}: ${error.message}. Run \`mlops ${command.name} --help\`.`,
  );
}

/** Prints an error the way its class asks for and returns the exit code. */
export function reportError(error: unknown, io: Io, json: boolean, verbose: boolean): number {
  if (error instanceof ConfigurationError) {
    const where = formatLocation(error.location);
    const message = where && !error.message.includes(where) ? `${where}: ${error.message}` : error.message;
    io.stderr(`error: ${message}\n`);
    if (json)
      io.stdout(
        `${JSON.stringify({ error: { kind: error.name, message: error.message, location: error.location } })}\n`,
      );
    return EXIT.usage;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  io.stderr(`internal error (not a validation result; please report it): ${err.message}\n`);
  if (verbose && err.stack) io.stderr(`${err.stack}\n`);
  else io.stderr('Run again with --verbose for the stack trace.\n');
  if (json) io.stdout(`${JSON.stringify({ error: { kind: 'InternalError', message: err.message } })}\n`);
  return EXIT.internal;
}

/** A required string flag, or a usage error naming it. */
export function requireFlag(context: CommandContext, name: string, command: string): string {
  const value = context.flags[name];
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(`mlops ${command}: --${name} is required. Run \`mlops ${command} --help\`.`);
  }
  return value;
}

/** An optional string flag. */
export function stringFlag(context: CommandContext, name: string): string | undefined {
  const value = context.flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A repeatable string flag. */
export function listFlag(context: CommandContext, name: string): string[] {
  const value = context.flags[name];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}
