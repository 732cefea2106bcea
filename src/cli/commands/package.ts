import { ConfigurationError } from '../../core/errors.ts';
import { describeManifestGates } from '../../core/package/model-card.ts';
import { type Command, EXIT, requireFlag, stringFlag } from '../cli.ts';

export const packageCommand: Command = {
  name: 'package',
  takesArguments: true,
  summary:
    'Package an ONNX model (manifest, model card, reports, reproducible archive, provenance), or verify a package.',
  usage:
    'mlops package --model F --name N [--version V] [--reports DIR] [--profile F] [--contract F] [--out DIR] [--allow-failed-gates [--override-reason TEXT]]\n' +
    '       mlops package verify <folder|archive.zip>',
  flags: {
    model: {
      type: 'string',
      value: 'file',
      description: 'The ONNX model (its external-data files next to it).',
    },
    name: { type: 'string', value: 'name', description: 'Package name: lower case, digits, ".", "_", "-".' },
    version: {
      type: 'string',
      value: 'semver',
      description: 'Version (default: the tag vX.Y.Z on tag pushes, else 0.0.0-<commit>).',
    },
    reports: {
      type: 'string',
      value: 'dir',
      description: "Folder with this run's data- and model-validation reports.",
    },
    profile: {
      type: 'string',
      value: 'file',
      description: 'Training-data profile (mlops profile), for drift monitoring.',
    },
    contract: { type: 'string', value: 'file', description: 'Data contract, recorded in signature.json.' },
    out: {
      type: 'string',
      value: 'dir',
      description: 'Where the package folder, archive and provenance go (default: package).',
    },
    'allow-failed-gates': {
      type: 'boolean',
      description:
        'Package a model whose gate report failed (recorded, with who, in the manifest and the model card; deployments must override again).',
    },
    'override-reason': {
      type: 'string',
      value: 'text',
      description: 'Why failed gates are overridden (recorded with --allow-failed-gates).',
    },
  },
  details:
    'The archive is reproducible: the same inputs and commit give the same bytes (its sha256 is the package digest).\n' +
    "A failed gate report is refused without --allow-failed-gates; a model report of another model (its candidate's sha256) always is.\n" +
    'verify exits 0 when every digest matches, 1 when a file changed (each named), 2 when the path cannot be read.',
  async run(context) {
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { runPackage } = await import('../../core/flows/package.ts');
    const { verifyPackage } = await import('../../core/package/verify-package.ts');
    if (context.positionals[0] === 'verify') {
      const target = context.positionals[1];
      if (!target || context.positionals.length > 2) {
        throw new ConfigurationError(
          'mlops package verify: give one package folder or archive, e.g. `mlops package verify package/churn-1.0.0.zip`.',
        );
      }
      const result = await verifyPackage(target);
      context.print(
        result.passed
          ? `VERIFIED  ${target}: ${result.files} files match the manifest${result.digest ? `; package digest sha256:${result.digest}` : ''}\n` +
              `  gates: ${result.manifest ? describeManifestGates(result.manifest.gates) : 'unknown'}\n`
          : `FAILED  ${target}:\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`,
      );
      context.result(result);
      return result.passed ? EXIT.passed : EXIT.failed;
    }
    if (context.positionals.length > 0) {
      throw new ConfigurationError(
        `mlops package: unexpected argument "${context.positionals[0]}" (the only subcommand is verify). Run \`mlops package --help\`.`,
      );
    }
    const built = await runPackage({
      model: requireFlag(context, 'model', 'package'),
      name: requireFlag(context, 'name', 'package'),
      version: stringFlag(context, 'version'),
      reports: stringFlag(context, 'reports'),
      profile: stringFlag(context, 'profile'),
      contract: stringFlag(context, 'contract'),
      out: stringFlag(context, 'out') ?? 'package',
      allowFailedGates: context.flags['allow-failed-gates'] === true,
      overrideReason: stringFlag(context, 'override-reason'),
      cwd: process.cwd(),
      hostEnv: process.env,
      names: {
        model: '--model',
        reports: '--reports',
        profile: '--profile',
        contract: '--contract',
        out: '--out',
        allowFailedGates: '--allow-failed-gates',
        overrideReason: '--override-reason',
      },
    });
    context.print(
      `Packaged ${built.manifest.package.name} ${built.manifest.package.version}: ${built.archive}\n` +
        `  digest     sha256:${built.digest}\n  folder     ${built.directory}\n  provenance ${built.provenance}\n` +
        `  gates      ${built.gates}\n`,
    );
    context.result({
      directory: built.directory,
      archive: built.archive,
      digest: built.digest,
      manifest: built.manifest,
      packageRef: built.packageRef,
    });
    return EXIT.passed;
  },
};
