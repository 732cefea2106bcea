/**
 * A small HTTP/1.1 client for an inference server: one keep-alive connection, JSON bodies, and the
 * round-trip time of each request (from sending it to having parsed the answer). Used by the smoke
 * test and the serving benchmark; node:http directly, because `fetch` adds ~0.3 ms per request on
 * loopback, which would blur a latency measured against a budget of a few milliseconds.
 */
import { Agent, request as httpRequest } from 'node:http';

/** One answer. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text. */
  text: string;
  /** The body as JSON; undefined when it is not JSON. */
  json: unknown;
  /** Round trip, in milliseconds: request sent to answer parsed. */
  ms: number;
}

export interface ProtocolClient {
  request(method: 'GET' | 'POST', path: string, body?: string): Promise<HttpAnswer>;
  /** Closes the connection. */
  close(): void;
}

/** A client of the server at `baseUrl` (http://host:port). Each request gives up after `timeoutMs`. */
export function createProtocolClient(baseUrl: string, options: { timeoutMs?: number } = {}): ProtocolClient {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    request(method, path, body) {
      return new Promise((resolve, reject) => {
        const started = performance.now();
        const headers: Record<string, string | number> = { accept: 'application/json' };
        if (body !== undefined) {
          headers['content-type'] = 'application/json';
          headers['content-length'] = Buffer.byteLength(body);
        }
        const req = httpRequest(
          { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, method, path, agent, headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text,
                json,
                ms: performance.now() - started,
              });
            });
          },
        );
        req.setTimeout(timeoutMs, () =>
          req.destroy(new Error(`no answer to ${method} ${path} within ${timeoutMs / 1000} s`)),
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
