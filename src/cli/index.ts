/** `mlops`: the command-line adapter of the engine. */

import { didYouMean } from '../core/suggest.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { type Command, EXIT, renderMainHelp, runCommand } from './cli.ts';
import { deployCommand } from './commands/deploy.ts';
import { historyCommand } from './commands/history.ts';
import { initCommand } from './commands/init.ts';
import { ociCommand } from './commands/oci.ts';
import { packageCommand } from './commands/package.ts';
import { profileCommand } from './commands/profile.ts';
import { reportCommand } from './commands/report.ts';
import { schemaCommand } from './commands/schema.ts';
import { serveCommand } from './commands/serve.ts';
import { smokeTestCommand } from './commands/smoke-test.ts';
import { validateDataCommand } from './commands/validate-data.ts';
import { validateModelCommand } from './commands/validate-model.ts';

const COMMANDS: Command[] = [
  validateDataCommand,
  validateModelCommand,
  packageCommand,
  ociCommand,
  deployCommand,
  reportCommand,
  profileCommand,
  schemaCommand,
  historyCommand,
  serveCommand,
  smokeTestCommand,
  initCommand,
];

async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(renderMainHelp(COMMANDS, TOOL_VERSION));
    return name === undefined ? EXIT.usage : EXIT.passed;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${TOOL_VERSION}\n`);
    return EXIT.passed;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(
      `error: unknown command "${name}".${didYouMean(
        name,
        COMMANDS.map((c) => c.name),
      )} Run \`mlops --help\` for the commands.\n`,
    );
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

process.exitCode = await main(process.argv.slice(2));
