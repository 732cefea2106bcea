/**
 * The server's limits and their defaults: constants only, so that the CLI's help can show them
 * without loading the server (and node:http with it) at start.
 */

/** Bounds on what one request, and all of them, may take. */
export interface ServerLimits {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Time to receive a body once its headers arrived, in ms. */
  bodyTimeoutMs: number;
  /** Time to receive a request's headers, in ms. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms. */
  keepAliveTimeoutMs: number;
  /** Bytes of request bodies held in memory at once, over all connections (more: 503). */
  maxBufferedBytes: number;
  /** Connections at once (more are dropped by the server). */
  maxConnections: number;
  /** How long `close()` waits for requests in flight before cutting them, in ms. */
  shutdownTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxConnections: 1024,
  // Kubernetes gives a pod 30 s between SIGTERM and SIGKILL by default.
  shutdownTimeoutMs: 25_000,
};
