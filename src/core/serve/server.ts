/**
 * An Open Inference Protocol v2 (KServe v2) REST server for one model, over node:http:
 *
 *   GET  /v2                                   server metadata
 *   GET  /v2/health/live, /v2/health/ready     liveness and readiness
 *   GET  /v2/models/{name}[/versions/{v}]      model metadata (inputs/outputs, -1 for variable dimensions)
 *   GET  /v2/models/{name}[/versions/{v}]/ready
 *   POST /v2/models/{name}[/versions/{v}]/infer
 *
 * Requests are bounded: a body larger than `maxBodyBytes` is refused from its Content-Length (or
 * as soon as it grows past it) without being read; a body not received within `bodyTimeoutMs` is
 * refused; all bodies held at once are capped by `maxBufferedBytes` (busy: 503). Errors are
 * `{"error": message}`: 400 for a request the model cannot take, 404 for an unknown path, model or
 * version, 405 for a wrong method. `close()` shuts down gracefully: no new connections, requests in
 * flight are answered (then their connections close), idle keep-alive connections close at once,
 * and after `shutdownTimeoutMs` whatever is left is cut.
 *
 * The model and its session come in as a {@link ServedModel}: the server is the same over
 * onnxruntime-node or over any other session (tests).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigurationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.ts';
import {
  describeTensor,
  encodeInferenceResponse,
  ProtocolError,
  parseInferenceRequest,
} from './open-inference.ts';
import type { ServedModel } from './served-model.ts';

export { DEFAULT_LIMITS, type ServerLimits };

export interface InferenceServerOptions {
  model: ServedModel;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  logger: Logger;
  limits?: Partial<ServerLimits>;
}

export interface InferenceServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  /** Requests being answered now. */
  inFlight(): number;
  /**
   * Shuts down gracefully (see the module comment) and releases the model's session; resolves when
   * the last connection is closed. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Cuts every connection now (a second signal while closing). */
  abort(): void;
}

/** The paths of the protocol, parsed. */
type Route =
  | { kind: 'server-metadata' }
  | { kind: 'live' }
  | { kind: 'ready' }
  | { kind: 'model-metadata' | 'model-ready' | 'infer'; name: string; version?: string };

/** Starts the server; throws `ConfigurationError` when it cannot listen (port in use, no such address). */
export async function startInferenceServer(options: InferenceServerOptions): Promise<InferenceServer> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const { model, logger } = options;
  const host = options.host ?? '127.0.0.1';
  let draining = false;
  let inFlight = 0;
  let buffered = 0;
  const metadataBody = JSON.stringify({
    name: model.name,
    versions: [model.version],
    platform: model.platform,
    inputs: model.inputs.map(describeTensor),
    outputs: model.outputs.map(describeTensor),
    ...(Object.keys(model.properties).length > 0 ? { properties: model.properties } : {}),
  });
  const serverBody = JSON.stringify({ name: TOOL_NAME, version: TOOL_VERSION, extensions: [] });

  const send = (res: ServerResponse, status: number, body: string, close = false): void => {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (close || draining) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  };
  const sendError = (res: ServerResponse, status: number, message: string, close = false): void =>
    send(res, status, JSON.stringify({ error: message }), close);

  const checkModel = (route: { name: string; version?: string }): void => {
    if (route.name !== model.name) {
      throw new ProtocolError(
        404,
        `Unknown model "${route.name}": this server serves "${model.name}" (version ${model.version}).`,
      );
    }
    if (route.version !== undefined && route.version !== model.version) {
      throw new ProtocolError(
        404,
        `Unknown version "${route.version}" of model "${model.name}": this server serves version ${model.version}.`,
      );
    }
  };

  const infer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers['inference-header-content-length'] !== undefined) {
      throw new ProtocolError(
        400,
        'The binary tensor data extension (Inference-Header-Content-Length) is not supported: send the request as JSON.',
        { closeConnection: true },
      );
    }
    const body = await readBody(req);
    const request = parseInferenceRequest(body, model);
    let results: Awaited<ReturnType<ServedModel['session']['run']>>;
    try {
      results = await model.session.run(request.feeds, request.outputs);
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      logger.debug(`infer: the runtime refused a request: ${reason}`);
      throw new ProtocolError(
        400,
        `ONNX Runtime cannot run model "${model.name}" on this request: ${reason}`,
      );
    }
    send(res, 200, encodeInferenceResponse(model, request, results));
  };

  /** The body as text, within the limits; throws `ProtocolError`s that close the connection. */
  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const declared = req.headers['content-length'];
      const length = declared === undefined ? undefined : Number(declared);
      const tooLarge = (size: string) =>
        new ProtocolError(
          400,
          `The request body has ${size} bytes, more than this server's limit of ${limits.maxBodyBytes}.`,
          { closeConnection: true },
        );
      if (length !== undefined && length > limits.maxBodyBytes) {
        reject(tooLarge(String(length)));
        return;
      }
      const reserve = length ?? 0;
      if (buffered + reserve > limits.maxBufferedBytes) {
        reject(
          new ProtocolError(503, 'The server is busy reading other requests: retry shortly.', {
            closeConnection: true,
          }),
        );
        return;
      }
      buffered += reserve;
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        buffered -= reserve;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('aborted', onAborted);
        if (error) {
          req.pause();
          reject(error);
        } else {
          resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'));
        }
      };
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBodyBytes) finish(tooLarge(`more than ${limits.maxBodyBytes}`));
        else chunks.push(chunk);
      };
      const onEnd = () => finish();
      const onAborted = () => finish(new ProtocolError(400, 'The client closed the connection.'));
      const timer = setTimeout(
        () =>
          finish(
            new ProtocolError(
              400,
              `The request body was not received within ${limits.bodyTimeoutMs / 1000} s (${received} bytes arrived).`,
              { closeConnection: true },
            ),
          ),
        limits.bodyTimeoutMs,
      );
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('aborted', onAborted);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = parseRoute(req.url ?? '/');
    if (!route) throw new ProtocolError(404, `No such path: ${(req.url ?? '').slice(0, 200)}. ${PATHS_HINT}`);
    const method = req.method ?? 'GET';
    const wanted = route.kind === 'infer' ? 'POST' : 'GET';
    if (method !== wanted) {
      res.setHeader('allow', wanted);
      throw new ProtocolError(405, `${method} is not allowed on ${req.url}: use ${wanted}.`, {
        closeConnection: method !== 'GET' && method !== 'HEAD',
      });
    }
    if (draining && route.kind !== 'live') {
      throw new ProtocolError(503, 'The server is shutting down.', { closeConnection: true });
    }
    switch (route.kind) {
      case 'server-metadata':
        return send(res, 200, serverBody);
      case 'live':
        return send(res, 200, '{"live":true}');
      case 'ready':
        return send(res, 200, '{"live":true,"ready":true}');
      case 'model-metadata':
        checkModel(route);
        return send(res, 200, metadataBody);
      case 'model-ready':
        checkModel(route);
        return send(res, 200, JSON.stringify({ name: model.name, ready: true }));
      case 'infer':
        checkModel(route);
        return infer(req, res);
    }
  };

  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      // A backstop: the body timer answers first, with a JSON error.
      requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs + 5_000,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      noDelay: true,
    },
    (req, res) => {
      inFlight++;
      res.once('close', () => inFlight--);
      handle(req, res).catch((error: unknown) => {
        if (error instanceof ProtocolError) {
          sendError(res, error.status, error.message, error.closeConnection);
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        logger.warning(`internal error answering ${req.method} ${req.url}: ${message}`);
        sendError(res, 500, `Internal error of the server: ${message}`, true);
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed HTTP, headers too large, or too slow: a JSON error when the socket still takes one.
    const status =
      error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      const body = JSON.stringify({ error: `Bad HTTP request (${error.code ?? error.message}).` });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${host}:${options.port ?? 0}`;
      reject(
        new ConfigurationError(
          error.code === 'EADDRINUSE'
            ? `Port ${options.port} on ${host} is in use: choose another port (or stop what listens there).`
            : error.code === 'EACCES'
              ? `Listening on ${where} is not permitted (${error.code}): choose a port above 1023.`
              : `Cannot listen on ${where}: ${error.message}. Give an address of this machine (e.g. 127.0.0.1 or 0.0.0.0).`,
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    inFlight: () => inFlight,
    close() {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive connections with no request in flight close now; busy ones after their answer.
        server.closeIdleConnections();
        const cut = setTimeout(() => server.closeAllConnections(), limits.shutdownTimeoutMs);
        await closed;
        clearTimeout(cut);
        await model.session.release();
      })();
      return closing;
    },
    abort() {
      draining = true;
      server.close();
      server.closeAllConnections();
    },
  };
}

const PATHS_HINT =
  'The Open Inference Protocol paths are /v2, /v2/health/live, /v2/health/ready, /v2/models/{name}[/versions/{version}], …/ready and …/infer.';

/** The protocol route of a request URL (query ignored), or undefined. */
export function parseRoute(url: string): Route | undefined {
  const query = url.indexOf('?');
  const path = query >= 0 ? url.slice(0, query) : url;
  const parts = path.split('/');
  // A trailing slash is the same path: the description writes /v2/, the prose /v2.
  if (parts.length > 2 && parts.at(-1) === '') parts.pop();
  if (parts[0] !== '' || parts[1] !== 'v2') return undefined;
  if (parts.length === 2) return { kind: 'server-metadata' };
  if (parts[2] === 'health' && parts.length === 4) {
    if (parts[3] === 'live') return { kind: 'live' };
    if (parts[3] === 'ready') return { kind: 'ready' };
    return undefined;
  }
  if (parts[2] !== 'models' || parts.length < 4) return undefined;
  let name: string;
  let version: string | undefined;
  let rest = parts.slice(4);
  try {
    name = decodeURIComponent(parts[3]);
    if (rest[0] === 'versions') {
      if (rest.length < 2) return undefined;
      version = decodeURIComponent(rest[1]);
      rest = rest.slice(2);
    }
  } catch {
    return undefined;
  }
  if (name === '' || version === '') return undefined;
  const target = { name, ...(version !== undefined ? { version } : {}) };
  if (rest.length === 0) return { kind: 'model-metadata', ...target };
  if (rest.length === 1 && rest[0] === 'ready') return { kind: 'model-ready', ...target };
  if (rest.length === 1 && rest[0] === 'infer') return { kind: 'infer', ...target };
  return undefined;
}
