import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunnerError } from '../kernel/errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { Secret } from '../secret.js';
import { DEFAULT_STALE_AFTER_MS } from './health-check.js';
import type { Metrics } from './metrics.js';
import { healthRoutes } from './routes.js';
import type { DaemonStatus, HostStatus } from './status-types.js';

export interface HealthServerOptions {
  /** Interface to bind (default 127.0.0.1: status and metrics are not for the whole network). */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set, every route but /healthz and /readyz needs `Authorization: Bearer <token>`. */
  token?: Secret;
  /** Builds the snapshot; called on every request, never cached. */
  status: () => DaemonStatus;
  /** Cordons or uncordons a host (POST /api/hosts/NAME/cordon|uncordon); absent: those routes 404. */
  cordon?: (host: string, cordoned: boolean) => Promise<HostStatus>;
  metrics: Metrics;
  logger?: Logger;
  /** /healthz turns 503 when a scale set's last successful poll is older than this (default 95 s). */
  staleAfterMs?: number;
  /** Clock for staleness (tests). */
  now?: () => number;
}

export interface HealthServer extends AsyncDisposable {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A bad option, the port taken by another process, or another reason the port cannot be bound. */
export type HealthServerErrorCode = 'HEALTH_SERVER_OPTION' | 'HEALTH_PORT_IN_USE' | 'HEALTH_LISTEN_FAILED';

export class HealthServerError extends RunnerError {
  constructor(
    readonly code: HealthServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.logger ?? silentLogger;
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new HealthServerError(
      'HEALTH_SERVER_OPTION',
      `health port: expected an integer 0–65535, got ${opts.port}`,
    );
  }
  if (!(staleAfterMs > 0))
    throw new HealthServerError('HEALTH_SERVER_OPTION', `staleAfterMs: expected > 0, got ${staleAfterMs}`);
  if (opts.token?.empty)
    throw new HealthServerError(
      'HEALTH_SERVER_OPTION',
      'health token is empty; leave it unset to disable auth',
    );
  if (!opts.token && !LOOPBACK.has(host)) {
    log.warn(
      { host },
      'health server bound beyond loopback without a token: anyone who can reach it sees status',
    );
  }

  const handle = healthRoutes({
    token: opts.token,
    status: opts.status,
    ...(opts.cordon ? { cordon: opts.cordon } : {}),
    metrics: opts.metrics,
    logger: log,
    staleAfterMs,
    now: opts.now ?? Date.now,
  });
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  // A request that never finishes sending headers must not hold a socket forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new HealthServerError('HEALTH_PORT_IN_USE', `${host}:${opts.port} is in use by another process`, {
              cause: err,
            })
          : new HealthServerError(
              'HEALTH_LISTEN_FAILED',
              `cannot listen on ${host}:${opts.port}: ${err.message}`,
              {
                cause: err,
              },
            ),
      );
    server.once('error', fail);
    server.listen(opts.port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'health server error'));

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.debug({ url, staleAfterMs, auth: Boolean(opts.token) }, 'health server started');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // The dashboard's keep-alive connections would otherwise hold close() open until they time out.
      server.closeAllConnections();
    });
    return closing;
  };
  return { url, port, close, [Symbol.asyncDispose]: close };
}
