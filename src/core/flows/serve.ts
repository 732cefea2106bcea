/**
 * Serving a package as one flow, behind `mlops serve`: the address and the request limit are checked
 * before the package is opened (host 127.0.0.1 and port 8080 unless the request says otherwise), the
 * package is opened and verified (an `oci://` one pulled through the port), its model loaded into
 * ONNX Runtime and served over the Open Inference Protocol. The adapter maps its flags to the
 * request, prints where it serves and stops it on a signal.
 */
import { ConfigurationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  createServedModel,
  type OpenedPackage,
  openPackage,
  type PullPackage,
} from '../serve/open-package.ts';
import { onnxRuntimeSessions, type ServedModel } from '../serve/served-model.ts';
import { type InferenceServer, startInferenceServer } from '../serve/server.ts';

/** Addresses only this machine can reach. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/** How the adapter names its command and flags, for messages (`mlops serve`, `--port`, …). */
export interface ServeNames {
  command: string;
  host: string;
  port: string;
  maxRequestMb: string;
}

export interface ServeRequest {
  /** The package folder, its .zip archive or an `oci://` reference. */
  package: string;
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** The port, as the user wrote it (default 8080; 0 picks a free one). */
  port?: string;
  /** The largest request body in MiB, as the user wrote it (default: the server's). */
  maxRequestMb?: string;
  names: ServeNames;
}

export interface ServePorts {
  logger: Logger;
  /** Pulls an `oci://` package into a folder; without it such a reference is refused. */
  pull?: PullPackage;
}

/** A package being served. */
export interface Serving {
  server: InferenceServer;
  model: ServedModel;
  /** The package archive's sha256, when it was opened from one. */
  digest?: string;
  host: string;
  /** Listening beyond this machine, with no authentication. */
  exposed: boolean;
  /** Releases the package (its temporary folder) once the server is closed. */
  close(): Promise<void>;
}

/**
 * Starts serving the request's package. Throws `ConfigurationError` naming the flag for a bad port or
 * limit (before the package is opened) and an address that cannot be listened on; `InputError` for a
 * package that fails verification. Nothing is left open when it throws.
 */
export async function startServing(request: ServeRequest, ports: ServePorts): Promise<Serving> {
  const { names } = request;
  const host = request.host ?? '127.0.0.1';
  const port = parsePort(request.port, names);
  const maxMb = parsePositive(request.maxRequestMb, names.maxRequestMb, names);
  const pkg = await openPackage(request.package, ports.pull ? { pull: ports.pull } : {});
  try {
    const model = await createServedModel(pkg, onnxRuntimeSessions);
    let server: InferenceServer;
    try {
      server = await startInferenceServer({
        model,
        host,
        port,
        logger: ports.logger,
        limits: maxMb === undefined ? {} : { maxBodyBytes: Math.round(maxMb * 1024 * 1024) },
      });
    } catch (error) {
      await model.session.release();
      throw error instanceof ConfigurationError
        ? new ConfigurationError(`${names.command}: ${error.message} (${names.host}, ${names.port})`)
        : error;
    }
    warnOfSkippedOutputs(pkg, ports.logger);
    return {
      server,
      model,
      ...(pkg.digest ? { digest: pkg.digest } : {}),
      host,
      exposed: !LOOPBACK_HOSTS.includes(host),
      close: () => pkg.close(),
    };
  } catch (error) {
    await pkg.close();
    throw error;
  }
}

function warnOfSkippedOutputs(pkg: OpenedPackage, logger: Logger): void {
  for (const output of pkg.tensors.skippedOutputs) {
    logger.warning(
      `output "${output.name}" (${output.type}) is not a tensor: ONNX Runtime's Node binding cannot return it, so it is not served.`,
    );
  }
}

function parsePort(text: string | undefined, names: ServeNames): number {
  if (text === undefined) return 8080;
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(port) || port > 65535) {
    throw new ConfigurationError(
      `${names.command}: ${names.port} must be a whole number from 0 to 65535; got "${text}".`,
    );
  }
  return port;
}

function parsePositive(text: string | undefined, name: string, names: ServeNames): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(`${names.command}: ${name} must be a positive number; got "${text}".`);
  }
  return value;
}
