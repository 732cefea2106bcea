import { CONFIG_DEFAULT_HELP } from '../../core/config/find-config.ts';
import type { SmokeTestRequestNames } from '../../core/serve/smoke-test-options.ts';
import { type Command, EXIT, stringFlag } from '../cli.ts';
import { pullFromRegistry } from './serve.ts';

const NAMES: SmokeTestRequestNames = {
  package: '--package',
  golden: '--golden',
  runs: '--runs',
  report: '--report',
};

/** `mlops smoke-test`: serve a package on loopback and check it as a client would. */
export const smokeTestCommand: Command = {
  name: 'smoke-test',
  summary:
    'Serve a package on loopback (Open Inference Protocol v2) and check health, metadata, parity and latency.',
  usage:
    'mlops smoke-test --package <folder|archive.zip|oci://…> [--golden build/golden.json] [--config mlops.yaml] [--runs 200] [--report out.json]',
  flags: {
    package: {
      type: 'string',
      value: 'path',
      description: 'The package: its folder, its .zip archive or an oci:// reference (verified first).',
    },
    'plain-http': {
      type: 'boolean',
      description: 'With an oci:// package: plain http to a registry on loopback (default https).',
    },
    golden: {
      type: 'string',
      value: 'file',
      description:
        'Golden inputs and outputs (format mlops-golden) when the package carries none (default: model.golden.path of the config).',
    },
    config: {
      type: 'string',
      value: 'file',
      description: `mlops.yaml: model.budgets.latency-p95-ms and model.golden (path, atol, rtol)${CONFIG_DEFAULT_HELP}`,
    },
    runs: {
      type: 'string',
      value: 'n',
      description: 'Timed one-row infer requests for the latency (default 200).',
    },
    report: { type: 'string', value: 'file', description: 'Write the JSON report (kind smoke-test) here.' },
  },
  details:
    'Checks, in order: package (every digest), load (ONNX Runtime loads the model, the server starts), health\n' +
    '(live, ready, model ready, server metadata), metadata (inputs and outputs as the package’s signature\n' +
    'records), parity (infer on the golden inputs gives the golden outputs within atol + rtol·|expected|;\n' +
    'tolerances from model.golden, else the package’s model report, else 1e-5 and 1e-4) and latency (p95 of\n' +
    'one-row infer round trips, client time included, against model.budgets.latency-p95-ms, else the budget\n' +
    'the package’s model report recorded). Without a golden file or a budget, that check is skipped, and says so.\n' +
    'Exit code 0 when no check failed, 1 when one did, 2 for a usage or input error.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runPackageSmokeTest } = await import('../../core/flows/smoke-test.ts');
    const { renderSmokeTestText } = await import('../../core/serve/smoke-test.ts');
    const { report, reportPath, outputs } = await runPackageSmokeTest(
      {
        config: stringFlag(context, 'config'),
        cwd: process.cwd(),
        package: stringFlag(context, 'package'),
        golden: stringFlag(context, 'golden'),
        runs: stringFlag(context, 'runs'),
        report: stringFlag(context, 'report'),
        names: NAMES,
      },
      { logger: context.logger, pull: pullFromRegistry(context) },
    );
    context.print(renderSmokeTestText(report, reportPath));
    context.result(report);
    return outputs.passed ? EXIT.passed : EXIT.failed;
  },
};
