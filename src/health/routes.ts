import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode } from '../kernel/errors.js';
import type { Logger } from '../log.js';
import type { Secret } from '../secret.js';
import { bearerOf, tokenMatches } from './auth.js';
import { dashboardPage } from './dashboard/page.js';
import { checkHealth, checkReadiness, withJudgedHealth } from './health-check.js';
import type { Metrics } from './metrics.js';
import type { DaemonStatus, HostStatus } from './status-types.js';

export interface RouteOptions {
  token?: Secret;
  status: () => DaemonStatus;
  /** Cordons or uncordons a host; absent: POST /api/hosts/… answers 404. */
  cordon?: (host: string, cordoned: boolean) => Promise<HostStatus>;
  metrics: Metrics;
  logger: Logger;
  staleAfterMs: number;
  now: () => number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function send(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(code, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const json = (req: IncomingMessage, res: ServerResponse, code: number, value: unknown, headers = {}) =>
  send(req, res, code, JSON_TYPE, `${JSON.stringify(value)}\n`, headers);

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

const CORDON_PATH = /^\/api\/hosts\/([^/]+)\/(cordon|uncordon)$/;

const LOOPBACK_PEER = /^(127\.|::1$|::ffff:127\.)/;

/** Whether a peer address is on loopback (IPv4, IPv6, or IPv4 mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK_PEER.test(address);
}

function unauthorized(req: IncomingMessage, res: ServerResponse): void {
  json(
    req,
    res,
    401,
    { error: 'unauthorized: send Authorization: Bearer <health token>' },
    { 'www-authenticate': 'Bearer realm="runner"' },
  );
}

/** The request handler of the health server; exported for tests and for embedding in another server. */
export function healthRoutes(o: RouteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const listened = new Set<string>();

  /** /healthz and /readyz stay open: probes and load balancers rarely carry credentials. */
  function probe(req: IncomingMessage, res: ServerResponse, path: string): void {
    let status: DaemonStatus;
    try {
      status = o.status();
    } catch (err) {
      o.logger.error({ err }, 'status snapshot failed');
      json(req, res, 503, { status: 'unhealthy', error: `status snapshot failed: ${errorText(err)}` });
      return;
    }
    const report =
      path === '/healthz' ? checkHealth(status, o.now(), o.staleAfterMs) : checkReadiness(status, listened);
    json(req, res, report.status === 'ok' || report.status === 'ready' ? 200 : 503, report);
  }

  function authorized(req: IncomingMessage): boolean {
    return !o.token || tokenMatches(bearerOf(req.headers.authorization), o.token);
  }

  /**
   * POST /api/hosts/NAME/cordon|uncordon. Changes what the daemon does, so with no token configured
   * only a peer on loopback may ask (a health server bound beyond loopback without a token shows status
   * to anyone who can reach it, and must not let them steer placement too).
   */
  async function cordon(req: IncomingMessage, res: ServerResponse, name: string, on: boolean): Promise<void> {
    if (!o.token && !isLoopback(req.socket.remoteAddress)) {
      json(req, res, 403, {
        error: 'forbidden: set health-token to cordon hosts from another machine',
      });
      return;
    }
    if (!o.cordon) {
      json(req, res, 404, { error: 'this daemon has no hosts to cordon' });
      return;
    }
    try {
      json(req, res, 200, { host: await o.cordon(name, on) });
    } catch (err) {
      const code = errorCode(err);
      const status = code === 'HOST_UNKNOWN' || code === 'HOST_UNSUPPORTED' ? 404 : 500;
      if (status === 500) o.logger.error({ err, host: name }, 'cordon failed');
      json(req, res, status, { error: errorText(err), ...(code ? { code } : {}) });
    }
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://health.invalid');
    const cordonPath = CORDON_PATH.exec(url.pathname);
    if (cordonPath) {
      if (req.method !== 'POST') {
        json(req, res, 405, { error: 'method not allowed' }, { allow: 'POST' });
        return;
      }
      if (!authorized(req)) {
        unauthorized(req, res);
        return;
      }
      let name: string;
      try {
        name = decodeURIComponent(cordonPath[1] as string);
      } catch {
        json(req, res, 400, { error: `not a host name: ${cordonPath[1]}` });
        return;
      }
      await cordon(req, res, name, cordonPath[2] === 'cordon');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(req, res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    if (url.pathname === '/healthz' || url.pathname === '/readyz') {
      probe(req, res, url.pathname);
      return;
    }
    if (url.pathname === '/') {
      // The page is a static shell with no data in it; its data comes from /api/status with the bearer
      // token. It has to load without one: a browser cannot send a header when opening a URL, and
      // after the page moved `?token=` into sessionStorage a reload arrives without it.
      const page = dashboardPage();
      send(req, res, 200, 'text/html; charset=utf-8', page.html, {
        'content-security-policy': page.contentSecurityPolicy,
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      });
      return;
    }
    if (!authorized(req)) {
      unauthorized(req, res);
      return;
    }
    try {
      switch (url.pathname) {
        case '/metrics':
          send(req, res, 200, o.metrics.contentType, await o.metrics.scrape(o.status()));
          return;
        case '/api/hosts':
          json(req, res, 200, { hosts: o.status().hosts ?? [] });
          return;
        case '/api/status':
          json(req, res, 200, withJudgedHealth(o.status(), o.now(), o.staleAfterMs));
          return;
        default:
          json(req, res, 404, { error: `not found: ${url.pathname}` });
      }
    } catch (err) {
      o.logger.error({ err, path: url.pathname }, 'health server request failed');
      if (!res.headersSent) json(req, res, 500, { error: errorText(err) });
      else res.destroy();
    }
  };
}
