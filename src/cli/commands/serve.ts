import { REGISTRY_ENV } from '../../core/oci/defaults.ts';
import { DEFAULT_LIMITS } from '../../core/serve/limits.ts';
import type { PullPackage } from '../../core/serve/open-package.ts';
import { type Command, type CommandContext, EXIT, requireFlag, stringFlag } from '../cli.ts';

/** `mlops serve`: one package over the Open Inference Protocol v2 REST API, until SIGTERM or Ctrl-C. */
export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Serve a model package over the Open Inference Protocol v2 (KServe v2) REST API, with ONNX Runtime.',
  usage:
    'mlops serve --package <folder|archive.zip|oci://registry/repository:tag> [--host 127.0.0.1] [--port 8080] [--max-request-mb 16] [--plain-http]',
  flags: {
    package: {
      type: 'string',
      value: 'path',
      description:
        'The package: its folder, its .zip archive, or an oci:// reference pushed by `mlops oci push` (verified before serving).',
    },
    'plain-http': {
      type: 'boolean',
      description: 'With an oci:// package: plain http to a registry on loopback (default https).',
    },
    host: {
      type: 'string',
      value: 'address',
      description: 'Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).',
    },
    port: {
      type: 'string',
      value: 'port',
      description: 'Port to listen on (default 8080; 0 picks a free one).',
    },
    'max-request-mb': {
      type: 'string',
      value: 'MB',
      description: `Largest request body, in MiB (default ${DEFAULT_LIMITS.maxBodyBytes / 1024 / 1024}).`,
    },
  },
  details:
    'Endpoints: GET /v2, /v2/health/live, /v2/health/ready, /v2/models/<name>[/versions/<version>] and …/ready;\n' +
    'POST /v2/models/<name>[/versions/<version>]/infer. The name and version are the package’s. Requests are\n' +
    'checked against the protocol (its published OpenAPI description) and the model; mistakes are 400 with\n' +
    '{"error": …}. SIGTERM or Ctrl-C stops it gracefully: requests in flight are answered first.\n' +
    'There is no authentication: keep it on loopback, or behind something that authenticates.\n' +
    `An oci:// package is pulled with the credential in ${REGISTRY_ENV.username} and ${REGISTRY_ENV.password} when set.\n` +
    'Exit code 0 after a graceful stop, 2 when the package fails verification or cannot be served.',
  async run(context) {
    const reference = requireFlag(context, 'package', 'serve');
    // Loaded when the command runs, so `mlops --help` and the other commands start without it.
    const { startServing } = await import('../../core/flows/serve.ts');
    const serving = await startServing(
      {
        package: reference,
        host: stringFlag(context, 'host'),
        port: stringFlag(context, 'port'),
        maxRequestMb: stringFlag(context, 'max-request-mb'),
        names: { command: 'mlops serve', host: '--host', port: '--port', maxRequestMb: '--max-request-mb' },
      },
      { logger: context.logger, pull: pullFromRegistry(context) },
    );
    try {
      const { server, model, digest } = serving;
      if (serving.exposed) {
        process.stderr.write(
          `warning: listening on ${serving.host}: the server has no authentication; anyone who reaches ${server.url} can run the model.\n`,
        );
      }
      context.print(
        `Serving ${model.name} ${model.version} (Open Inference Protocol v2) at ${server.url}\n` +
          `  infer    POST ${server.url}/v2/models/${encodeURIComponent(model.name)}/infer\n` +
          `  package  ${reference}${digest ? ` (sha256:${digest})` : ''}: verified\n` +
          '  stop     Ctrl-C or SIGTERM (requests in flight are answered first)\n',
      );
      context.result({
        url: server.url,
        model: model.name,
        version: model.version,
        ...(digest ? { digest } : {}),
      });
      await waitForStop(server, context);
      return EXIT.passed;
    } finally {
      await serving.close();
    }
  },
};

/**
 * Pulls an `oci://` package into a temporary folder with the credential of `mlops oci` (its
 * environment variables) when one is set, else anonymously; `--plain-http` to a loopback registry.
 */
export function pullFromRegistry(context: CommandContext): PullPackage {
  // The OCI client is loaded only when a package is pulled.
  return async (...args) => {
    const { pullWithEnvironmentCredential } = await import('../../core/flows/oci.ts');
    const pull = pullWithEnvironmentCredential({
      hostEnv: process.env,
      plainHttp: context.flags['plain-http'] === true,
      logger: context.logger,
    });
    return pull(...args);
  };
}

/** Resolves once the server closed after SIGTERM or SIGINT; a second signal cuts what is left. */
function waitForStop(
  server: { close(): Promise<void>; abort(): void; inFlight(): number },
  context: CommandContext,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: closing every connection now.\n`);
        server.abort();
        return;
      }
      stopping = true;
      const busy = server.inFlight();
      process.stderr.write(
        `${signal}: stopping${busy > 0 ? `, answering ${busy} request${busy === 1 ? '' : 's'} in flight first` : ''}.\n`,
      );
      server.close().then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        context.logger.info('stopped');
        resolve();
      }, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
